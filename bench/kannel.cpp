// bench-kannel: SMS through the Kannel gateway against posting straight to Kannel's sendsms
// (issue 6), both to the same real Kannel (tests/rigs/kannel_rig.py: bearerbox + smsbox +
// fakesmsc) in the same run. Run by hand (bench/run.sh runs it too), never in CI.
//
//   bench-kannel [--messages N] [--connections C] [--rounds R] [--dir DIR]
//
// The two runs alternate R times (default 3; each with a fresh Kannel) and the median of each
// is reported, so a burst of load on the shared machine does not decide the ratio.
//  (l) a campaign of N SMS (default 10,000) to a group of N contacts through a `kannel`
//      provider with C connections (default 8): from start() until every message reached
//      the SMSC (fakesmsc) and the campaign completed. No report URL is published, so
//      smsbox's 202 completes each attempt.
//  (m) baseline: the same N sendsms requests posted by libcurl's multi interface on C
//      keep-alive connections, until every message reached the SMSC.
#include "bench_support.hpp"
#include "kannel_rig.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <curl/curl.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <condition_variable>
#include <iostream>
#include <mutex>

namespace {

using namespace bench;
using namespace std::chrono_literals;

constexpr const char* text = "Your verification code is 4242. It expires in 10 minutes.";

struct Args {
    std::int64_t messages = 10000;
    long connections = 8;
    int rounds = 3;
    std::filesystem::path dir;
};

struct Timing {
    double accepted = 0;  // until ictcore's campaign completed / the last 202 came back
    double reached = 0;   // until fakesmsc had every message
};

void wait_reached(const ictcore::test::KannelRig& rig, const Args& args) {
    if (!rig.wait_for_messages(static_cast<std::size_t>(args.messages), 10min)) {
        throw std::runtime_error("not every message reached the SMSC");
    }
}

Timing run_ictcore(const Args& args, const std::filesystem::path& dir) {
    ictcore::test::KannelRig rig(dir / "kannel");
    ictcore::Options o;
    o.data_dir = dir / "data";
    o.admin_password = "bench-admin-password";
    o.password_cost = ictcore::PasswordCost::minimal;
    o.seed_loopback_providers = false;
    ictcore::Core core(o);
    const auto admin = core.auth().from_password("admin", *o.admin_password);
    ictcore::Provider p;
    p.name = "kannel";
    p.type = "kannel";
    p.service_flag = ictcore::service::sms;
    p.username = rig.user();
    p.password = rig.password();
    p.host = "127.0.0.1";
    p.port = rig.sendsms_port();
    p.settings = fmt::format(R"({{"smsc": "fake1", "sender": "ICT", "connections": {}}})", args.connections);
    core.providers().create(admin, p);
    ictcore::Text t;
    t.name = "bench";
    t.data = text;
    ictcore::Program program;
    program.name = "bench";
    program.text_id = core.texts().create(admin, t);
    const auto program_id = core.programs().create(admin, "sendsms", program);
    ictcore::Group group;
    group.name = "bench";
    const auto group_id = core.groups().create(admin, group);
    core.groups().import_csv(admin, group_id, numbered_contacts_csv(args.messages));
    ictcore::Campaign campaign;
    campaign.program_id = program_id;
    campaign.group_id = group_id;
    const auto campaign_id = core.campaigns().create(admin, campaign);

    std::mutex mutex;
    std::condition_variable changed;
    std::string status;
    core.campaigns().on_progress([&](const ictcore::CampaignProgress& progress) {
        std::lock_guard lock(mutex);
        status = progress.status;
        changed.notify_all();
    });
    Timing timing;
    const auto start = Clock::now();
    core.campaigns().start(admin, campaign_id);
    {
        std::unique_lock lock(mutex);
        if (!changed.wait_for(lock, 30min, [&] { return status == "completed" || status == "broken"; })) {
            throw std::runtime_error("the SMS campaign did not complete");
        }
    }
    timing.accepted = seconds_since(start);
    wait_reached(rig, args);
    timing.reached = seconds_since(start);
    core.campaigns().on_progress({});
    const auto got = core.campaigns().get(admin, campaign_id);
    if (got.completed != args.messages) {
        throw std::runtime_error(fmt::format("{} of {} SMS completed", got.completed, args.messages));
    }
    return timing;
}

size_t discard(char*, size_t size, size_t count, void*) { return size * count; }

Timing run_direct(const Args& args, const std::filesystem::path& dir) {
    ictcore::test::KannelRig rig(dir / "kannel");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM* multi = curl_multi_init();
    std::vector<std::string> urls;
    urls.reserve(static_cast<std::size_t>(args.messages));
    char* escaped = curl_easy_escape(nullptr, text, 0);
    for (std::int64_t i = 0; i < args.messages; ++i) {
        urls.push_back(
            fmt::format("http://127.0.0.1:{}/cgi-bin/sendsms?username={}&password={}&to=%2B1415{:07}"
                        "&from=ICT&smsc=fake1&text={}",
                        rig.sendsms_port(), rig.user(), rig.password(), i, escaped));
    }
    curl_free(escaped);
    std::vector<CURL*> handles;
    std::size_t next = 0;
    std::int64_t accepted = 0;
    const auto add = [&](CURL* h) {
        curl_easy_setopt(h, CURLOPT_URL, urls[next++].c_str());
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        curl_multi_add_handle(multi, h);
    };
    Timing timing;
    const auto start = Clock::now();
    for (long c = 0; c < args.connections && next < urls.size(); ++c) {
        handles.push_back(curl_easy_init());
        add(handles.back());
    }
    int running = 1;
    while (running > 0 || next < urls.size()) {
        curl_multi_perform(multi, &running);
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result != CURLE_OK || code != 202) {
                throw std::runtime_error(
                    fmt::format("sendsms answered {} ({})", code, curl_easy_strerror(msg->data.result)));
            }
            ++accepted;
            CURL* h = msg->easy_handle;
            curl_multi_remove_handle(multi, h);
            if (next < urls.size()) {
                add(h);
                running = 1;
            }
        }
        if (running > 0) curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
    timing.accepted = seconds_since(start);
    wait_reached(rig, args);
    timing.reached = seconds_since(start);
    for (CURL* h : handles) curl_easy_cleanup(h);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    if (accepted != args.messages) throw std::runtime_error("not every sendsms request was accepted");
    return timing;
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    const char* tmp = std::getenv("TMPDIR");
    args.dir = tmp && *tmp ? tmp : "/tmp";
    CLI::App app{"bench-kannel: SMS through the Kannel gateway against posting straight to sendsms"};
    app.add_option("--messages", args.messages, "messages in each run")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--connections", args.connections, "HTTP connections to smsbox, in both runs")
        ->capture_default_str()
        ->check(CLI::Range(1L, 64L));
    app.add_option("--rounds", args.rounds, "alternating runs of each; the medians are reported")
        ->capture_default_str()
        ->check(CLI::Range(1, 9));
    app.add_option("--dir", args.dir, "directory for the scratch data")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    std::filesystem::path dir;
    int status = 0;
    try {
        dir = make_scratch_dir(args.dir, "ictcore-bench-kannel");
        std::vector<Timing> ms, ls;
        for (int round = 1; round <= args.rounds; ++round) {
            std::cerr << "[bench-kannel] round " << round << ": (m) " << args.messages
                      << " sendsms requests straight to Kannel\n";
            ms.push_back(run_direct(args, dir / fmt::format("m{}", round)));
            std::cerr << "[bench-kannel] round " << round << ": (l) campaign of " << args.messages
                      << " SMS through the Kannel gateway\n";
            ls.push_back(run_ictcore(args, dir / fmt::format("l{}", round)));
            std::cerr << fmt::format("[bench-kannel] round {}: m {:.2f} s, l {:.2f} s\n", round, ms.back().reached,
                                     ls.back().reached);
        }
        const auto median = [](std::vector<Timing> runs) {
            std::sort(runs.begin(), runs.end(), [](const Timing& a, const Timing& b) { return a.reached < b.reached; });
            return runs[runs.size() / 2];
        };
        const auto m = median(ms);
        const auto l = median(ls);
        const double n = static_cast<double>(args.messages);
        const double rate_l = n / l.reached;
        const double rate_m = n / m.reached;
        const std::string count = num(n);
        std::cout << "| (l) campaign of " << count << " SMS through the Kannel gateway (" << args.connections
                  << " connections) to bearerbox + fakesmsc, median of " << args.rounds << " | " << num(rate_l)
                  << " SMS/s at the SMSC (" << fixed(l.reached, 2) << " s; campaign completed at "
                  << fixed(l.accepted, 2) << " s) | | |\n";
        std::cout << "| (m) baseline: the same " << count << " sendsms requests from libcurl multi on "
                  << args.connections << " keep-alive connections, median of " << args.rounds << " | " << num(rate_m)
                  << " SMS/s at the SMSC (" << fixed(m.reached, 2) << " s; all accepted at " << fixed(m.accepted, 2)
                  << " s) | baseline | |\n";
        std::cout << "| **l/m** | **" << fixed(rate_l / rate_m, 2) << "** | ≥ 0.8 | " << verdict(rate_l / rate_m >= 0.8)
                  << " |\n";
    } catch (const std::exception& e) {
        std::cerr << "bench-kannel: " << e.what() << '\n';
        status = 1;
    }
    if (!dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    return status;
}

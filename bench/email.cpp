// bench-email: e-mail through the SMTP gateway against a plain libcurl loop (issue 6), both
// to the same local SMTP server (tests/rigs/smtp_rig.py, aiosmtpd) in the same run. Run by
// hand (bench/run.sh runs it too), never in CI.
//
//   bench-email [--messages N] [--dir DIR]
//
//  (j) a campaign of N e-mails (default 1,000): a template with an HTML body, a text part and
//      a 4 KB attachment, to a group of N contacts, through an `smtp` provider: from start()
//      until the campaign completes. Messages per second.
//  (k) baseline: one libcurl easy handle sending N messages of the same shape (multipart
//      alternative + the same attachment) one after another to the same server.
#include "bench_support.hpp"
#include "rig_process.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <curl/curl.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <condition_variable>
#include <iostream>
#include <mutex>

namespace {

using namespace bench;
using namespace std::chrono_literals;

struct Args {
    std::int64_t messages = 1000;
    std::filesystem::path dir;
};

std::string attachment_bytes() {
    std::string a;
    for (int i = 0; i < 4096; ++i) a += static_cast<char>((i * 7919) % 256);
    return a;
}

std::size_t count_messages(const std::filesystem::path& maildir) {
    std::size_t n = 0;
    std::error_code ec;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(maildir / "new", ec)) ++n;
    return n;
}

std::unique_ptr<ictcore::test::RigProcess> start_smtp(const std::filesystem::path& maildir) {
    std::filesystem::create_directories(maildir.parent_path());
    return std::make_unique<ictcore::test::RigProcess>(std::vector<std::string>{
        "/usr/bin/python3", std::string(ICTCORE_TEST_RIGS) + "/smtp_rig.py", maildir.string()});
}

double run_ictcore(const Args& args, const std::filesystem::path& dir) {
    auto smtp = start_smtp(dir / "maildir");
    ictcore::Options o;
    o.data_dir = dir / "data";
    o.admin_password = "bench-admin-password";
    o.password_cost = ictcore::PasswordCost::minimal;
    o.seed_loopback_providers = false;
    ictcore::Core core(o);
    const auto admin = core.auth().from_password("admin", *o.admin_password);
    ictcore::Provider p;
    p.name = "local smtp";
    p.type = "smtp";
    p.service_flag = ictcore::service::email;
    p.username = "bench";
    p.host = "127.0.0.1";
    p.port = smtp->port();
    p.settings = R"({"tls": "none", "from": "bench@example.com"})";
    core.providers().create(admin, p);
    ictcore::Template t;
    t.name = "bench";
    t.subject = "Your invoice, [contact:first_name]";
    t.body = "<p>Dear [contact:first_name],</p><p>your invoice is attached.</p>";
    t.body_alt = "Dear [contact:first_name],\nyour invoice is attached.";
    const auto template_id = core.templates().create(admin, t);
    const auto attachment = attachment_bytes();
    core.templates().put_media(admin, template_id, ictcore::Upload{attachment, "application/pdf", "invoice.pdf"});
    ictcore::Program program;
    program.name = "bench";
    program.template_id = template_id;
    const auto program_id = core.programs().create(admin, "sendemail", program);
    ictcore::Group group;
    group.name = "bench";
    const auto group_id = core.groups().create(admin, group);
    std::string csv;
    for (std::int64_t i = 0; i < args.messages; ++i) {
        csv += fmt::format("+1415555{:04},Reader{},,ok-{}@example.com\n", i % 10000, i, i);
    }
    core.groups().import_csv(admin, group_id, csv);
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
    const auto start = Clock::now();
    core.campaigns().start(admin, campaign_id);
    std::unique_lock lock(mutex);
    if (!changed.wait_for(lock, 30min, [&] { return status == "completed" || status == "broken"; })) {
        throw std::runtime_error("the e-mail campaign did not complete");
    }
    const double seconds = seconds_since(start);
    lock.unlock();
    core.campaigns().on_progress({});
    const auto got = core.campaigns().get(admin, campaign_id);
    if (got.completed != args.messages) {
        throw std::runtime_error(fmt::format("{} of {} e-mails completed", got.completed, args.messages));
    }
    if (count_messages(dir / "maildir") != static_cast<std::size_t>(args.messages)) {
        throw std::runtime_error("the server's mailbox does not hold every message");
    }
    return seconds;
}

double run_curl_loop(const Args& args, const std::filesystem::path& dir) {
    auto smtp = start_smtp(dir / "maildir");
    const auto attachment = attachment_bytes();
    const std::string url = fmt::format("smtp://127.0.0.1:{}/bench", smtp->port());
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL* c = curl_easy_init();
    const auto start = Clock::now();
    for (std::int64_t i = 0; i < args.messages; ++i) {
        curl_easy_reset(c);
        const std::string to = fmt::format("<ok-{}@example.com>", i);
        curl_slist* rcpt = curl_slist_append(nullptr, to.c_str());
        curl_slist* headers = nullptr;
        headers = curl_slist_append(headers, "From: <bench@example.com>");
        headers = curl_slist_append(headers, ("To: " + to).c_str());
        headers = curl_slist_append(headers, fmt::format("Subject: Your invoice, Reader{}", i).c_str());
        curl_mime* mime = curl_mime_init(c);
        curl_mime* alt = curl_mime_init(c);
        const std::string text = fmt::format("Dear Reader{},\nyour invoice is attached.", i);
        const std::string html = fmt::format("<p>Dear Reader{},</p><p>your invoice is attached.</p>", i);
        curl_mimepart* part = curl_mime_addpart(alt);
        curl_mime_data(part, text.data(), text.size());
        curl_mime_type(part, "text/plain; charset=UTF-8");
        curl_mime_encoder(part, "quoted-printable");
        part = curl_mime_addpart(alt);
        curl_mime_data(part, html.data(), html.size());
        curl_mime_type(part, "text/html; charset=UTF-8");
        curl_mime_encoder(part, "quoted-printable");
        part = curl_mime_addpart(mime);
        curl_mime_subparts(part, alt);
        curl_mime_type(part, "multipart/alternative");
        part = curl_mime_addpart(mime);
        curl_mime_data(part, attachment.data(), attachment.size());
        curl_mime_filename(part, "invoice.pdf");
        curl_mime_type(part, "application/pdf");
        curl_mime_encoder(part, "base64");
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, "<bench@example.com>");
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        const CURLcode rc = curl_easy_perform(c);
        curl_mime_free(mime);
        curl_slist_free_all(headers);
        curl_slist_free_all(rcpt);
        if (rc != CURLE_OK) throw std::runtime_error(std::string("libcurl: ") + curl_easy_strerror(rc));
    }
    const double seconds = seconds_since(start);
    curl_easy_cleanup(c);
    curl_global_cleanup();
    if (count_messages(dir / "maildir") != static_cast<std::size_t>(args.messages)) {
        throw std::runtime_error("the server's mailbox does not hold every message (baseline)");
    }
    return seconds;
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    const char* tmp = std::getenv("TMPDIR");
    args.dir = tmp && *tmp ? tmp : "/tmp";
    CLI::App app{"bench-email: e-mail through the SMTP gateway against a plain libcurl loop"};
    app.add_option("--messages", args.messages, "messages in each run")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--dir", args.dir, "directory for the scratch data")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    std::filesystem::path dir;
    int status = 0;
    try {
        dir = make_scratch_dir(args.dir, "ictcore-bench-email");
        std::cerr << "[bench-email] (k) baseline: plain libcurl loop, " << args.messages << " messages\n";
        const double k = run_curl_loop(args, dir / "k");
        std::cerr << "[bench-email] (j) campaign of " << args.messages << " e-mails through the SMTP gateway\n";
        const double j = run_ictcore(args, dir / "j");
        const double rate_j = static_cast<double>(args.messages) / j;
        const double rate_k = static_cast<double>(args.messages) / k;
        const std::string n = num(static_cast<double>(args.messages));
        std::cout << "| (j) campaign of " << n
                  << " e-mails (HTML + text + 4 KB attachment) through the SMTP gateway to a local aiosmtpd | "
                  << num(rate_j) << " messages/s (" << fixed(j, 2) << " s) | | |\n";
        std::cout << "| (k) baseline: the same messages from one libcurl easy handle in a loop | " << num(rate_k)
                  << " messages/s (" << fixed(k, 2) << " s) | baseline | |\n";
        std::cout << "| **j/k** | **" << fixed(rate_j / rate_k, 2) << "** | ≥ 0.8 | " << verdict(rate_j / rate_k >= 0.8)
                  << " |\n";
    } catch (const std::exception& e) {
        std::cerr << "bench-email: " << e.what() << '\n';
        status = 1;
    }
    if (!dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    return status;
}

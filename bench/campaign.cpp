// bench-campaign: a campaign over a large group through loopback (issue 5), embedding
// ictcore::Core (no HTTP) on a scratch data directory, with a baseline measured in the same
// run. Run by hand (bench/run.sh runs it too), never in CI.
//
//   bench-campaign [--contacts N] [--dir DIR]
//
//  (h) a group of N contacts (default 1,000,000, imported before the clock starts), one SMS
//      program, a campaign with delay 0 through the seeded loopback SMS provider (0 ms
//      latency): from start() until the progress listener reports `completed`. Transmissions
//      completed per second, and the peak RSS of the process during the run (VmHWM, reset
//      after the import).
//  (i) baseline: raw SQLite through the store's own Connection (its pragmas) on the store's
//      schema, doing only the row changes of one campaign transmission — insert it and its
//      spool, mark the spool started, end both, count it in the campaign — in transactions
//      of 1,000 transmissions.
//
// Prints Markdown table rows (bench/run.sh copies them into bench/README.md) and `info:` lines
// saying where the time went.
#include "bench_support.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <CLI/CLI.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>

namespace {

using namespace bench;
using namespace std::chrono_literals;

struct Args {
    std::int64_t contacts = 1'000'000;
    std::filesystem::path dir;
};

Args parse(int argc, char** argv) {
    Args args;
    const char* tmp = std::getenv("TMPDIR");
    args.dir = tmp && *tmp ? tmp : "/tmp";
    CLI::App app{"bench-campaign: a campaign over a large group, against raw SQLite"};
    app.add_option("--contacts", args.contacts, "contacts in the group")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--dir", args.dir, "directory for the scratch databases")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::exit(app.exit(e));
    }
    return args;
}

struct Run {
    double seconds = 0;
    double start_call_ms = 0;  // how long start() took (it counts the group)
    std::int64_t completed = 0;
    std::int64_t failed = 0;
    std::int64_t progress_calls = 0;
    double rss_import_mb = 0;  // peak during the import, before the reset
    double rss_before_mb = 0;  // VmHWM right after the reset
    double rss_peak_mb = 0;
    std::int64_t syncs = 0;
    double sync_seconds = 0;
    double process_cpu = 0;
    double writer_cpu = 0;
    double engine_cpu = 0;
};

Run run_campaign(const Args& args, const std::filesystem::path& dir) {
    ictcore::Options o;
    o.data_dir = dir;
    o.admin_password = "bench-admin-password";
    o.password_cost = ictcore::PasswordCost::minimal;
    ictcore::Core core(o);
    const auto admin = core.auth().from_password("admin", *o.admin_password);

    ictcore::Text text;
    text.name = "bench";
    text.data = "Your parcel arrives today.";
    ictcore::Program program;
    program.name = "bench";
    program.text_id = core.texts().create(admin, text);
    const auto program_id = core.programs().create(admin, "sendsms", program);

    ictcore::Group group;
    group.name = "bench";
    const auto group_id = core.groups().create(admin, group);
    std::cerr << "[bench-campaign] importing " << num(static_cast<double>(args.contacts)) << " contacts\n";
    const auto report = core.groups().import_csv(admin, group_id, numbered_contacts_csv(args.contacts));
    if (report.imported != args.contacts)
        throw std::runtime_error("contact import: " + std::to_string(report.imported));
    ictcore::Campaign campaign;
    campaign.program_id = program_id;
    campaign.group_id = group_id;
    const auto campaign_id = core.campaigns().create(admin, campaign);

    std::mutex mutex;
    std::condition_variable changed;
    std::optional<ictcore::CampaignProgress> last;
    std::int64_t calls = 0;
    core.campaigns().on_progress([&](const ictcore::CampaignProgress& p) {
        if (p.campaign_id != campaign_id) return;
        std::lock_guard lock(mutex);
        last = p;
        ++calls;
        changed.notify_all();
    });

    Run r;
    r.rss_import_mb = peak_rss_mb();
    if (!reset_peak_rss()) std::cerr << "[bench-campaign] cannot reset VmHWM: the peak includes the import\n";
    r.rss_before_mb = peak_rss_mb();
    std::cerr << "[bench-campaign] (h) campaign over " << num(static_cast<double>(args.contacts))
              << " contacts, delay 0\n";
    const auto syncs_before = sync_calls.load();
    const auto sync_ns_before = sync_ns.load();
    const auto cpu_before = thread_cpu();
    const auto process_cpu_before = process_cpu();
    const auto start = Clock::now();
    core.campaigns().start(admin, campaign_id);
    r.start_call_ms = 1000 * seconds_since(start);
    {
        std::unique_lock lock(mutex);
        const bool done = changed.wait_for(lock, 60min, [&] {
            return last && (last->status == ictcore::campaign_status::completed ||
                            last->status == ictcore::campaign_status::broken);
        });
        if (!done) throw std::runtime_error("the campaign did not complete within an hour");
        if (last->status != ictcore::campaign_status::completed) {
            throw std::runtime_error("the campaign broke: " + last->reason.value_or(""));
        }
        r.completed = last->completed;
        r.failed = last->failed;
        r.progress_calls = calls;
    }
    r.seconds = seconds_since(start);
    r.syncs = sync_calls.load() - syncs_before;
    r.sync_seconds = static_cast<double>(sync_ns.load() - sync_ns_before) / 1e9;
    r.process_cpu = process_cpu() - process_cpu_before;
    const auto cpu = cpu_since(cpu_before);
    r.writer_cpu = cpu.writer;
    r.engine_cpu = cpu.other;
    r.rss_peak_mb = peak_rss_mb();
    // The listener's figures against the rows themselves.
    ictcore::ListQuery q;
    q.filters.emplace_back("campaign_id", std::to_string(campaign_id));
    q.filters.emplace_back("status", "completed");
    q.limit = 1;
    const auto stored = core.transmissions().list(admin, q).total();
    if (stored != r.completed) {
        throw std::runtime_error("the listener reported " + std::to_string(r.completed) + " completed, the store has " +
                                 std::to_string(stored));
    }
    core.campaigns().on_progress({});
    return r;
}

struct Baseline {
    std::int64_t transmissions = 0;
    double seconds = 0;
    double cpu_seconds = 0;
    double rate() const { return seconds > 0 ? static_cast<double>(transmissions) / seconds : 0; }
};

// The row changes the engine makes for one campaign transmission delivered: begin (insert the
// transmission processing and its spool), started (the spool), outcome (the spool and the
// transmission completed, the campaign's counters). Transactions of 1,000 transmissions;
// stops after `limit` seconds.
Baseline run_baseline(const std::filesystem::path& dir, std::int64_t transmissions, double limit) {
    ictcore::store::Connection connection(dir / "baseline.db", ictcore::store::Connection::Mode::read_write);
    SQLite::Database& db = connection.db();
    ictcore::store::migrate(db);
    db.exec("INSERT INTO usr (user_id, username, passwd) VALUES (1, 'bench', 'x')");
    db.exec(
        "INSERT INTO campaign (campaign_id, program_id, group_id, account_id, status, time_created, created_by) "
        "VALUES (1, 1, 1, 1, 'running', 0, 1)");
    SQLite::Statement insert_transmission(
        db,
        "INSERT INTO transmission (title, origin, contact_id, account_id, service_flag, program_id, direction, "
        "status, try_allowed, try_done, last_run, campaign_id, time_created, created_by) "
        "VALUES ('bench', 'sendsms', ?, 1, 4, 1, 'outbound', 'processing', 1, 1, ?, 1, ?, 1)");
    SQLite::Statement insert_spool(
        db, "INSERT INTO spool (time_spool, status, transmission_id, created_by) VALUES (?, 'queued', ?, 1)");
    SQLite::Statement mark_started(
        db, "UPDATE spool SET status = 'started', time_start = ?, provider_id = 1 WHERE spool_id = ?");
    SQLite::Statement spool_done(
        db, "UPDATE spool SET status = 'completed', time_end = ?, response = 'delivered' WHERE spool_id = ?");
    SQLite::Statement transmission_done(
        db, "UPDATE transmission SET status = 'completed', response = NULL, next_run = NULL WHERE transmission_id = ?");
    SQLite::Statement count(
        db, "UPDATE campaign SET contact_done = contact_done + 1, completed = completed + 1 WHERE campaign_id = 1");
    auto run = [](SQLite::Statement& st, std::initializer_list<std::int64_t> values) {
        int i = 1;
        for (const auto v : values) st.bind(i++, v);
        st.exec();
        st.reset();
    };
    Baseline r;
    const std::int64_t now = std::time(nullptr);
    const double cpu_start = thread_cpu_now();
    const auto start = Clock::now();
    for (std::int64_t i = 1; i <= transmissions; ++i) {
        if (i % 1000 == 1) db.exec("BEGIN IMMEDIATE");
        run(insert_transmission, {i, now, now});
        const auto transmission_id = db.getLastInsertRowid();
        run(insert_spool, {now, transmission_id});
        const auto spool_id = db.getLastInsertRowid();
        run(mark_started, {now, spool_id});
        run(spool_done, {now, spool_id});
        run(transmission_done, {transmission_id});
        run(count, {});
        r.transmissions = i;
        if (i % 1000 == 0) {
            db.exec("COMMIT");
            if (seconds_since(start) > limit) break;
        }
    }
    if (r.transmissions % 1000 != 0) db.exec("COMMIT");
    r.seconds = seconds_since(start);
    r.cpu_seconds = thread_cpu_now() - cpu_start;
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    int status = 0;
    std::filesystem::path dir;
    try {
        dir = make_scratch_dir(args.dir, "ictcore-bench-campaign");
        std::filesystem::create_directories(dir / "h");
        const Run h = run_campaign(args, dir / "h");
        std::filesystem::remove_all(dir / "h");
        std::cerr << "[bench-campaign] (i) baseline: raw SQLite, transactions of 1,000 transmissions\n";
        std::filesystem::create_directories(dir / "i");
        const Baseline i = run_baseline(dir / "i", args.contacts, 60.0);

        const double rate = static_cast<double>(h.completed) / h.seconds;
        const std::string n = num(static_cast<double>(args.contacts));
        std::cout << "| (h) campaign over a group of " << n
                  << " contacts, SMS through loopback (0 ms latency), delay 0: start → completed | **" << num(rate)
                  << " completed/s** (" << fixed(h.seconds, 2) << " s; " << num(static_cast<double>(h.completed))
                  << " completed, " << num(static_cast<double>(h.failed)) << " failed) | ≥ 20,000/s | "
                  << verdict(rate >= 20000 && h.failed == 0 && h.completed == args.contacts) << " |\n";
        std::cout << "| peak RSS of the process during (h) (VmHWM reset after the import: " << fixed(h.rss_before_mb, 1)
                  << " MB then; " << fixed(h.rss_import_mb, 1) << " MB during the import) | **"
                  << fixed(h.rss_peak_mb, 1) << " MB** | < 250 MB | " << verdict(h.rss_peak_mb < 250) << " |\n";
        std::cout << "| (i) baseline: raw SQLite, store schema and pragmas, the row changes of one campaign "
                     "transmission (2 inserts, 4 updates), transactions of 1,000 | "
                  << num(i.rate()) << " transmissions/s ("
                  << fixed(i.cpu_seconds * 1e6 / static_cast<double>(i.transmissions), 0)
                  << " µs CPU each) | baseline | |\n";
        std::cout << "| **h/i** | **" << fixed(rate / i.rate(), 2) << "** | (information) | |\n";
        const double us_per = 1e6 / static_cast<double>(std::max<std::int64_t>(h.completed, 1));
        std::cout << "info: (h) start() took " << fixed(h.start_call_ms, 1) << " ms; " << h.progress_calls
                  << " progress reports; " << h.syncs << " fsync/fdatasync calls taking " << fixed(h.sync_seconds, 2)
                  << " s; CPU " << fixed(h.process_cpu, 2) << " s for the process ("
                  << fixed(h.process_cpu / h.seconds, 2) << " cores): store writer thread " << fixed(h.writer_cpu, 2)
                  << " s (" << fixed(h.writer_cpu * us_per, 1) << " µs per transmission, "
                  << fixed(100 * (h.writer_cpu + h.sync_seconds) / h.seconds, 0)
                  << "% busy with fsyncs), engine thread " << fixed(h.engine_cpu, 2) << " s ("
                  << fixed(h.engine_cpu * us_per, 1) << " µs per transmission)\n";
        std::cout << "info: baseline (i) " << num(static_cast<double>(i.transmissions)) << " transmissions in "
                  << fixed(i.seconds, 2) << " s (stops after 60 s)\n";
    } catch (const std::exception& ex) {
        std::cerr << "bench-campaign: " << ex.what() << '\n';
        status = 1;
    }
    if (!dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    return status;
}

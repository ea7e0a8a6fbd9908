// bench-delivery: the delivery engine's throughput, memory and concurrency (issue 4), embedding
// ictcore::Core (no HTTP) on a temporary data directory, with a baseline measured in the
// same run. Run by hand (bench/run.sh runs it too), never in CI.
//
//   bench-delivery [--transmissions N] [--threads T] [--wide-threads W] [--inflight M]
//                  [--latency-ms L] [--dir DIR]
//
//  (e) N transmissions (default 100,000) through one loopback SMS provider with 0 ms latency:
//      T client threads (default 8) each create() then send() one transmission at a time;
//      the clock runs from the first create until the last transmission is completed.
//      Completed transmissions per second and the peak RSS of the process (VmHWM). Then the
//      same again with W client threads (default 64; 0 skips it), for information.
//  (f) baseline: raw SQLite through the store's own Connection (WAL, synchronous=FULL,
//      foreign_keys=ON) on the store's schema, doing only the row changes of one transmission
//      end to end, in transactions of 1,000 transmissions, and again (f') committing as often
//      as the store's group commit did in (e) (estimated from the fsyncs counted during (e)).
//  (g) M transmissions (default 10,000) through a provider with L ms latency (default 1,000),
//      all sent at once: wall time from the first send until all are completed, and the most
//      threads the process had while they were in flight (the client threads have been joined
//      by then, so the figure is the library's own threads plus main).
//
// The contacts (and for (g) the transmissions) are created before the clock starts. Data goes
// to a fresh directory under DIR (default $TMPDIR or /tmp), removed afterwards. Prints a
// Markdown table (bench/run.sh copies its rows into bench/README.md), then `info:` lines that
// say where the time went: fsync count and time, CPU of the store's writer thread and of the
// engine's thread.
#include "store/connection.hpp"
#include "store/migrations.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <CLI/CLI.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"

namespace {

using namespace bench;
using namespace std::chrono_literals;

struct Args {
    std::int64_t transmissions = 100000;
    int threads = 8;
    int wide_threads = 64;  // (e) again with this many client threads, for information; 0: skip
    int batch = 1000;       // (e') bulk calls of this many transmissions; 0: skip
    std::int64_t inflight = 10000;
    std::int64_t latency_ms = 1000;
    std::filesystem::path dir;
};

Args parse(int argc, char** argv) {
    Args args;
    const char* tmp = std::getenv("TMPDIR");
    args.dir = tmp && *tmp ? tmp : "/tmp";
    CLI::App app{"bench-delivery: delivery throughput, in-flight deliveries and threads, against raw SQLite"};
    app.add_option("--transmissions", args.transmissions, "transmissions in (e) and (e')")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--threads", args.threads, "client threads")->capture_default_str()->check(CLI::PositiveNumber);
    app.add_option("--batch", args.batch, "transmissions per bulk call in (e'); 0 or 1 skips it")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--wide-threads", args.wide_threads, "client threads of the extra (e) run; 0 skips it")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--inflight", args.inflight, "deliveries in flight in (g)")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--latency-ms", args.latency_ms, "loopback latency in (g)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_option("--dir", args.dir, "directory for the scratch databases")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::exit(app.exit(e));
    }
    return args;
}

// ---- an embedded Core with one loopback SMS provider ------------------------------------

struct Bench {
    std::unique_ptr<ictcore::Core> core;
    ictcore::Principal admin;
    std::int64_t program_id = 0;
    std::vector<std::int64_t> contacts;
};

Bench make_bench(const std::filesystem::path& dir, std::int64_t contacts, std::int64_t latency_ms) {
    Bench b;
    ictcore::Options o;
    o.data_dir = dir;
    o.admin_password = "bench-admin-password";
    o.password_cost = ictcore::PasswordCost::minimal;
    b.core = std::make_unique<ictcore::Core>(o);
    auto& core = *b.core;
    b.admin = core.auth().from_password("admin", *o.admin_password);

    ictcore::Provider p;
    p.name = "bench loopback";
    p.type = "loopback";
    p.service_flag = ictcore::service::sms;
    p.username = "bench";
    p.settings = "{\"latency_ms\":" + std::to_string(latency_ms) + "}";
    const auto provider_id = core.providers().create(b.admin, p);
    for (const auto& other : core.providers().list(b.admin, {}).all()) {
        if (other.provider_id != provider_id && (other.service_flag & ictcore::service::sms) && other.active) {
            core.providers().update(b.admin, other.provider_id, [](ictcore::Provider& x) { x.active = 0; });
        }
    }

    ictcore::Text text;
    text.name = "bench";
    text.data = "Your parcel arrives today.";
    ictcore::Program program;
    program.name = "bench";
    program.text_id = core.texts().create(b.admin, text);
    b.program_id = core.programs().create(b.admin, "sendsms", program);

    ictcore::Group group;
    group.name = "bench";
    const auto group_id = core.groups().create(b.admin, group);
    const auto report = core.groups().import_csv(b.admin, group_id, numbered_contacts_csv(contacts));
    if (report.imported != contacts) throw std::runtime_error("contact import: " + std::to_string(report.imported));
    auto cursor = core.groups().contacts(b.admin, group_id, {});
    ictcore::Contact c;
    while (cursor.next(c)) b.contacts.push_back(c.contact_id);
    return b;
}

std::int64_t count_status(Bench& b, std::string_view status) {
    ictcore::ListQuery q;
    q.filters.emplace_back("status", std::string(status));
    q.limit = 1;
    return b.core->transmissions().list(b.admin, q).total();
}

// Runs fn(i) for i in [0, n) on `threads` threads; returns the number of exceptions.
std::int64_t run_threads(int threads, std::int64_t n, const std::function<void(std::int64_t, int)>& fn,
                         const std::function<void()>& while_running = {}) {
    std::atomic<std::int64_t> next{0}, failures{0};
    std::atomic<int> running{threads};
    std::mutex mutex;
    std::string first_error;
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (std::int64_t i = next++; i < n; i = next++) {
                try {
                    fn(i, t);
                } catch (const std::exception& e) {
                    if (failures++ == 0) {
                        std::lock_guard lock(mutex);
                        first_error = e.what();
                    }
                }
            }
            --running;
        });
    }
    if (while_running) {
        while (running.load() > 0) {
            while_running();
            std::this_thread::sleep_for(5ms);
        }
    }
    for (auto& t : pool) t.join();
    if (failures) std::cerr << "bench-delivery: " << failures << " calls failed, first: " << first_error << "\n";
    return failures;
}

// ---- (e) throughput ---------------------------------------------------------------------

struct Throughput {
    double seconds = 0;         // first create → last completed
    double sent_seconds = 0;    // first create → last send() returned
    double create_ms_mean = 0;  // per call, as a client thread saw it
    double send_ms_mean = 0;
    std::int64_t completed = 0;
    std::int64_t failed = 0;
    std::int64_t syncs = 0;    // fdatasync/fsync calls during the timed part
    double sync_seconds = 0;   // and the time spent in them
    double process_cpu = 0;    // CPU seconds of the whole process during the timed part
    double writer_cpu = 0;     // of the store's writer thread
    double other_cpu = 0;      // of the busiest other thread that outlived the run (the engine's)
    double rss_before_mb = 0;  // after the contacts were imported
    double rss_peak_mb = 0;
};

// batch 1: one create() and one send() per transmission; batch B > 1: each client call
// creates B transmissions with create_many() and sends them with send_many().
Throughput run_throughput(const Args& args, const std::filesystem::path& dir, int threads, int batch = 1) {
    Bench b = make_bench(dir, args.transmissions, 0);
    Throughput r;
    r.rss_before_mb = peak_rss_mb();
    std::vector<std::int64_t> create_ns(threads), send_ns(threads), last_id(threads);
    const auto syncs_before = sync_calls.load();
    const auto sync_ns_before = sync_ns.load();
    const auto cpu_before = thread_cpu();
    const auto process_cpu_before = process_cpu();
    const auto start = Clock::now();
    const auto chunks = (args.transmissions + batch - 1) / batch;
    const auto bulk = [&](std::int64_t chunk, int t) {
        std::vector<ictcore::Transmission> txs;
        for (std::int64_t i = chunk * batch; i < std::min<std::int64_t>(args.transmissions, (chunk + 1) * batch); ++i) {
            ictcore::Transmission tx;
            tx.contact_id = b.contacts[static_cast<std::size_t>(i)];
            tx.program_id = b.program_id;
            txs.push_back(tx);
        }
        const auto t0 = Clock::now();
        const auto ids = b.core->transmissions().create_many(b.admin, std::move(txs));
        const auto t1 = Clock::now();
        b.core->transmissions().send_many(b.admin, ids);
        send_ns[t] += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t1).count();
        create_ns[t] += std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
        last_id[t] = ids.back();
    };
    const auto failures =
        batch > 1 ? run_threads(threads, chunks, bulk)
                  : run_threads(threads, args.transmissions, [&](std::int64_t i, int t) {
                        ictcore::Transmission tx;
                        tx.contact_id = b.contacts[static_cast<std::size_t>(i)];
                        tx.program_id = b.program_id;
                        const auto t0 = Clock::now();
                        const auto id = b.core->transmissions().create(b.admin, tx);
                        const auto t1 = Clock::now();
                        b.core->transmissions().send(b.admin, id);
                        send_ns[t] += std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t1).count();
                        create_ns[t] += std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count();
                        last_id[t] = id;
                    });
    r.sent_seconds = seconds_since(start);
    // Cheap probe first (each thread's last transmission, by id), then the full count, which
    // scans the table and would steal CPU from the engine if run from the start.
    for (bool waiting = true; waiting;) {
        waiting = false;
        for (auto id : last_id)
            if (id && b.core->transmissions().get(b.admin, id).status == ictcore::transmission_status::processing)
                waiting = true;
        if (waiting) std::this_thread::sleep_for(20ms);
    }
    while (count_status(b, ictcore::transmission_status::processing) > 0) std::this_thread::sleep_for(20ms);
    r.seconds = seconds_since(start);
    r.syncs = sync_calls.load() - syncs_before;
    r.sync_seconds = static_cast<double>(sync_ns.load() - sync_ns_before) / 1e9;
    r.process_cpu = process_cpu() - process_cpu_before;
    const auto cpu = cpu_since(cpu_before);
    r.writer_cpu = cpu.writer;
    r.other_cpu = cpu.other;
    r.rss_peak_mb = peak_rss_mb();
    r.completed = count_status(b, ictcore::transmission_status::completed);
    r.failed = count_status(b, ictcore::transmission_status::failed) + failures;
    std::int64_t create_total = 0, send_total = 0;
    for (int t = 0; t < threads; ++t) {
        create_total += create_ns[t];
        send_total += send_ns[t];
    }
    r.create_ms_mean = static_cast<double>(create_total) / 1e6 / static_cast<double>(args.transmissions);
    r.send_ms_mean = static_cast<double>(send_total) / 1e6 / static_cast<double>(args.transmissions);
    return r;
}

// ---- (f) baseline: raw SQLite, the same row changes ----------------------------------------

struct Baseline {
    std::int64_t transmissions = 0;
    double seconds = 0;
    double cpu_seconds = 0;  // of the thread doing it
    std::int64_t syncs = 0;
    double sync_seconds = 0;
    double sync_ms_mean() const { return syncs ? 1000 * sync_seconds / static_cast<double>(syncs) : 0; }
    double rate() const { return seconds > 0 ? static_cast<double>(transmissions) / seconds : 0; }
};

// The row changes the engine makes for one delivered transmission, in its four steps (each a
// separate job of the store): create (insert the transmission); send (insert the spool, mark
// the transmission processing); started (the spool); outcome (the spool and the transmission
// completed). Commits every `steps_per_commit` steps; stops after `limit` seconds.
Baseline run_baseline(const std::filesystem::path& dir, std::int64_t transmissions, std::int64_t steps_per_commit,
                      double limit) {
    ictcore::store::Connection connection(dir / "baseline.db", ictcore::store::Connection::Mode::read_write);
    SQLite::Database& db = connection.db();
    ictcore::store::migrate(db);
    db.exec("INSERT INTO usr (user_id, username, passwd) VALUES (1, 'bench', 'x')");
    SQLite::Statement insert_transmission(
        db,
        "INSERT INTO transmission (title, origin, contact_id, account_id, service_flag, program_id, direction, "
        "status, try_allowed, try_done, time_created, created_by) "
        "VALUES ('bench', 'sendsms', ?, 1, 4, 1, 'outbound', 'pending', 1, 0, ?, 1)");
    SQLite::Statement insert_spool(
        db, "INSERT INTO spool (time_spool, status, transmission_id, created_by) VALUES (?, 'queued', ?, 1)");
    SQLite::Statement mark_processing(
        db,
        "UPDATE transmission SET status = 'processing', try_done = try_done + 1, last_run = ? "
        "WHERE transmission_id = ?");
    SQLite::Statement mark_started(
        db, "UPDATE spool SET status = 'started', time_start = ?, provider_id = 1 WHERE spool_id = ?");
    SQLite::Statement spool_done(
        db, "UPDATE spool SET status = 'completed', time_end = ?, response = 'delivered' WHERE spool_id = ?");
    SQLite::Statement transmission_done(
        db, "UPDATE transmission SET status = 'completed', response = NULL, next_run = NULL WHERE transmission_id = ?");
    auto run = [](SQLite::Statement& st, std::int64_t a, std::int64_t b = -1) {
        st.bind(1, a);
        if (b >= 0) st.bind(2, b);
        st.exec();
        st.reset();
    };

    Baseline r;
    const std::int64_t now = std::time(nullptr);
    std::int64_t steps = 0;
    bool open = false;
    auto step = [&] {
        if (++steps % steps_per_commit == 0 && open) {
            db.exec("COMMIT");
            open = false;
        }
    };
    const auto syncs_start = sync_calls.load();
    const auto sync_ns_start = sync_ns.load();
    const double cpu_start = thread_cpu_now();
    const auto start = Clock::now();
    for (std::int64_t i = 1; i <= transmissions; ++i) {
        auto begin = [&] {
            if (!open) {
                db.exec("BEGIN IMMEDIATE");
                open = true;
            }
        };
        begin();
        run(insert_transmission, i, now);
        const auto transmission_id = db.getLastInsertRowid();
        step();
        begin();
        run(insert_spool, now, transmission_id);
        const auto spool_id = db.getLastInsertRowid();
        run(mark_processing, now, transmission_id);
        step();
        begin();
        run(mark_started, now, spool_id);
        step();
        begin();
        run(spool_done, now, spool_id);
        run(transmission_done, transmission_id);
        step();
        r.transmissions = i;
        if ((i & 63) == 0 && seconds_since(start) > limit) break;
    }
    if (open) db.exec("COMMIT");
    r.seconds = seconds_since(start);
    r.cpu_seconds = thread_cpu_now() - cpu_start;
    r.syncs = sync_calls.load() - syncs_start;
    r.sync_seconds = static_cast<double>(sync_ns.load() - sync_ns_start) / 1e9;
    return r;
}

// ---- (g) deliveries in flight at once ------------------------------------------------------

struct InFlight {
    double seconds = 0;         // first send → all completed
    double sent_seconds = 0;    // first send → last send() returned
    int threads_in_flight = 0;  // most threads seen after the client threads were joined
    int threads_sending = 0;    // most threads seen while the client threads were sending
    std::int64_t processing_after_send = 0;
    std::int64_t peak_processing = 0;  // most transmissions seen processing at once (sampled)
    std::int64_t completed = 0;
};

InFlight run_inflight(const Args& args, const std::filesystem::path& dir) {
    Bench b = make_bench(dir, args.inflight, args.latency_ms);
    std::vector<std::int64_t> ids(static_cast<std::size_t>(args.inflight));
    run_threads(args.threads, args.inflight, [&](std::int64_t i, int) {
        ictcore::Transmission tx;
        tx.contact_id = b.contacts[static_cast<std::size_t>(i)];
        tx.program_id = b.program_id;
        ids[static_cast<std::size_t>(i)] = b.core->transmissions().create(b.admin, tx);
    });
    InFlight r;
    const auto start = Clock::now();
    auto next_count = start;
    run_threads(
        args.threads, args.inflight,
        [&](std::int64_t i, int) { b.core->transmissions().send(b.admin, ids[static_cast<std::size_t>(i)]); },
        [&] {
            r.threads_sending = std::max(r.threads_sending, thread_count());
            if (Clock::now() < next_count) return;  // a count every 20 ms, not every 5
            r.peak_processing = std::max(r.peak_processing, count_status(b, ictcore::transmission_status::processing));
            next_count = Clock::now() + 20ms;
        });
    r.sent_seconds = seconds_since(start);
    for (bool first = true;; first = false) {
        r.threads_in_flight = std::max(r.threads_in_flight, thread_count());
        const auto processing = count_status(b, ictcore::transmission_status::processing);
        r.peak_processing = std::max(r.peak_processing, processing);
        if (first) r.processing_after_send = processing;
        if (processing == 0) break;
        std::this_thread::sleep_for(20ms);
    }
    r.seconds = seconds_since(start);
    r.completed = count_status(b, ictcore::transmission_status::completed);
    return r;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    std::string pattern = (args.dir / "ictcore-bench-delivery-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cerr << "bench-delivery: cannot create a temporary directory under " << args.dir << '\n';
        return 1;
    }
    const std::filesystem::path dir = pattern;
    int status = 0;
    try {
        std::cerr << "[bench-delivery] (e) " << num(static_cast<double>(args.transmissions))
                  << " transmissions, 0 ms latency, " << args.threads << " client threads\n";
        const Throughput e = run_throughput(args, dir / "e", args.threads);
        std::filesystem::remove_all(dir / "e");
        const std::int64_t jobs = 4 * args.transmissions;  // create, send, started, outcome
        const std::int64_t store_batch = e.syncs > 0 ? std::max<std::int64_t>(1, jobs / e.syncs) : 0;
        Baseline f_matched;
        if (store_batch > 0) {
            std::cerr << "[bench-delivery] (f') baseline: raw SQLite, " << store_batch << " steps per commit\n";
            std::filesystem::create_directories(dir / "f2");
            f_matched = run_baseline(dir / "f2", args.transmissions, store_batch, 10.0);
            std::filesystem::remove_all(dir / "f2");
        }

        std::cerr << "[bench-delivery] (f) baseline: raw SQLite, transactions of 1,000 transmissions\n";
        std::filesystem::create_directories(dir / "f1");
        const Baseline f = run_baseline(dir / "f1", args.transmissions, 4 * 1000, 60.0);
        std::filesystem::remove_all(dir / "f1");
        Throughput bulk;
        if (args.batch > 1) {
            std::cerr << "[bench-delivery] (e') bulk: create_many + send_many of " << args.batch << ", " << args.threads
                      << " client threads\n";
            bulk = run_throughput(args, dir / "e-bulk", args.threads, args.batch);
            std::filesystem::remove_all(dir / "e-bulk");
        }
        Throughput wide;
        if (args.wide_threads > 0) {
            std::cerr << "[bench-delivery] (e) again with " << args.wide_threads << " client threads\n";
            wide = run_throughput(args, dir / "e-wide", args.wide_threads);
            std::filesystem::remove_all(dir / "e-wide");
        }

        std::cerr << "[bench-delivery] (g) " << num(static_cast<double>(args.inflight)) << " transmissions, "
                  << args.latency_ms << " ms latency, in flight at once\n";
        const InFlight g = run_inflight(args, dir / "g");

        auto rate_of = [](const Throughput& t) { return static_cast<double>(t.completed) / t.seconds; };
        auto per_commit = [&](const Throughput& t) {
            return t.syncs ? fixed(static_cast<double>(jobs) / static_cast<double>(t.syncs), 1) : std::string("?");
        };
        const double rate = rate_of(e);
        const std::string n = num(static_cast<double>(args.transmissions));
        std::cout << "| Measurement | Result | Target | Verdict |\n|---|---:|---|---|\n";
        std::cout << "| (e) " << n << " SMS transmissions created and sent (`create` + `send`, " << args.threads
                  << " client threads) through loopback, 0 ms latency: first create → last completed | **" << num(rate)
                  << " completed/s** (" << fixed(e.seconds, 2) << " s; " << num(e.completed) << " completed, "
                  << num(e.failed) << " failed) | ≥ 20,000/s | " << verdict(rate >= 20000 && e.failed == 0) << " |\n";
        std::cout << "| of which the create + send calls (first create → last send returned) | "
                  << fixed(e.sent_seconds, 2) << " s (mean create " << fixed(e.create_ms_mean, 2) << " ms, send "
                  << fixed(e.send_ms_mean, 2) << " ms; ≈ " << per_commit(e) << " store jobs per commit) | | |\n";
        std::cout << "| peak RSS of the process (VmHWM; " << fixed(e.rss_before_mb, 1)
                  << " MB after the contact import) | " << fixed(e.rss_peak_mb, 1) << " MB | < 200 MB | "
                  << verdict(e.rss_peak_mb < 200) << " |\n";
        if (args.batch > 1) {
            const double bulk_rate = rate_of(bulk);
            std::cout << "| (e') the same with bulk calls: `create_many` + `send_many` of " << args.batch << ", "
                      << args.threads << " client threads | **" << num(bulk_rate) << " completed/s** ("
                      << fixed(bulk.seconds, 2) << " s; " << num(bulk.completed) << " completed, " << num(bulk.failed)
                      << " failed; peak RSS " << fixed(bulk.rss_peak_mb, 1) << " MB) | ≥ 20,000/s | "
                      << verdict(bulk_rate >= 20000 && bulk.failed == 0) << " |\n";
        }
        if (args.wide_threads > 0) {
            std::cout << "| (e) again with " << args.wide_threads << " client threads | " << num(rate_of(wide))
                      << " completed/s (" << fixed(wide.seconds, 2) << " s; ≈ " << per_commit(wide)
                      << " store jobs per commit) | (information) | |\n";
        }
        const double us_per = 1e6 / static_cast<double>(args.transmissions);
        std::cout << "| (f) baseline: raw SQLite, store schema and pragmas, the same row changes (2 inserts, 4 "
                     "updates per transmission), transactions of 1,000 transmissions | "
                  << num(f.rate()) << " transmissions/s ("
                  << fixed(f.cpu_seconds * 1e6 / static_cast<double>(f.transmissions), 0)
                  << " µs CPU each) | baseline | |\n";
        std::cout << "| **e/f** | **" << fixed(rate / f.rate(), 3) << "** | (information) | |\n";
        std::cout << "| CPU of the store's writer thread per transmission in (e), against (f) | "
                  << fixed(e.writer_cpu * us_per, 0) << " µs ("
                  << fixed(e.writer_cpu * us_per / (f.cpu_seconds * 1e6 / static_cast<double>(f.transmissions)), 1)
                  << "× the raw row changes), plus " << fixed(e.sync_seconds * us_per, 0)
                  << " µs waiting for fsyncs | (information) | |\n";
        if (store_batch > 0) {
            std::cout << "| (f') the same, committing every " << store_batch
                      << " steps (as often as the store's group commit did in (e)); ran right after (e) | "
                      << num(f_matched.rate()) << " transmissions/s (mean fsync " << fixed(f_matched.sync_ms_mean(), 2)
                      << " ms; in (e) " << fixed(e.syncs ? 1000 * e.sync_seconds / static_cast<double>(e.syncs) : 0, 2)
                      << " ms) | | |\n";
            std::cout << "| e/f' | " << fixed(rate / f_matched.rate(), 2) << " | (information) | |\n";
        }
        std::cout << "| (g) " << num(static_cast<double>(args.inflight)) << " SMS with " << args.latency_ms
                  << " ms loopback latency, all sent at once (" << args.threads
                  << " client threads): first send → all completed | **" << fixed(g.seconds, 2) << " s** (sends took "
                  << fixed(g.sent_seconds, 2) << " s; at most " << num(static_cast<double>(g.peak_processing))
                  << " processing at once; " << num(static_cast<double>(g.completed)) << " completed) | < 3 s | "
                  << verdict(g.seconds < 3.0 && g.completed == args.inflight) << " |\n";
        std::cout << "| threads of the process while (g) was in flight (client threads joined; "
                  << num(static_cast<double>(g.processing_after_send)) << " processing at the first sample) | **"
                  << g.threads_in_flight << "** (" << g.threads_sending << " while the " << args.threads
                  << " client threads were sending) | < 10 | " << verdict(g.threads_in_flight < 10) << " |\n";

        auto info = [&](const char* name, const Throughput& t, int threads) {
            std::cout << "info: " << name << ", " << threads << " client threads: " << t.syncs
                      << " fsync/fdatasync calls taking " << fixed(t.sync_seconds, 2) << " s of " << fixed(t.seconds, 2)
                      << " s wall (" << fixed(100 * t.sync_seconds / t.seconds, 0) << "%; mean "
                      << fixed(t.syncs ? 1000 * t.sync_seconds / static_cast<double>(t.syncs) : 0, 3) << " ms) → ≈ "
                      << per_commit(t) << " store jobs per commit; per transmission a client thread "
                      << "waited " << fixed(t.create_ms_mean, 3) << " ms in create() + " << fixed(t.send_ms_mean, 3)
                      << " ms in send() → at most " << num(threads * 1000.0 / (t.create_ms_mean + t.send_ms_mean))
                      << " transmissions/s\n";
            std::cout << "info: " << name << ": CPU " << fixed(t.process_cpu, 2) << " s for the process ("
                      << fixed(t.process_cpu / t.seconds, 2) << " cores); store writer thread "
                      << fixed(t.writer_cpu, 2) << " s CPU + " << fixed(t.sync_seconds, 2)
                      << " s in fsync = " << fixed(100 * (t.writer_cpu + t.sync_seconds) / t.seconds, 0)
                      << "% busy; engine thread " << fixed(t.other_cpu, 2) << " s CPU ("
                      << fixed(100 * t.other_cpu / t.seconds, 0) << "%); the rest (client threads, main) "
                      << fixed(t.process_cpu - t.writer_cpu - t.other_cpu, 2) << " s\n";
        };
        info("(e)", e, args.threads);
        if (args.wide_threads > 0) info("(e) wide", wide, args.wide_threads);
        std::cout << "info: baseline (f) " << num(static_cast<double>(f.transmissions)) << " transmissions in "
                  << fixed(f.seconds, 2) << " s";
        if (store_batch > 0)
            std::cout << "; (f') " << num(static_cast<double>(f_matched.transmissions)) << " in "
                      << fixed(f_matched.seconds, 2) << " s (stops after 10 s)";
        std::cout << "\n";
    } catch (const std::exception& ex) {
        std::cerr << "bench-delivery: " << ex.what() << '\n';
        status = 1;
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return status;
}

// Faults (issue 8, item 4), through the real server:
//  * the database on a full filesystem (a small tmpfs the test mounts): writes fail with 507
//    and a clear message, reads go on, nothing is corrupted or half-stored, and writes work
//    again once space returns, without a restart;
//  * gateways that hang (an SMTP server that never greets, a Kannel smsbox that never
//    answers): each attempt times out, is recorded, and is retried or failed over to the
//    next provider, while the server keeps answering;
//  * SIGKILL in the middle of a large CSV import: after the restart the group holds all of
//    the import or none of it, and the import can be repeated.
// SIGKILL with deliveries in flight and in the middle of a campaign are test_crash.cpp and
// test_campaign_crash.cpp. There is no "send batch" route (every send names one transmission;
// a campaign is the batch), so those two cover it.
#include "helpers.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <iterator>

namespace {

using Clock = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

long long ms_since(Clock::time_point t) { return std::chrono::duration_cast<ms>(Clock::now() - t).count(); }

// ---- the database file, read behind the server's back

std::filesystem::path db_file(const std::filesystem::path& data_dir) { return data_dir / "ictcore.db"; }

// Every line PRAGMA integrity_check reports, joined ("ok" when the file is sound).
std::string integrity_check(const std::filesystem::path& db) {
    SQLite::Database d(db.string(), SQLite::OPEN_READWRITE);
    SQLite::Statement q(d, "PRAGMA integrity_check");
    std::string out;
    while (q.executeStep()) out += (out.empty() ? "" : "; ") + q.getColumn(0).getString();
    return out;
}

std::int64_t count_rows(const std::filesystem::path& db, const std::string& sql) {
    SQLite::Database d(db.string(), SQLite::OPEN_READWRITE);
    SQLite::Statement q(d, sql);
    REQUIRE(q.executeStep());
    return q.getColumn(0).getInt64();
}

// ---- a small filesystem of our own

// A tmpfs mounted on a fresh directory, unmounted (lazily, so a straggling open file cannot
// keep it) and removed on destruction. mount(2) needs CAP_SYS_ADMIN: mounted() says whether
// it worked and error() why not.
class TmpfsMount {
public:
    explicit TmpfsMount(const std::string& size) : dir_("ictcore-faults-mnt") {
        const std::string options = "size=" + size + ",mode=0700";
        if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0)
            mounted_ = true;
        else
            error_ = std::strerror(errno);
    }
    ~TmpfsMount() {
        if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
    }
    TmpfsMount(const TmpfsMount&) = delete;
    TmpfsMount& operator=(const TmpfsMount&) = delete;
    bool mounted() const { return mounted_; }
    const std::string& error() const { return error_; }
    const std::filesystem::path& path() const { return dir_.path(); }

private:
    TempDir dir_;
    bool mounted_ = false;
    std::string error_;
};

// Writes to `file` until the filesystem says ENOSPC; returns the bytes written.
std::uint64_t fill_disk(const std::filesystem::path& file) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE_MESSAGE(fd >= 0, "cannot create " << file << ": " << std::strerror(errno));
    const std::vector<char> chunk(64 * 1024, 'x');
    std::uint64_t written = 0;
    int error = 0;
    for (;;) {
        const ssize_t n = ::write(fd, chunk.data(), chunk.size());
        if (n > 0) {
            written += static_cast<std::uint64_t>(n);
        } else if (n < 0 && errno != EINTR) {
            error = errno;
            break;
        }
    }
    ::close(fd);
    REQUIRE_MESSAGE(error == ENOSPC, "filling the disk ended with " << std::strerror(error));
    return written;
}

std::uint64_t free_bytes(const std::filesystem::path& dir) {
    struct statvfs s {};
    REQUIRE(::statvfs(dir.c_str(), &s) == 0);
    return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
}

// `count` CSV rows "phone,first_name" with phones <prefix><6 digits>.
std::string csv_rows(const std::string& prefix, int count) {
    std::string csv;
    csv.reserve(static_cast<std::size_t>(count) * 28);
    char line[64];
    for (int i = 0; i < count; ++i) {
        std::snprintf(line, sizeof line, "%s%06d,Row%d\n", prefix.c_str(), i, i);
        csv += line;
    }
    return csv;
}

std::string group_path(std::int64_t id, std::string_view tail = {}) {
    std::string p = "/groups/" + std::to_string(id);
    if (!tail.empty()) (p += '/') += tail;
    return p;
}

std::int64_t group_size(Client& c, std::int64_t group) {
    Response r = c.get(group_path(group, "contacts") + "?limit=1");
    REQUIRE_STATUS(r, 200);
    return total_count(r);
}

std::int64_t contact_total(Client& c) {
    Response r = c.get("/contacts?limit=1");
    REQUIRE_STATUS(r, 200);
    return total_count(r);
}

// A refusal for a full disk: 507 with the {"error":{...}} body naming the cause.
void check_disk_full(const Response& r) {
    const std::string message = check_error(r, 507);
    CHECK_MESSAGE(contains_ci(message, "disk is full"), r.describe());
}

// ---- gateways that hang

// A TCP listener on 127.0.0.1 that accepts connections and then never sends or reads a byte:
// an SMTP server that never greets, an smsbox that never answers.
class HangingListener {
public:
    HangingListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd_ >= 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 16) == 0);
        socklen_t len = sizeof a;
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port_ = ntohs(a.sin_port);
        REQUIRE(::pipe2(stop_, O_CLOEXEC) == 0);
        thread_ = std::thread([this] { run(); });
    }
    ~HangingListener() {
        (void)!::write(stop_[1], "x", 1);
        thread_.join();
        for (int fd : held_) ::close(fd);
        ::close(fd_);
        ::close(stop_[0]);
        ::close(stop_[1]);
    }
    HangingListener(const HangingListener&) = delete;
    HangingListener& operator=(const HangingListener&) = delete;
    std::uint16_t port() const { return port_; }
    int accepted() const { return accepted_.load(); }
    // Waits until `n` connections were accepted; false if `timeout` passed first.
    bool await_accepted(int n, std::chrono::milliseconds timeout) const {
        const auto until = Clock::now() + timeout;
        while (accepted() < n && Clock::now() < until) std::this_thread::sleep_for(1ms);
        return accepted() >= n;
    }

private:
    void run() {
        for (;;) {
            pollfd p[2] = {{fd_, POLLIN, 0}, {stop_[0], POLLIN, 0}};
            if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
            if (p[1].revents) return;
            if (p[0].revents & POLLIN) {
                const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (c >= 0) {
                    held_.push_back(c);  // held open, silent, until the test ends
                    ++accepted_;
                }
            }
        }
    }
    int fd_ = -1;
    int stop_[2] = {-1, -1};
    std::uint16_t port_ = 0;
    std::vector<int> held_;  // listener thread only, until joined
    std::atomic<int> accepted_{0};
    std::thread thread_;
};

// GET round trips while something else hangs: the slowest one, in ms.
long long slowest_get(Client& c, const std::string& target, int times) {
    long long slowest = 0;
    for (int i = 0; i < times; ++i) {
        const auto t = Clock::now();
        Response r = c.get(target);
        CHECK_STATUS(r, 200);
        slowest = std::max(slowest, ms_since(t));
        std::this_thread::sleep_for(20ms);
    }
    return slowest;
}

// ---- the server's own I/O counters

// Bytes the process has written with write(2) and kin: files only, not sockets (those go
// through sendmsg). While an import runs that is SQLite spilling its pages to the WAL.
std::uint64_t bytes_written(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/io");
    std::string key;
    std::uint64_t value = 0;
    while (in >> key >> value)
        if (key == "wchar:") return value;
    FAIL("cannot read /proc/" << pid << "/io");
    return 0;
}

// Waits until the server has written `bytes` to its files since `from`, or `request` ended
// first; returns whether the writes came.
template <class Future>
bool await_writes(pid_t pid, std::uint64_t from, std::uint64_t bytes, Future& request) {
    while (bytes_written(pid) - from < bytes) {
        if (request.wait_for(0ms) == std::future_status::ready) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

}  // namespace

TEST_CASE("faults: a full disk refuses writes with 507 and harms nothing; writes work again once space returns") {
    TmpfsMount disk("16m");
    if (!disk.mounted()) {
        MESSAGE("SKIPPED: the full-disk test needs to mount a tmpfs (root or CAP_SYS_ADMIN), and mount(2) said: "
                << disk.error());
        return;
    }
    const auto data_dir = disk.path() / "data";
    const auto filler = disk.path() / "filler";
    const auto started = Clock::now();
    std::int64_t group = 0, template_id = 0;
    std::int64_t acknowledged = 0;                           // contacts the server said it stored
    const std::string attachment = csv_rows("+1415", 8000);  // ~180 KB of anything
    constexpr int big_import = 30000;  // more than SQLite's page cache holds: it spills mid-import
    {
        ServerProcess server(on_data(data_dir));
        Client admin = admin_client(server);
        group = create_group(admin, "full disk");
        template_id = created_id(
            admin.post("/messages/templates", json::object{{"name", "full"}, {"subject", "s"}, {"body", "<p>b</p>"}}),
            "template_id");
        create_contact(admin, "Before", "+14155550100");
        ++acknowledged;

        const std::uint64_t filled = fill_disk(filler);
        CHECK(free_bytes(disk.path()) == 0);
        MESSAGE("the disk was filled with " << filled / 1024 << " KiB");

        // A contact is refused. (Had the WAL kept room from earlier writes, a few might be
        // stored first; each one acknowledged must then be on disk, as checked below.)
        bool refused = false;
        for (int i = 0; i < 50 && !refused; ++i) {
            Response r = admin.post(
                "/contacts", json::object{{"first_name", "Full"}, {"phone", "+1415555" + std::to_string(1000 + i)}});
            if (r.status == 200) {
                ++acknowledged;
                continue;
            }
            check_disk_full(r);
            refused = true;
        }
        CHECK_MESSAGE(refused, "50 contacts were stored on a full disk");
        MESSAGE((acknowledged - 1) << " contact(s) stored before the first refusal");

        // A small import fails at the commit; a big one when SQLite's page cache spills to
        // the WAL mid-import, which rolls back the whole transaction.
        check_disk_full(admin.post_raw(group_path(group, "csv"), csv_rows("+1212", 500), "text/csv"));
        check_disk_full(admin.post_raw(group_path(group, "csv"), csv_rows("+1213", big_import), "text/csv"));
        // A media upload.
        check_disk_full(admin.put_raw("/messages/templates/" + std::to_string(template_id) + "/media", attachment,
                                      "application/octet-stream"));

        // Reads go on, logins too, and the server is still there.
        CHECK(contact_total(admin) == acknowledged);
        CHECK(group_size(admin, group) == 0);
        CHECK_STATUS(admin.get("/statistics"), 200);
        CHECK_STATUS(admin.get("/messages/templates/" + std::to_string(template_id)), 200);
        Client again = admin_client(server);
        CHECK_STATUS(again.get("/groups"), 200);
        CHECK(!server.reaped());

        // Space returns: the same writes succeed, with no restart.
        std::filesystem::remove(filler);
        create_contact(admin, "After", "+14155550101");
        ++acknowledged;
        Response imported = admin.post_raw(group_path(group, "csv"), csv_rows("+1213", big_import), "text/csv");
        REQUIRE_STATUS(imported, 200);
        CHECK(int_field(as_object(imported), "imported") == big_import);
        acknowledged += big_import;
        CHECK_STATUS(admin.put_raw("/messages/templates/" + std::to_string(template_id) + "/media", attachment,
                                   "application/octet-stream"),
                     200);
        Response media = admin.get("/messages/templates/" + std::to_string(template_id) + "/media");
        CHECK_STATUS(media, 200);
        CHECK(media.body == attachment);
        CHECK(contact_total(admin) == acknowledged);
        CHECK(group_size(admin, group) == big_import);

        const ExitStatus stopped = server.stop();
        CHECK_MESSAGE(stopped.ok(), stopped.describe() << "\n" << server.output());
    }

    // On disk: a sound file, exactly the acknowledged rows, nothing of the refused imports, no
    // temporary upload left behind.
    CHECK(integrity_check(db_file(data_dir)) == "ok");
    CHECK(count_rows(db_file(data_dir), "SELECT COUNT(*) FROM contact") == acknowledged);
    CHECK(count_rows(db_file(data_dir),
                     "SELECT COUNT(*) FROM group_contact WHERE group_id = " + std::to_string(group)) == big_import);
    int leftovers = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir / "media"))
        if (entry.path().filename().string().rfind(".upload-", 0) == 0) ++leftovers;
    CHECK(leftovers == 0);

    // And the server starts on it again.
    ServerProcess restarted(on_data(data_dir));
    Client admin = admin_client(restarted);
    CHECK(contact_total(admin) == acknowledged);
    MESSAGE("full-disk case took " << ms_since(started) << " ms");
}

TEST_CASE("faults: an SMTP server that never greets: each attempt times out, is recorded and retried") {
    HangingListener smtp;
    ServerProcess server(with_args({"--retry-delay", "1"}));
    Client admin = admin_client(server);
    set_provider_active(admin, seeded_email_provider, false);
    constexpr int timeout_ms = 1000;  // the least settings.timeout_ms allows
    const std::int64_t provider =
        created_id(admin.post("/providers", json::object{{"name", "silent smtp"},
                                                         {"type", "smtp"},
                                                         {"service_flag", 8},
                                                         {"username", "ictcore"},
                                                         {"host", "127.0.0.1"},
                                                         {"port", smtp.port()},
                                                         {"settings", json::object{{"tls", "none"},
                                                                                   {"from", "news@example.com"},
                                                                                   {"timeout_ms", timeout_ms}}}}),
                   "provider_id");
    const std::int64_t template_id = created_id(
        admin.post("/messages/templates", json::object{{"name", "hang"}, {"subject", "s"}, {"body", "<p>b</p>"}}),
        "template_id");
    const std::int64_t program = created_id(
        admin.post("/programs/sendemail", json::object{{"name", "hang"}, {"template_id", template_id}}), "program_id");
    const std::int64_t contact = create_contact(
        admin, json::object{{"first_name", "Reader"}, {"phone", "+14155550199"}, {"email", "reader@example.com"}});
    const std::int64_t tx = new_transmission(admin, contact, program, json::object{{"try_allowed", 2}});

    const auto sent = Clock::now();
    Client reader = admin_client(server);
    send_transmission(admin, tx);
    // While the first attempt hangs, the server answers as usual.
    REQUIRE(smtp.await_accepted(1, 5s));
    const long long slowest = slowest_get(reader, "/contacts?limit=5", 5);
    CHECK_MESSAGE(slowest < 1000, "a GET took " << slowest << " ms while the gateway hung");
    CHECK(str_field(get_transmission(admin, tx), "status") == "processing");  // the GETs came during the hang
    const json::object t = await_transmission(admin, tx, std::vector<std::string>{"failed", "completed"}, 30s);
    const long long took = ms_since(sent);

    // Two attempts, each ended by the timeout, the second one retry delay (1 s) after the first.
    CHECK(str_field(t, "status") == "failed");
    CHECK(int_field(t, "try_done") == 2);
    CHECK_MESSAGE(contains_ci(opt_str(t, "response").value_or(""), "timed out"), json::serialize(t));
    const json::array spools = spools_of(admin, tx);
    REQUIRE(spools.size() == 2);
    std::int64_t previous_end = 0;
    for (const auto& v : spools) {
        const json::object& s = v.as_object();
        const std::string row = json::serialize(s);
        CHECK_MESSAGE(str_field(s, "status") == "failed", row);
        CHECK_MESSAGE(opt_int(s, "provider_id") == provider, row);
        CHECK_MESSAGE(contains_ci(opt_str(s, "response").value_or(""), "timed out"), row);
        const auto start = opt_int(s, "time_start"), end = opt_int(s, "time_end");
        REQUIRE_MESSAGE((start && end), row);
        // Whole seconds: a wait of 1.0 s to 1.x s spans 1 or 2 of them; 4 allows a slow machine.
        CHECK_MESSAGE((*end - *start >= 1 && *end - *start <= 4), row);
        if (previous_end) CHECK_MESSAGE((*start - previous_end >= 1 && *start - previous_end <= 5), row);
        previous_end = *end;
    }
    CHECK(smtp.accepted() == 2);  // one connection per attempt, none after the last
    // The delay is counted in whole Unix seconds, so the retry may come a little under 1 s
    // after the first attempt ended (the spool times above show it waited for the next second).
    CHECK(took >= 2 * timeout_ms);
    CHECK(took < 2 * timeout_ms + 2000 + 4000);  // two timeouts, the delay and its rounding, slack
    MESSAGE("SMTP hang: two timed-out attempts and the retry delay took " << took << " ms; slowest GET meanwhile "
                                                                          << slowest << " ms");
}

TEST_CASE("faults: a Kannel smsbox that never answers: the attempt times out and fails over to the next provider") {
    HangingListener smsbox;
    TempDir scratch("ictcore-faults");
    const auto ledger = scratch.path() / "ledger.jsonl";
    ServerProcess server;
    Client admin = admin_client(server);
    set_provider_active(admin, seeded_sms_provider, false);
    constexpr int timeout_ms = 1000;  // the least settings.timeout_ms allows
    const std::int64_t kannel =
        created_id(admin.post("/providers", json::object{{"name", "silent kannel"},
                                                         {"type", "kannel"},
                                                         {"service_flag", 4},
                                                         {"username", "ictcore"},
                                                         {"password", "secret"},
                                                         {"host", "127.0.0.1"},
                                                         {"port", smsbox.port()},
                                                         {"weight", 10},
                                                         {"settings", json::object{{"timeout_ms", timeout_ms}}}}),
                   "provider_id");
    // Weight 0: a standby, chosen only when no weighted provider can take the message.
    const std::int64_t standby =
        new_loopback_provider(admin, "standby sms", 4, json::object{{"ledger", ledger.string()}}, 0);
    const std::int64_t program = new_sms_program(admin, "hang", "hello");

    // The attempt goes to the smsbox, times out, and the same attempt goes on to the standby.
    const std::int64_t first = new_transmission(admin, create_contact(admin, "One", "+14155550201"), program,
                                                json::object{{"try_allowed", 1}});
    auto sent = Clock::now();
    Client reader = admin_client(server);
    send_transmission(admin, first);
    REQUIRE(smsbox.await_accepted(1, 5s));
    const long long slowest = slowest_get(reader, "/transmissions?limit=5", 5);
    CHECK_MESSAGE(slowest < 1000, "a GET took " << slowest << " ms while the gateway hung");
    CHECK(str_field(get_transmission(admin, first), "status") == "processing");  // the GETs came during the hang
    json::object t = await_transmission(admin, first, std::vector<std::string>{"completed", "failed"}, 20s);
    const long long failover_ms = ms_since(sent);
    CHECK(str_field(t, "status") == "completed");
    CHECK(int_field(t, "try_done") == 1);
    json::array spools = spools_of(admin, first);
    REQUIRE(spools.size() == 1);
    CHECK(opt_int(spools[0].as_object(), "provider_id") == standby);
    CHECK(str_field(spools[0].as_object(), "status") == "completed");
    CHECK(smsbox.accepted() == 1);          // the smsbox was tried first …
    CHECK(failover_ms >= timeout_ms - 50);  // … and given its whole timeout
    CHECK(failover_ms < timeout_ms + 4000);
    CHECK(http_test_helpers::campaign_helpers::ledger_count(ledger) == 1);

    // With no standby left, the timeout ends the attempt and is recorded.
    set_provider_active(admin, standby, false);
    const std::int64_t second = new_transmission(admin, create_contact(admin, "Two", "+14155550202"), program,
                                                 json::object{{"try_allowed", 1}});
    sent = Clock::now();
    send_transmission(admin, second);
    t = await_transmission(admin, second, std::vector<std::string>{"completed", "failed"}, 20s);
    const long long failed_ms = ms_since(sent);
    CHECK(str_field(t, "status") == "failed");
    spools = spools_of(admin, second);
    REQUIRE(spools.size() == 1);
    const json::object& s = spools[0].as_object();
    const std::string row = json::serialize(s);
    CHECK_MESSAGE(str_field(s, "status") == "failed", row);
    CHECK_MESSAGE(opt_int(s, "provider_id") == kannel, row);
    const std::string response = opt_str(s, "response").value_or("");
    CHECK_MESSAGE(contains_ci(response, "timed out"), row);
    CHECK_MESSAGE(contains_ci(response, "127.0.0.1:" + std::to_string(smsbox.port())), row);
    CHECK(smsbox.accepted() == 2);
    CHECK(failed_ms >= timeout_ms - 50);
    CHECK(failed_ms < timeout_ms + 4000);
    MESSAGE("Kannel hang: failover to the standby after " << failover_ms << " ms, failure after " << failed_ms
                                                          << " ms; slowest GET meanwhile " << slowest << " ms");
}

TEST_CASE("faults: kill -9 during a CSV import: after the restart the group holds all of it or none") {
    // Well beyond SQLite's page cache (2 MB): the import spills pages to the WAL long before
    // it commits, and that spilling is how the test sees the server at work on it.
    constexpr int rows = 100000;
    constexpr std::uint64_t spilling = 256 * 1024;  // far more than the log lines of a request
    TempDir root("ictcore-faults-import");
    const auto data_dir = root.path() / "data";
    auto server = std::make_unique<ServerProcess>(on_data(data_dir));
    auto admin = std::make_unique<Client>(admin_client(*server));
    const auto started = Clock::now();
    auto import_async = [&](std::int64_t group, const std::string& csv) {
        Client c = admin_client(*server, false);  // logged in before the upload starts
        c.set_timeout(300s);
        return std::async(std::launch::async, [c = std::move(c), group, &csv]() mutable {
            try {
                Response r = c.post_raw(group_path(group, "csv"), csv, "text/csv");
                return std::make_pair(true, r.describe());
            } catch (const std::exception& e) {
                return std::make_pair(false, std::string(e.what()));
            }
        });
    };

    // A complete import first: how long the server works on one from its first spill on.
    long long work_ms = 0;
    {
        const std::string csv = csv_rows("+1301", rows);
        const std::int64_t group = create_group(*admin, "baseline");
        const std::uint64_t before = bytes_written(server->pid());
        auto request = import_async(group, csv);
        const bool spilled = await_writes(server->pid(), before, spilling, request);
        const auto spill_at = Clock::now();
        const auto [answered, outcome] = request.get();
        work_ms = ms_since(spill_at);
        REQUIRE_MESSAGE(answered, outcome);
        REQUIRE_MESSAGE(spilled, "the import never spilled to the WAL: " << outcome);
        REQUIRE(group_size(*admin, group) == rows);
        MESSAGE("a " << rows << "-row import (" << csv.size() / 1024 << " KiB) ran " << work_ms
                     << " ms from its first spill to its answer");
    }

    // Kill at a few moments of that work on the next imports: at the first spill, 30% and
    // 90% of the way (around the commit).
    std::int64_t contacts = rows;
    std::int64_t group = 0;
    std::string csv;
    int interrupted = 0;
    const double moments[] = {0.0, 0.3, 0.9};
    for (std::size_t round = 0; round < std::size(moments); ++round) {
        group = create_group(*admin, "import " + std::to_string(round));
        csv = csv_rows("+130" + std::to_string(2 + round), rows);
        const std::uint64_t before = bytes_written(server->pid());
        auto request = import_async(group, csv);
        const bool spilled = await_writes(server->pid(), before, spilling, request);
        std::this_thread::sleep_for(ms(static_cast<long long>(moments[round] * static_cast<double>(work_ms))));
        server->signal(SIGKILL);
        const ExitStatus killed = server->wait(10s);
        REQUIRE_MESSAGE(killed.signal == SIGKILL, killed.describe());
        const auto [answered, outcome] = request.get();
        if (spilled && !answered) ++interrupted;

        admin.reset();
        server = std::make_unique<ServerProcess>(on_data(data_dir));
        admin = std::make_unique<Client>(admin_client(*server));
        const std::int64_t held = group_size(*admin, group);
        MESSAGE("round " << round << ": SIGKILL " << moments[round] << " of the way in; the client saw: "
                         << outcome.substr(0, 100) << "; after the restart the group holds " << held << " rows");
        CHECK_MESSAGE((held == 0 || held == rows), held << " of " << rows << " rows survived the kill");
        contacts += held;
        CHECK(contact_total(*admin) == contacts);
        CHECK(integrity_check(db_file(data_dir)) == "ok");
    }
    // The kills must really have interrupted imports at work, or the test proves nothing.
    CHECK_MESSAGE(interrupted >= 2, "only " << interrupted << " of 3 imports were at work when killed");

    // The import can be made again, and lands whole.
    const std::int64_t before_repeat = group_size(*admin, group);
    Response r = admin->post_raw(group_path(group, "csv"), csv, "text/csv");
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "imported") == rows);
    CHECK(group_size(*admin, group) == before_repeat + rows);
    CHECK(contact_total(*admin) == contacts + rows);
    MESSAGE("kill-during-import case took " << ms_since(started) << " ms");
}

// Many connections at once (issue 8, load): 1,000 idle TCP connections plus a client trickling
// its header must not delay a normal client by more than 100 ms over its own latency on the
// idle server, and all of them are cut off after --header-timeout; with --max-connections,
// connections over the limit are closed at once, the server goes on serving, and the count of
// open connections does not leak. (Single stalled clients and each timeout alone are in
// test_limits.cpp.)
#include "helpers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

long long ms_of(Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

// Descriptors for `wanted` more sockets. The server is forked from this process and inherits
// the limit. CI may start with a soft limit of 1024: raise it up to the hard limit.
void ensure_descriptors(rlim_t wanted) {
    rlimit limit{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
        limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, limit.rlim_max);
        REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
    }
    REQUIRE_MESSAGE((limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur >= wanted),
                    "RLIMIT_NOFILE hard limit " << limit.rlim_max << " is below the " << wanted << " this test needs");
}

// Plain sockets that connect and then send nothing. Not RawConnection: each of those has its
// own io_context (three more descriptors), and one poll() over all of them times every close.
class IdleCrowd {
public:
    IdleCrowd() = default;
    IdleCrowd(const IdleCrowd&) = delete;
    IdleCrowd& operator=(const IdleCrowd&) = delete;
    ~IdleCrowd() {
        for (int fd : fds_)
            if (fd >= 0) ::close(fd);
    }

    void open(std::uint16_t port, int count) {
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(port);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (int i = 0; i < count; ++i) {
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            REQUIRE_MESSAGE(fd >= 0, "socket(): " << std::strerror(errno));
            fds_.push_back(fd);
            REQUIRE_MESSAGE(::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) == 0,
                            "connect #" << i << ": " << std::strerror(errno));
            opened_.push_back(Clock::now());
            closed_.emplace_back();
        }
    }

    std::size_t size() const { return fds_.size(); }
    Clock::time_point opened(std::size_t i) const { return opened_[i]; }
    std::optional<Clock::time_point> closed(std::size_t i) const { return closed_[i]; }

    // Polls every socket still open for up to `wait`; records when the server closed one (EOF,
    // reset or any data: these clients sent nothing, so nothing is due to them). Returns how
    // many are closed by now.
    std::size_t poll_closes(milliseconds wait) {
        std::vector<pollfd> set;
        std::vector<std::size_t> index;
        for (std::size_t i = 0; i < fds_.size(); ++i) {
            if (closed_[i]) continue;
            set.push_back(pollfd{fds_[i], POLLIN | POLLRDHUP, 0});
            index.push_back(i);
        }
        if (!set.empty() && ::poll(set.data(), set.size(), static_cast<int>(wait.count())) > 0) {
            const auto now = Clock::now();
            for (std::size_t k = 0; k < set.size(); ++k) {
                if (set[k].revents == 0) continue;
                closed_[index[k]] = now;
                ::close(fds_[index[k]]);
                fds_[index[k]] = -1;
            }
        }
        return static_cast<std::size_t>(
            std::count_if(closed_.begin(), closed_.end(), [](const auto& c) { return c.has_value(); }));
    }

private:
    std::vector<int> fds_;
    std::vector<Clock::time_point> opened_;
    std::vector<std::optional<Clock::time_point>> closed_;
};

// Sends a request header one byte every `gap` until the server closes the connection (or
// `give_up` passes). Runs on its own thread; the test thread checks the result afterwards.
struct SlowHeaderClient {
    SlowHeaderClient(std::uint16_t port_, milliseconds gap_, milliseconds give_up_)
        : port(port_), gap(gap_), give_up(give_up_) {}

    std::uint16_t port;
    milliseconds gap;
    milliseconds give_up;
    bool cut = false;
    std::size_t bytes_sent = 0;
    milliseconds took{0};
    std::string received;

    void run() {
        RawConnection raw(port);
        const std::string head =
            "GET /statistics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(400, 'p') + "\r\n\r\n";
        const auto start = Clock::now();
        for (char ch : head) {
            if (!raw.send(std::string_view(&ch, 1))) {
                cut = true;
                break;
            }
            ++bytes_sent;
            auto res = raw.read_until_close(gap);
            received += res.data;
            if (res.closed) {
                cut = true;
                break;
            }
            if (Clock::now() - start > give_up) break;
        }
        took = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    }
};

// One kind of request of the normal client, timed.
struct Probe {
    Probe(std::string name_, std::function<Response()> call_) : name(std::move(name_)), call(std::move(call_)) {}

    std::string name;
    std::function<Response()> call;
    unsigned expected = 200;
    std::vector<long long> baseline_us;
    std::vector<long long> loaded_us;
};

long long time_us(Probe& p) {
    const auto start = Clock::now();
    Response r = p.call();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
    REQUIRE_MESSAGE(r.status == p.expected, p.name << ": " << r.describe());
    return us;
}

long long median(std::vector<long long> v) {
    REQUIRE(!v.empty());
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

long long max_of(const std::vector<long long>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

// A data directory in memory when the machine has one: a commit's fsync on a shared disk can
// stall for more than 100 ms by itself, which is not what this test measures.
std::filesystem::path memory_data_dir(std::optional<TempDir>& holder) {
    std::error_code ec;
    if (std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0) {
        char templ[] = "/dev/shm/ictcore-conn-XXXXXX";
        if (::mkdtemp(templ) != nullptr) return templ;
    }
    holder.emplace("ictcore-conn");
    return holder->path() / "data";
}

struct RemoveDir {
    std::filesystem::path path;
    ~RemoveDir() {
        std::error_code ec;
        if (path.string().rfind("/dev/shm/ictcore-conn-", 0) == 0) std::filesystem::remove_all(path, ec);
    }
};

}  // namespace

TEST_CASE("connections: 1,000 idle connections and a slow header do not delay a normal client") {
    constexpr int idle_count = 1000;
    constexpr auto header_timeout = 3s;  // long enough to measure within, short enough to wait for
    constexpr auto allowed_delay = 100ms;
    ensure_descriptors(2 * idle_count + 512);  // the forked server needs as many

    std::optional<TempDir> fallback;
    RemoveDir data{memory_data_dir(fallback)};
    ServerOptions options = on_data(data.path);
    options.args = {"--header-timeout", std::to_string(header_timeout.count())};
    ServerProcess server(options);

    Client keep = admin_client(server, true);
    Client fresh = server.client(false);
    fresh.set_bearer(login(server, "admin", server.admin_password()));
    Client anonymous = server.client(false);
    int posted = 0;
    auto contact = [&posted] {
        ++posted;
        return json::object{{"first_name", "Load" + std::to_string(posted)},
                            {"phone", "+1415555" + std::to_string(1000 + posted)}};
    };
    std::vector<Probe> probes;
    probes.emplace_back("keep-alive GET /statistics", [&] { return keep.get("/statistics"); });
    probes.emplace_back("keep-alive POST /contacts", [&] { return keep.post("/contacts", contact()); });
    probes.emplace_back("new connection GET /statistics", [&] { return fresh.get("/statistics"); });
    probes.emplace_back("new connection POST /contacts", [&] { return fresh.post("/contacts", contact()); });
    probes.emplace_back("new connection POST /authentication", [&] {
        return anonymous.post("/authentication",
                              json::object{{"username", "admin"}, {"password", server.admin_password()}});
    });

    // The baseline: the same requests on the idle server, after a warm-up round.
    for (auto& p : probes) time_us(p);
    for (int round = 0; round < 21; ++round)
        for (auto& p : probes) p.baseline_us.push_back(time_us(p));

    IdleCrowd idle;
    const auto crowd_start = Clock::now();
    idle.open(server.port(), idle_count);
    const auto crowd_open = Clock::now();
    // The server accepts in order: once a connection made after the crowd is served, all
    // 1,000 are sessions waiting for a header. What is measured below is the cost of holding
    // them, not of accepting a burst of connections at the very moment of the request (under
    // ASan that burst alone takes a few hundred ms to work through; its time is reported).
    Response synced = fresh.get("/statistics");
    REQUIRE_STATUS(synced, 200);
    const auto crowd_accepted = Clock::now();
    SlowHeaderClient slow(server.port(), 150ms, 20s);
    std::thread slow_thread([&slow] { slow.run(); });
    struct Joiner {  // a failed REQUIRE below must not leave the thread joinable
        std::thread& thread;
        ~Joiner() {
            if (thread.joinable()) thread.join();
        }
    } joiner{slow_thread};

    // Under load: a round every 100 ms, across the window in which all 1,000 are open (it ends
    // well before the header timeout of the first; checked below) and the slow header trickles.
    const auto measure_until = crowd_start + header_timeout - 800ms;
    int rounds = 0;
    while (rounds < 20 && Clock::now() < measure_until) {
        const auto round_start = Clock::now();
        for (auto& p : probes) p.loaded_us.push_back(time_us(p));
        ++rounds;
        std::this_thread::sleep_until(round_start + 100ms);
    }
    const auto measured = Clock::now();
    // Not one idle connection was closed while the requests were measured.
    const std::size_t closed_early = idle.poll_closes(0ms);

    // Then every idle connection is closed by the server, around the header timeout.
    const auto close_deadline = crowd_open + header_timeout + 10s;
    while (idle.poll_closes(100ms) < idle.size() && Clock::now() < close_deadline) {
    }
    slow_thread.join();

    std::vector<long long> close_after_ms;
    std::size_t never_closed = 0;
    for (std::size_t i = 0; i < idle.size(); ++i) {
        if (auto c = idle.closed(i))
            close_after_ms.push_back(ms_of(*c - idle.opened(i)));
        else
            ++never_closed;
    }
    std::sort(close_after_ms.begin(), close_after_ms.end());

    MESSAGE(idle_count << " idle connections opened in " << ms_of(crowd_open - crowd_start)
                       << " ms; a new connection was served behind them after " << ms_of(crowd_accepted - crowd_open)
                       << " ms; then " << rounds << " rounds of requests measured in "
                       << ms_of(measured - crowd_accepted) << " ms");
    for (const auto& p : probes) {
        MESSAGE(p.name << ": idle server median " << median(p.baseline_us) << " us (max " << max_of(p.baseline_us)
                       << " us); under load median " << median(p.loaded_us) << " us, max " << max_of(p.loaded_us)
                       << " us");
    }
    if (!close_after_ms.empty())
        MESSAGE("idle connections closed after "
                << close_after_ms.front() << " / " << close_after_ms[close_after_ms.size() / 2] << " / "
                << close_after_ms.back() << " ms (min / median / max) with --header-timeout "
                << header_timeout.count());
    MESSAGE("slow header: " << slow.bytes_sent << " bytes in " << slow.took.count() << " ms, cut: " << slow.cut);

    CHECK_MESSAGE(rounds >= 3,
                  "only " << rounds << " rounds fitted in the header timeout: the load phase is not measured");
    for (const auto& p : probes) {
        const long long bound = median(p.baseline_us) + std::chrono::microseconds(allowed_delay).count();
        for (std::size_t i = 0; i < p.loaded_us.size(); ++i)
            CHECK_MESSAGE(p.loaded_us[i] <= bound, p.name << " #" << i << " took " << p.loaded_us[i]
                                                          << " us under load, over the idle median + 100 ms (" << bound
                                                          << " us)");
    }
    CHECK_MESSAGE(closed_early == 0, closed_early << " idle connections were closed before "
                                                  << ms_of(measured - crowd_start) << " ms, under --header-timeout");
    CHECK_MESSAGE(never_closed == 0, never_closed << " idle connections were still open "
                                                  << ms_of(Clock::now() - crowd_open) << " ms after opening");
    if (!close_after_ms.empty()) {
        CHECK_MESSAGE(close_after_ms.front() >= ms_of(header_timeout - 300ms),
                      "an idle connection was closed after " << close_after_ms.front() << " ms");
        CHECK_MESSAGE(close_after_ms.back() <= ms_of(header_timeout + 3s),
                      "an idle connection was closed only after " << close_after_ms.back() << " ms");
    }
    CHECK_MESSAGE(slow.cut, "the slow header was not cut off within " << slow.took.count() << " ms");
    CHECK_MESSAGE(slow.took >= header_timeout - 300ms, "the slow header was cut after " << slow.took.count() << " ms");
    CHECK_MESSAGE(slow.took <= header_timeout + 3s,
                  "the slow header was cut only after " << slow.took.count() << " ms");
    CHECK_MESSAGE(slow.received.rfind("HTTP/1.1 2", 0) != 0, "the slow header got an answer: " << slow.received);

    // And the server is as good as before.
    for (auto& p : probes) time_us(p);
}

namespace {

// A keep-alive request on a raw connection; the connection stays open.
const std::string keep_alive_get = "GET /statistics HTTP/1.1\r\nHost: 127.0.0.1\r\n";

bool served(RawConnection& raw, const std::string& auth) {
    if (!raw.send(keep_alive_get + auth + "\r\n")) return false;
    auto r = raw.read_response(5s);
    return r.has_value() && r->status == 200;
}

// A connection over the limit: closed by the server at once, without an answer.
void check_refused(std::uint16_t port, const std::string& auth, const std::string& when) {
    CAPTURE(when);
    RawConnection extra(port);
    extra.send(keep_alive_get + auth + "\r\n");  // may already fail: the server closed it
    auto res = extra.read_until_close(5s);
    CHECK_MESSAGE(res.closed, "a connection over --max-connections was left open");
    CHECK_MESSAGE(res.elapsed < 1000ms,
                  "a connection over the limit was closed only after " << res.elapsed.count() << " ms");
    CHECK_MESSAGE(res.data.empty(), "a connection over the limit was answered: " << res.data);
}

// Opens `count` connections, each served one keep-alive request and kept open. Sessions of
// connections the client just closed end asynchronously in the server, so this retries for up
// to 5 s before it gives up.
std::vector<RawConnection> open_served(std::uint16_t port, const std::string& auth, int count) {
    const auto deadline = Clock::now() + 5s;
    for (;;) {
        std::vector<RawConnection> conns;
        int ok = 0;
        for (int i = 0; i < count; ++i) {
            conns.emplace_back(port);
            if (served(conns.back(), auth)) ++ok;
        }
        if (ok == count || Clock::now() > deadline) {
            CHECK_MESSAGE(ok == count, "only " << ok << " of " << count << " connections were served");
            return conns;
        }
        conns.clear();
        std::this_thread::sleep_for(100ms);
    }
}

}  // namespace

TEST_CASE("connections: --max-connections closes the excess at once, keeps serving, and does not leak") {
    constexpr int limit = 50;
    ServerProcess server(with_args({"--max-connections", std::to_string(limit), "--header-timeout", "1"}));
    const std::string auth = "Authorization: Bearer " + login(server, "admin", server.admin_password()) + "\r\n";
    const std::uint16_t port = server.port();

    // Connections that end every other way first, so a leak from any of them would show below:
    // silent until --header-timeout, a malformed request (400, closed by the server), a header
    // abandoned by the client, a request with Connection: close, a keep-alive request then a
    // client close.
    std::vector<RawConnection> silent;
    for (int i = 0; i < 10; ++i) silent.emplace_back(port);
    for (int i = 0; i < 10; ++i) {
        RawConnection bad(port);
        bad.send("NOT HTTP\r\n\r\n");
        CHECK(bad.read_until_close(5s).closed);
        RawConnection half(port);
        half.send("GET /statistics HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        half.close();
        RawConnection once(port);
        once.send(keep_alive_get + auth + "Connection: close\r\n\r\n");
        CHECK(once.read_until_close(5s).data.rfind("HTTP/1.1 200", 0) == 0);
        RawConnection kept(port);
        CHECK(served(kept, auth));
    }
    for (auto& s : silent) CHECK(s.read_until_close(5s).closed);
    silent.clear();

    // The limit reached: 49 idle connections and a keep-alive client. Connections are accepted
    // in order, so once the last one was served all 50 are open in the server.
    std::vector<RawConnection> idle = open_served(port, auth, limit - 1);
    RawConnection last(port);
    REQUIRE(served(last, auth));
    check_refused(port, auth, "at the limit");
    check_refused(port, auth, "at the limit, again");
    // The open connections are still served.
    CHECK(served(last, auth));
    CHECK(served(idle.front(), auth));

    // Ten close: new connections are served again, up to the limit.
    idle.erase(idle.end() - 10, idle.end());
    std::vector<RawConnection> more = open_served(port, auth, 10);
    check_refused(port, auth, "at the limit after ten were replaced");

    // All close: the full limit is available again, and no more, several times over.
    for (int round = 0; round < 3; ++round) {
        CAPTURE(round);
        idle.clear();
        more.clear();
        last.close();
        std::vector<RawConnection> all = open_served(port, auth, limit);
        check_refused(port, auth, "a new full set");
        for (auto& c : all) c.close();
    }
    // Still serving once those are gone (open_served waits for the server to notice the closes).
    CHECK(open_served(port, auth, 1).size() == 1);
}

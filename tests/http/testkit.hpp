// ictcore_http_testkit: what the HTTP integration tests need to talk to a real ictcore-server.
//
//  * Client         a synchronous HTTP/1.1 client over 127.0.0.1 (keep-alive optional).
//  * RawConnection  a plain TCP connection for exact bytes: malformed requests, stalls.
//  * ServerProcess  fork/execs the ictcore-server binary with a fresh data directory and an
//                   ephemeral port, reads the port from its stdout, and on destruction sends
//                   SIGTERM and checks (with doctest) that it exits with status 0.
//
// This header does not expose Boost.Beast; testkit.cpp is the only translation unit that
// includes it.
#pragma once

#include <boost/json/value.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ictcore::http_test {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

struct Response {
    std::string request;  // "POST /contacts", for failure messages
    unsigned status = 0;
    std::string reason;
    Headers headers;
    std::string body;
    bool keep_alive = false;

    // Case-insensitive header lookup.
    std::optional<std::string> header(std::string_view name) const;
    // Parses the body as JSON; throws std::runtime_error (with describe()) when it is not JSON.
    boost::json::value json() const;
    // "POST /contacts -> 412 Precondition Failed: {...body...}" (body cut at 600 bytes).
    std::string describe() const;
};

// A synchronous HTTP/1.1 client bound to 127.0.0.1:port. With keep_alive the connection is
// reused across requests (and reopened once if the server closed an idle one).
class Client {
public:
    explicit Client(std::uint16_t port, bool keep_alive = false);
    ~Client();
    Client(Client&&) noexcept;
    Client& operator=(Client&&) noexcept;

    std::uint16_t port() const;
    // Per-request deadline for connect + write + read (default 30 s).
    void set_timeout(std::chrono::milliseconds timeout);
    void set_bearer(const std::string& token);  // Authorization: Bearer <token>
    void set_basic(const std::string& user, const std::string& password);
    void set_auth_header(std::string name, std::string value);  // any header, replaces the above
    void clear_auth();

    Response request(std::string_view method, std::string_view target, const std::string& body = {},
                     std::string_view content_type = {}, const Headers& extra = {});
    // Sends the body with Transfer-Encoding: chunked.
    Response request_chunked(std::string_view method, std::string_view target, const std::string& body,
                             std::string_view content_type);

    Response get(std::string_view target, const Headers& extra = {});
    Response del(std::string_view target);
    Response post(std::string_view target, const boost::json::value& body);
    Response put(std::string_view target, const boost::json::value& body);
    Response put(std::string_view target);  // no body
    Response post_raw(std::string_view target, const std::string& body,
                      std::string_view content_type = "application/json");
    Response put_raw(std::string_view target, const std::string& body,
                     std::string_view content_type = "application/json");

    // Number of TCP connections this client has opened so far.
    int connections_opened() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One TCP connection to 127.0.0.1:port for sending exact bytes.
class RawConnection {
public:
    explicit RawConnection(std::uint16_t port);
    ~RawConnection();
    RawConnection(RawConnection&&) noexcept;
    RawConnection& operator=(RawConnection&&) noexcept;

    // Writes all bytes; false when the write failed (peer closed or reset).
    bool send(std::string_view bytes);

    struct ReadResult {
        std::string data;     // everything received (including bytes buffered earlier)
        bool closed = false;  // the peer closed (EOF or reset) before the timeout
        std::chrono::milliseconds elapsed{0};
    };
    // Reads until the peer closes the connection or `timeout` passes.
    ReadResult read_until_close(std::chrono::milliseconds timeout);
    // Reads one HTTP response; nullopt on timeout, close or parse error.
    std::optional<Response> read_response(std::chrono::milliseconds timeout);
    void close();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

struct ExitStatus {
    bool exited = false;     // terminated normally (WIFEXITED)
    int code = -1;           // exit code when exited
    int signal = 0;          // terminating signal, when killed
    bool timed_out = false;  // did not end in time and was SIGKILLed by the testkit
    bool ok() const { return exited && code == 0 && !timed_out; }
    std::string describe() const;
};

// A temporary directory removed (recursively) on destruction.
class TempDir {
public:
    explicit TempDir(std::string_view prefix = "ictcore-http");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

struct ServerOptions {
    std::vector<std::string> args;  // appended after --listen/--data/--password-cost
    std::string admin_password = "Admin-Pass-4242";
    // Data directory; empty = a fresh temporary one, removed afterwards. A given directory
    // is created if missing and kept (so a test can restart a server on the same data).
    std::filesystem::path data_dir;
    bool minimal_password_cost = true;
    std::chrono::milliseconds startup_timeout = 20s;
};

class ServerProcess {
public:
    explicit ServerProcess(ServerOptions options = {});
    // Unless stop()/wait() already reaped it: SIGTERM, wait up to 10 s, CHECK exit status 0.
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    std::uint16_t port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::filesystem::path& data_dir() const { return data_dir_; }
    const std::string& admin_password() const { return options_.admin_password; }
    Client client(bool keep_alive = false) const { return Client(port_, keep_alive); }

    void signal(int sig);
    // Waits for the process to end; on timeout SIGKILLs it and reports timed_out.
    ExitStatus wait(std::chrono::milliseconds timeout);
    // SIGTERM then wait(timeout).
    ExitStatus stop(std::chrono::milliseconds timeout = 10s);
    bool reaped() const { return status_.has_value(); }
    // stdout (including the listening line) followed by the stderr log.
    std::string output() const;

private:
    ServerOptions options_;
    std::unique_ptr<TempDir> root_;
    std::filesystem::path data_dir_;
    std::filesystem::path log_path_;
    pid_t pid_ = -1;
    std::uint16_t port_ = 0;
    int stdout_fd_ = -1;
    std::thread drainer_;
    mutable std::mutex out_mutex_;
    std::string out_;
    std::optional<ExitStatus> status_;
};

struct RunResult {
    ExitStatus status;
    std::string out;
    std::string err;
};

// Runs the server binary with `args` to completion (for --help, --version, bad options).
RunResult run_server_binary(const std::vector<std::string>& args, std::chrono::milliseconds timeout = 10s,
                            const Headers& env = {});

// Runs any program (argv[0] is its path) to completion, as run_server_binary does.
RunResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 10s,
                      const Headers& env = {});

// The ictcore-server binary under test: $ICTCORE_SERVER_BIN, else the build's target file.
std::filesystem::path server_binary();

}  // namespace ictcore::http_test

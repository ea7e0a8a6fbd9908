// The only translation unit of the HTTP tests that includes Boost.Beast / Asio.
#include "testkit.hpp"

#include <doctest/doctest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

extern char** environ;

#ifndef ICTCORE_SERVER_PATH
#define ICTCORE_SERVER_PATH "ictcore-server"
#endif

namespace ictcore::http_test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

tcp::endpoint loopback(std::uint16_t port) { return {net::ip::make_address_v4("127.0.0.1"), port}; }

// Runs one asynchronous operation on `ioc` to completion, cancelling the socket's operations
// at `deadline`. Sets `timed_out` when the deadline fired first.
template <class Start>
beast::error_code run_until(net::io_context& ioc, tcp::socket& socket, Clock::time_point deadline, bool& timed_out,
                            Start&& start) {
    beast::error_code result;
    bool done = false;
    timed_out = false;
    net::steady_timer timer(ioc);
    timer.expires_at(deadline);
    timer.async_wait([&](beast::error_code ec) {
        if (!ec && !done) {
            timed_out = true;
            beast::error_code ignored;
            socket.cancel(ignored);
        }
    });
    start([&](beast::error_code ec, auto&&...) {
        result = ec;
        done = true;
        timer.cancel();
    });
    ioc.restart();
    ioc.run();
    if (timed_out && !result) result = net::error::timed_out;
    return result;
}

bool is_disconnect(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == http::error::partial_message;
}

Response to_response(std::string request, const http::response<http::string_body>& res) {
    Response out;
    out.request = std::move(request);
    out.status = res.result_int();
    out.reason = std::string(res.reason());
    for (const auto& field : res)
        out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    out.body = res.body();
    out.keep_alive = res.keep_alive();
    return out;
}

std::string base64(std::string_view in) {
    static constexpr char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    while (i + 2 < in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        out += table[v >> 18 & 63];
        out += table[v >> 12 & 63];
        out += table[v >> 6 & 63];
        out += table[v & 63];
        i += 3;
    }
    if (i + 1 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16;
        out += table[v >> 18 & 63];
        out += table[v >> 12 & 63];
        out += "==";
    } else if (i + 2 == in.size()) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += table[v >> 18 & 63];
        out += table[v >> 12 & 63];
        out += table[v >> 6 & 63];
        out += '=';
    }
    return out;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string tail(const std::string& text, std::size_t n = 4000) {
    return text.size() <= n ? text : "..." + text.substr(text.size() - n);
}

// fork + execve with stdin from /dev/null, stdout/stderr to the given fds, every other fd
// closed, default signal dispositions, and SIGKILL when the test process dies.
pid_t spawn(const std::vector<std::string>& args, const Headers& env_overrides, int out_fd, int err_fd) {
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) {
        std::string_view entry(*e);
        bool overridden = false;
        for (const auto& [k, v] : env_overrides)
            if (entry.substr(0, entry.find('=')) == k) overridden = true;
        if (!overridden) env.emplace_back(entry);
    }
    for (const auto& [k, v] : env_overrides) env.push_back(k + "=" + v);

    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (devnull >= 0) ::dup2(devnull, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        ::signal(SIGTERM, SIG_DFL);
        ::signal(SIGINT, SIG_DFL);
#ifdef SYS_close_range
        if (::syscall(SYS_close_range, 3u, ~0u, 0u) != 0)
#endif
            for (int fd = 3; fd < 4096; ++fd) ::close(fd);
        ::execve(argv[0], argv.data(), envp.data());
        ::_exit(127);
    }
    if (devnull >= 0) ::close(devnull);
    return pid;
}

ExitStatus decode(int status) {
    ExitStatus s;
    if (WIFEXITED(status)) {
        s.exited = true;
        s.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        s.signal = WTERMSIG(status);
    }
    return s;
}

ExitStatus wait_pid(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return decode(status);
        if (r < 0 && errno != EINTR) {
            ExitStatus s;
            s.code = -1;
            return s;
        }
        if (Clock::now() >= deadline) break;
        std::this_thread::sleep_for(5ms);
    }
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ExitStatus s = decode(status);
    s.timed_out = true;
    return s;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Response

std::optional<std::string> Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (beast::iequals(k, name)) return v;
    return std::nullopt;
}

boost::json::value Response::json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    if (ec) throw std::runtime_error("response body is not JSON (" + ec.message() + "): " + describe());
    return v;
}

std::string Response::describe() const {
    std::string b = body.size() > 600 ? body.substr(0, 600) + "...(" + std::to_string(body.size()) + " bytes)" : body;
    return request + " -> " + std::to_string(status) + " " + reason + ": " + b;
}

std::string ExitStatus::describe() const {
    std::string s;
    if (exited)
        s = "exit status " + std::to_string(code);
    else if (signal)
        s = std::string("killed by signal ") + ::strsignal(signal);
    else
        s = "unknown status";
    if (timed_out) s += " (did not exit in time; SIGKILLed by the test)";
    return s;
}

// ---------------------------------------------------------------------------------------------
// Client

struct Client::Impl {
    std::uint16_t port;
    bool keep_alive;
    std::chrono::milliseconds timeout{30s};
    Headers auth;
    int connections = 0;
    net::io_context ioc;
    tcp::socket socket{ioc};
    beast::flat_buffer buffer;

    void close() {
        beast::error_code ignored;
        if (socket.is_open()) {
            socket.shutdown(tcp::socket::shutdown_both, ignored);
            socket.close(ignored);
        }
        buffer.clear();
    }

    void connect(Clock::time_point deadline) {
        close();
        socket = tcp::socket(ioc);
        bool timed_out = false;
        auto ec = run_until(ioc, socket, deadline, timed_out,
                            [&](auto handler) { socket.async_connect(loopback(port), std::move(handler)); });
        if (ec) throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed: " + ec.message());
        ++connections;
    }

    Response exchange(http::request<http::string_body>& req) {
        std::string what = std::string(req.method_string()) + " " + std::string(req.target());
        auto deadline = Clock::now() + timeout;
        for (int attempt = 0;; ++attempt) {
            bool reused = socket.is_open();
            if (!reused) connect(deadline);
            bool timed_out = false;
            auto wec = run_until(ioc, socket, deadline, timed_out,
                                 [&](auto handler) { http::async_write(socket, req, std::move(handler)); });
            if (timed_out) {
                close();
                throw std::runtime_error(what + ": timed out writing the request");
            }
            // Even when the write failed (the server may answer 413 and close early) try to read.
            http::response_parser<http::string_body> parser;
            parser.body_limit((std::numeric_limits<std::uint64_t>::max)());
            parser.header_limit(1024 * 1024);
            auto rec = run_until(ioc, socket, deadline, timed_out,
                                 [&](auto handler) { http::async_read(socket, buffer, parser, std::move(handler)); });
            if (!rec) {
                Response out = to_response(what, parser.get());
                if (!keep_alive || !out.keep_alive) close();
                return out;
            }
            close();
            if (timed_out) throw std::runtime_error(what + ": timed out waiting for the response");
            // A reused keep-alive connection the server had closed: retry once on a new one.
            if (reused && attempt == 0 && (is_disconnect(rec) || is_disconnect(wec))) continue;
            throw std::runtime_error(what + ": no response (" + rec.message() +
                                     (wec ? ", write: " + wec.message() : std::string()) + ")");
        }
    }

    http::request<http::string_body> make(std::string_view method, std::string_view target, const std::string& body,
                                          std::string_view content_type, const Headers& extra) {
        http::request<http::string_body> req;
        auto verb = http::string_to_verb(method);
        if (verb == http::verb::unknown)
            req.method_string(method);
        else
            req.method(verb);
        req.target(target);
        req.version(11);
        req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
        req.set(http::field::user_agent, "ictcore-http-tests");
        for (const auto& [k, v] : auth) req.set(k, v);
        if (!content_type.empty()) req.set(http::field::content_type, content_type);
        for (const auto& [k, v] : extra) req.set(k, v);
        req.body() = body;
        req.keep_alive(keep_alive);
        return req;
    }
};

Client::Client(std::uint16_t port, bool keep_alive) : impl_(std::make_unique<Impl>()) {
    impl_->port = port;
    impl_->keep_alive = keep_alive;
}
Client::~Client() {
    if (impl_) impl_->close();
}
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

std::uint16_t Client::port() const { return impl_->port; }
void Client::set_timeout(std::chrono::milliseconds timeout) { impl_->timeout = timeout; }
void Client::set_bearer(const std::string& token) { impl_->auth = {{"Authorization", "Bearer " + token}}; }
void Client::set_basic(const std::string& user, const std::string& password) {
    impl_->auth = {{"Authorization", "Basic " + base64(user + ":" + password)}};
}
void Client::set_auth_header(std::string name, std::string value) {
    impl_->auth = {{std::move(name), std::move(value)}};
}
void Client::clear_auth() { impl_->auth.clear(); }
int Client::connections_opened() const { return impl_->connections; }

Response Client::request(std::string_view method, std::string_view target, const std::string& body,
                         std::string_view content_type, const Headers& extra) {
    auto req = impl_->make(method, target, body, content_type, extra);
    req.prepare_payload();
    return impl_->exchange(req);
}

Response Client::request_chunked(std::string_view method, std::string_view target, const std::string& body,
                                 std::string_view content_type) {
    auto req = impl_->make(method, target, body, content_type, {});
    req.chunked(true);
    return impl_->exchange(req);
}

Response Client::get(std::string_view target, const Headers& extra) { return request("GET", target, {}, {}, extra); }
Response Client::del(std::string_view target) { return request("DELETE", target); }
Response Client::post(std::string_view target, const boost::json::value& body) {
    return request("POST", target, boost::json::serialize(body), "application/json");
}
Response Client::put(std::string_view target, const boost::json::value& body) {
    return request("PUT", target, boost::json::serialize(body), "application/json");
}
Response Client::put(std::string_view target) { return request("PUT", target); }
Response Client::post_raw(std::string_view target, const std::string& body, std::string_view content_type) {
    return request("POST", target, body, content_type);
}
Response Client::put_raw(std::string_view target, const std::string& body, std::string_view content_type) {
    return request("PUT", target, body, content_type);
}

// ---------------------------------------------------------------------------------------------
// RawConnection

struct RawConnection::Impl {
    net::io_context ioc;
    tcp::socket socket{ioc};
    beast::flat_buffer buffer;
};

RawConnection::RawConnection(std::uint16_t port) : impl_(std::make_unique<Impl>()) {
    bool timed_out = false;
    auto ec = run_until(impl_->ioc, impl_->socket, Clock::now() + 10s, timed_out,
                        [&](auto handler) { impl_->socket.async_connect(loopback(port), std::move(handler)); });
    if (ec) throw std::runtime_error("raw connect to 127.0.0.1:" + std::to_string(port) + " failed: " + ec.message());
}
RawConnection::~RawConnection() {
    if (impl_) close();
}
RawConnection::RawConnection(RawConnection&&) noexcept = default;
RawConnection& RawConnection::operator=(RawConnection&&) noexcept = default;

bool RawConnection::send(std::string_view bytes) {
    if (!impl_->socket.is_open()) return false;
    bool timed_out = false;
    auto ec = run_until(impl_->ioc, impl_->socket, Clock::now() + 10s, timed_out, [&](auto handler) {
        net::async_write(impl_->socket, net::buffer(bytes.data(), bytes.size()), std::move(handler));
    });
    return !ec;
}

RawConnection::ReadResult RawConnection::read_until_close(std::chrono::milliseconds timeout) {
    ReadResult out;
    auto start = Clock::now();
    auto deadline = start + timeout;
    out.data = beast::buffers_to_string(impl_->buffer.data());
    impl_->buffer.clear();
    if (!impl_->socket.is_open()) {
        out.closed = true;
        return out;
    }
    char chunk[16384];
    for (;;) {
        bool timed_out = false;
        std::size_t n = 0;
        auto ec = run_until(impl_->ioc, impl_->socket, deadline, timed_out, [&](auto handler) {
            impl_->socket.async_read_some(
                net::buffer(chunk), [&n, handler = std::move(handler)](beast::error_code e, std::size_t got) mutable {
                    n = got;
                    handler(e, got);
                });
        });
        out.data.append(chunk, n);
        if (timed_out) break;
        if (ec) {
            out.closed = true;  // EOF, reset, or any other end of the connection
            break;
        }
    }
    out.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return out;
}

std::optional<Response> RawConnection::read_response(std::chrono::milliseconds timeout) {
    if (!impl_->socket.is_open()) return std::nullopt;
    http::response_parser<http::string_body> parser;
    parser.body_limit((std::numeric_limits<std::uint64_t>::max)());
    bool timed_out = false;
    auto ec = run_until(impl_->ioc, impl_->socket, Clock::now() + timeout, timed_out, [&](auto handler) {
        http::async_read(impl_->socket, impl_->buffer, parser, std::move(handler));
    });
    if (ec) return std::nullopt;
    return to_response("(raw request)", parser.get());
}

void RawConnection::close() {
    beast::error_code ignored;
    if (impl_->socket.is_open()) {
        impl_->socket.shutdown(tcp::socket::shutdown_both, ignored);
        impl_->socket.close(ignored);
    }
}

// ---------------------------------------------------------------------------------------------
// TempDir

TempDir::TempDir(std::string_view prefix) {
    auto base = std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX");
    std::string templ = base.string();
    if (!::mkdtemp(templ.data())) throw std::runtime_error(std::string("mkdtemp failed: ") + std::strerror(errno));
    path_ = templ;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

// ---------------------------------------------------------------------------------------------
// ServerProcess

std::filesystem::path server_binary() {
    if (const char* env = std::getenv("ICTCORE_SERVER_BIN"); env && *env) return env;
    return ICTCORE_SERVER_PATH;
}

ServerProcess::ServerProcess(ServerOptions options) : options_(std::move(options)) {
    root_ = std::make_unique<TempDir>("ictcore-http");
    data_dir_ = options_.data_dir.empty() ? root_->path() / "data" : options_.data_dir;
    std::filesystem::create_directories(data_dir_);
    log_path_ = root_->path() / "server.log";

    std::vector<std::string> args{server_binary().string(), "--listen", "127.0.0.1:0", "--data", data_dir_.string()};
    if (options_.minimal_password_cost) {
        args.emplace_back("--password-cost");
        args.emplace_back("minimal");
    }
    args.insert(args.end(), options_.args.begin(), options_.args.end());

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        throw std::runtime_error("cannot create " + log_path_.string());
    }
    try {
        pid_ = spawn(args, {{"ICTCORE_ADMIN_PASSWORD", options_.admin_password}}, pipefd[1], log_fd);
    } catch (...) {
        ::close(pipefd[0]);
        ::close(pipefd[1]);
        ::close(log_fd);
        throw;
    }
    ::close(pipefd[1]);
    ::close(log_fd);
    stdout_fd_ = pipefd[0];

    // Read stdout until the listening line.
    static constexpr std::string_view http_marker = "ictcore-server listening on http://127.0.0.1:";
    static constexpr std::string_view https_marker = "ictcore-server listening on https://127.0.0.1:";  // TLS
    auto deadline = Clock::now() + options_.startup_timeout;
    std::string failure;
    for (;;) {
        std::string_view marker = http_marker;
        auto pos = out_.find(marker);
        if (pos == std::string::npos) pos = out_.find(marker = https_marker);
        if (pos != std::string::npos) {
            auto eol = out_.find('\n', pos);
            if (eol != std::string::npos) {
                std::string digits = out_.substr(pos + marker.size(), eol - pos - marker.size());
                while (!digits.empty() && (digits.back() == '\r' || digits.back() == ' ' || digits.back() == '/'))
                    digits.pop_back();
                try {
                    std::size_t used = 0;
                    unsigned long p = std::stoul(digits, &used);
                    if (used == digits.size() && p > 0 && p < 65536) port_ = static_cast<std::uint16_t>(p);
                } catch (const std::exception&) {
                }
                if (!port_) failure = "cannot parse the port from the line: " + out_.substr(pos, eol - pos);
                break;
            }
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            failure = "no listening line within " + std::to_string(options_.startup_timeout.count()) + " ms";
            break;
        }
        pollfd pfd{stdout_fd_, POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left, 100)));
        if (r < 0 && errno != EINTR) {
            failure = "poll failed";
            break;
        }
        if (r > 0) {
            char buf[4096];
            ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
            if (n > 0)
                out_.append(buf, static_cast<std::size_t>(n));
            else if (n == 0) {
                failure = "the server closed stdout (exited?) before printing the listening line";
                break;
            }
        }
    }
    if (!failure.empty()) {
        ::kill(pid_, SIGKILL);
        status_ = wait_pid(pid_, 5s);
        ::close(stdout_fd_);
        stdout_fd_ = -1;
        throw std::runtime_error("ictcore-server (" + server_binary().string() + ") did not start: " + failure + "; " +
                                 status_->describe() + "\n--- stdout ---\n" + tail(out_) + "\n--- stderr ---\n" +
                                 tail(read_file(log_path_)));
    }
    drainer_ = std::thread([this] {
        char buf[4096];
        for (;;) {
            ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
            if (n > 0) {
                std::lock_guard lock(out_mutex_);
                out_.append(buf, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                break;
            }
        }
    });
}

ServerProcess::~ServerProcess() {
    if (!status_) {
        ExitStatus st = stop(10s);
        CHECK_MESSAGE(st.ok(), "ictcore-server did not exit cleanly on SIGTERM: " << st.describe() << "\n"
                                                                                  << tail(output()));
    }
    if (drainer_.joinable()) drainer_.join();
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

void ServerProcess::signal(int sig) {
    if (!status_) ::kill(pid_, sig);
}

ExitStatus ServerProcess::wait(std::chrono::milliseconds timeout) {
    if (!status_) status_ = wait_pid(pid_, timeout);
    return *status_;
}

ExitStatus ServerProcess::stop(std::chrono::milliseconds timeout) {
    signal(SIGTERM);
    return wait(timeout);
}

std::string ServerProcess::output() const {
    std::string out;
    {
        std::lock_guard lock(out_mutex_);
        out = out_;
    }
    return out + "\n--- stderr ---\n" + read_file(log_path_);
}

// ---------------------------------------------------------------------------------------------
// run_server_binary

RunResult run_server_binary(const std::vector<std::string>& args, std::chrono::milliseconds timeout,
                            const Headers& env) {
    std::vector<std::string> argv{server_binary().string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, timeout, env);
}

RunResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout, const Headers& env) {
    int out_pipe[2], err_pipe[2];
    if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    if (::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    pid_t pid = spawn(argv, env, out_pipe[1], err_pipe[1]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);

    RunResult result;
    auto deadline = Clock::now() + timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_fds = 2;
    while (open_fds > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) break;
        int r = ::poll(fds, 2, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char buf[4096];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
            } else {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    result.status = wait_pid(pid, std::max(left, std::chrono::milliseconds(1)));
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    return result;
}

}  // namespace ictcore::http_test

// HttpSession: header-first reading with per-route body limits, handler dispatch to the
// worker pool, plain and chunked response writing, timeouts and graceful closing.
#include "http_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <ictcore/version.hpp>
#include <utility>

#include "error_response.hpp"

namespace ictcore::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

// Large enough for long bearer tokens and a browser's usual headers.
constexpr std::uint32_t header_limit = 16 * 1024;
constexpr std::size_t idle_read_size = 4096;
constexpr std::size_t drain_read_size = 64 * 1024;
constexpr std::size_t large_body = 64 * 1024;
// How long a rejected connection may keep sending before we close it regardless.
constexpr auto linger_timeout = std::chrono::seconds(5);

// Keeps control characters a client put in its path out of the log.
std::string printable(const std::string& text) {
    if (text.empty()) return "-";
    std::string out = text;
    for (char& c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return out;
}

const std::string& server_header() {
    static const std::string value = std::string("ictcore/") + ictcore::version;
    return value;
}

// Errors that only mean the peer went away or was too slow: close quietly.
bool is_disconnect(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message || ec == beast::error::timeout ||
           ec == net::error::eof || ec == net::error::operation_aborted || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe;
}

}  // namespace

HttpSession::HttpSession(tcp::socket&& socket, ServerContext& context) : stream_(std::move(socket)), context_(context) {
    boost::system::error_code ec;
    const auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) client_ = peer.address().to_string();
}

HttpSession::~HttpSession() { context_.remove_session(this); }

void HttpSession::start() {
    context_.add_session(this, weak_from_this());
    // The socket's executor is this connection's strand; everything below runs on it.
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
}

void HttpSession::stop() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
        self->close_after_response_ = true;
        if (self->state_ == State::idle || self->state_ == State::reading_header) self->close();
    });
}

void HttpSession::abort() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
}

void HttpSession::wait_for_request() {
    if (context_.stopping() || close_after_response_) {
        close();
        return;
    }
    if (buffer_.size() > 0) {  // a pipelined request is already here
        read_header();
        return;
    }
    // Idle keep-alive wait: only the first byte of the next request is awaited with the idle
    // timeout, the rest of the header gets the (shorter) header timeout.
    state_ = State::idle;
    stream_.expires_after(context_.options().idle_timeout);
    stream_.async_read_some(buffer_.prepare(idle_read_size),
                            [self = shared_from_this()](error_code ec, std::size_t bytes) {
                                if (self->state_ == State::closed) return;
                                if (ec) {
                                    self->close();
                                    return;
                                }
                                self->buffer_.commit(bytes);
                                self->read_header();
                            });
}

void HttpSession::read_header() {
    if (context_.stopping()) {
        close();
        return;
    }
    state_ = State::reading_header;
    parser_.emplace();
    parser_->header_limit(header_limit);
    // No limit yet: the route decides it once the header is known (see on_header).
    parser_->body_limit(boost::none);
    request_ = Request{};
    linger_ = false;
    status_ = 0;
    stream_.expires_after(context_.options().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
}

void HttpSession::on_header(error_code ec) {
    if (state_ == State::closed) return;
    started_ = std::chrono::steady_clock::now();
    if (ec) {
        if (is_disconnect(ec)) {
            close();
        } else if (ec == http::error::header_limit) {
            reject(431, "request header too large", true);
        } else {
            reject(400, "malformed request", true);
        }
        return;
    }

    const auto& message = parser_->get();
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    request_.method = std::string(message.method_string());
    const auto url = boost::urls::parse_origin_form(std::string_view(message.target()));
    if (!url) {
        request_.path = "-";
        reject(400, "malformed request target", true);
        return;
    }
    request_.path = url->path();
    for (const auto& param : url->params(boost::urls::encoding_opts(true, false, false))) {
        request_.query.emplace_back(param.key, param.has_value ? param.value : std::string());
    }
    for (const auto& field : message) {
        request_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }

    const Router::Match match = context_.router().match(request_.method, request_.path);
    const BodyKind kind = match.route != nullptr ? match.route->options.body_kind : BodyKind::json;
    run_inline_ = match.route != nullptr && Router::runs_inline(*match.route, request_);
    const std::uint64_t limit = kind == BodyKind::upload  ? context_.options().max_import
                                : kind == BodyKind::media ? context_.options().max_media
                                                          : context_.options().max_body;
    if (const auto length = parser_->content_length(); length && *length > limit) {
        reject(413, fmt::format("request body is larger than {} bytes", limit), true);
        return;
    }
    // Checked again while reading, for chunked bodies whose size is not announced.
    parser_->body_limit(limit);
    body_limit_ = limit;

    if (parser_->is_done()) {
        dispatch();
        return;
    }
    if (version_ >= 11 && iequals(std::string_view(message[http::field::expect]), "100-continue")) {
        state_ = State::reading_body;  // the request is in flight: a stop lets it finish
        continue_ = std::make_unique<HeaderResponse>(http::status::continue_, version_);
        stream_.expires_after(context_.options().body_timeout);
        http::async_write(stream_, *continue_, [self = shared_from_this()](error_code write_ec, std::size_t) {
            if (self->state_ == State::closed) return;
            if (write_ec) {
                self->close();
                return;
            }
            self->read_body();
        });
        return;
    }
    read_body();
}

void HttpSession::read_body() {
    state_ = State::reading_body;
    // Beast reads at most the buffer's free space (512 bytes at least): give large bodies room
    // for 64 KiB reads, or a 50 MB import takes a hundred thousand system calls.
    const auto length = parser_->content_length();
    if (!length || *length > large_body) buffer_.reserve(buffer_.size() + large_body);
    stream_.expires_after(context_.options().body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
}

void HttpSession::on_body(error_code ec) {
    if (state_ == State::closed) return;
    if (ec == http::error::body_limit) {
        reject(413, fmt::format("request body is larger than {} bytes", body_limit_), true);
        return;
    }
    if (ec) {
        if (is_disconnect(ec)) {
            close();
        } else {
            reject(400, "malformed request body", true);
        }
        return;
    }
    dispatch();
}

void HttpSession::dispatch() {
    state_ = State::handling;
    // Handlers may wait for the database; the client waits with them, without a deadline.
    stream_.expires_never();
    Request request;
    request.method = request_.method;  // request_ keeps method and path for the access log
    request.path = request_.path;
    request.query = std::move(request_.query);
    request.headers = std::move(request_.headers);
    request.body = std::move(parser_->get().body());
    request.client = client_;
    parser_.reset();
    auto handle = [this](Request& r) {
        try {
            return context_.router().handle(r);
        } catch (...) {  // Router::handle maps errors itself; this is only for failures doing that
            return exception_response(std::current_exception());
        }
    };
    if (run_inline_) {
        // A read with a token: no thread hop, it cannot wait on the writer or a password hash.
        send(handle(request));
        return;
    }
    net::post(context_.workers(), [self = shared_from_this(), handle, request = std::move(request)]() mutable {
        Response response = handle(request);
        net::post(self->stream_.get_executor(),
                  [self, response = std::move(response)]() mutable { self->send(std::move(response)); });
    });
}

template <class Message>
void HttpSession::set_common_headers(Message& message, const Response& response, bool keep_alive) const {
    message.version(version_);
    message.result(static_cast<unsigned>(response.status));
    message.set(http::field::server, server_header());
    message.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) message.insert(name, value);
    message.keep_alive(keep_alive);
}

void HttpSession::send(Response response) {
    if (state_ == State::closed) return;
    state_ = State::writing;
    status_ = response.status;
    const bool keep_alive = keep_alive_ && !close_after_response_ && !linger_ && !context_.stopping();
    if (response.stream) {
        send_stream(response, keep_alive);
    } else {
        send_plain(response, keep_alive);
    }
}

void HttpSession::send_plain(Response& response, bool keep_alive) {
    keep_after_ = keep_alive;
    plain_ = std::make_unique<StringResponse>();
    set_common_headers(*plain_, response, keep_alive);
    plain_->body() = std::move(response.body);
    plain_->prepare_payload();
    stream_.expires_after(context_.options().body_timeout);
    http::async_write(stream_, *plain_, [self = shared_from_this()](error_code ec, std::size_t) {
        if (self->state_ == State::closed) return;
        if (ec) {
            self->log_access(false);
            self->close();
            return;
        }
        self->finish_response(self->keep_after_);
    });
}

void HttpSession::send_stream(Response& response, bool keep_alive) {
    // HTTP/1.0 has no chunked encoding: send the bytes as they come and mark the end by closing.
    chunked_ = version_ >= 11;
    keep_after_ = keep_alive && chunked_;
    stream_header_ = std::make_unique<HeaderResponse>();
    set_common_headers(*stream_header_, response, keep_after_);
    if (chunked_) stream_header_->chunked(true);
    serializer_ = std::make_unique<HeaderSerializer>(*stream_header_);

    producer_ = std::move(response.stream);
    ready_ = std::move(response.body);
    ready_valid_ = !ready_.empty();
    produced_all_ = false;
    producing_ = false;
    last_sent_ = false;
    failed_ = false;
    write_busy_ = true;
    stream_.expires_after(context_.options().body_timeout);
    http::async_write_header(stream_, *serializer_,
                             [self = shared_from_this()](error_code ec, std::size_t) { self->on_stream_write(ec); });
    pump();  // start producing the next chunk while the header goes out
}

void HttpSession::pump() {
    if (failed_ || state_ == State::closed) return;
    auto on_write = [self = shared_from_this()](error_code ec, std::size_t) { self->on_stream_write(ec); };
    if (!write_busy_) {
        if (ready_valid_) {
            writing_ = std::move(ready_);
            ready_.clear();
            ready_valid_ = false;
            write_busy_ = true;
            stream_.expires_after(context_.options().body_timeout);
            if (chunked_) {
                net::async_write(stream_, http::make_chunk(net::buffer(writing_)), std::move(on_write));
            } else {
                net::async_write(stream_, net::buffer(writing_), std::move(on_write));
            }
        } else if (produced_all_ && !producing_) {
            if (chunked_ && !last_sent_) {
                last_sent_ = true;
                write_busy_ = true;
                stream_.expires_after(context_.options().body_timeout);
                net::async_write(stream_, http::make_chunk_last(), std::move(on_write));
            } else {
                finish_response(keep_after_);
                return;
            }
        }
    }
    if (!producing_ && !ready_valid_ && !produced_all_) produce();
}

void HttpSession::produce() {
    producing_ = true;
    // One chunk per post: a long listing shares the pool fairly with other requests.
    net::post(context_.workers(), [self = shared_from_this()] {
        std::string chunk;
        bool more = false;
        bool ok = true;
        try {
            more = self->producer_(chunk);
        } catch (const std::exception& e) {
            ok = false;
            spdlog::error("{} {}: response stream failed: {}", self->request_.method, self->request_.path, e.what());
        } catch (...) {
            ok = false;
            spdlog::error("{} {}: response stream failed", self->request_.method, self->request_.path);
        }
        net::post(self->stream_.get_executor(), [self, chunk = std::move(chunk), more, ok]() mutable {
            self->producing_ = false;
            if (self->state_ == State::closed) return;
            if (!ok) {
                // The status line is long gone: cutting the connection without the final
                // chunk is the only way to tell the client the body is incomplete.
                self->failed_ = true;
                self->log_access(false);
                self->close();
                return;
            }
            if (!chunk.empty()) {
                self->ready_ = std::move(chunk);
                self->ready_valid_ = true;
            }
            self->produced_all_ = !more;
            self->pump();
        });
    });
}

void HttpSession::on_stream_write(error_code ec) {
    if (state_ == State::closed) return;
    write_busy_ = false;
    if (ec) {
        failed_ = true;
        log_access(false);
        close();
        return;
    }
    writing_.clear();
    pump();
}

void HttpSession::reject(int status, const std::string& message, bool linger) {
    linger_ = linger;
    close_after_response_ = true;
    if (request_.method.empty()) request_.method = "-";
    send(error_response(status, message));
}

void HttpSession::finish_response(bool keep_alive) {
    log_access(true);
    continue_.reset();
    plain_.reset();
    serializer_.reset();
    stream_header_.reset();
    producer_ = nullptr;
    writing_.clear();
    ready_.clear();
    ready_valid_ = false;
    if (linger_) {
        linger_close();
    } else if (!keep_alive) {
        close();
    } else {
        wait_for_request();
    }
}

void HttpSession::linger_close() {
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    // One deadline for the whole drain: tcp_stream's expiry is a point in time.
    stream_.expires_after(linger_timeout);
    buffer_.clear();
    drain();
}

void HttpSession::drain() {
    stream_.async_read_some(buffer_.prepare(drain_read_size), [self = shared_from_this()](error_code ec, std::size_t) {
        if (self->state_ == State::closed) return;
        if (ec) {
            self->close();
            return;
        }
        self->drain();
    });
}

void HttpSession::close() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
}

void HttpSession::log_access(bool completed) const {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count();
    // Method, path, status and time only: headers carry credentials and bodies personal data.
    spdlog::info("{} {} {} {}us{}", printable(request_.method), printable(request_.path), status_, elapsed,
                 completed ? "" : " (aborted)");
}

}  // namespace ictcore::server

// HttpSession: header-first reading with per-route body limits, handler dispatch to the
// worker pool, plain and chunked response writing, timeouts and graceful closing — for plain
// TCP and TLS alike. The TLS differences are the handshake before the first request and the
// close_notify when closing, each behind `if constexpr (tls)`.
#include "http_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
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
// How long sending close_notify may take before the connection is simply closed.
constexpr auto tls_shutdown_timeout = std::chrono::seconds(2);

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

// Errors that only mean the peer went away or was too slow: close quietly. A TLS error (a
// truncated stream, a bad record) leaves no channel to answer on, so it closes quietly too.
bool is_disconnect(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message || ec == beast::error::timeout ||
           ec == net::error::eof || ec == net::error::operation_aborted || ec == net::error::connection_reset ||
           ec == net::error::broken_pipe || ec == net::ssl::error::stream_truncated ||
           ec.category() == net::error::get_ssl_category();
}

}  // namespace

template <class Stream>
HttpSession<Stream>::HttpSession(tcp::socket&& socket, ServerContext& context) requires(!tls)
    : stream_(std::move(socket)), context_(context) {
    boost::system::error_code ec;
    const auto peer = lowest().socket().remote_endpoint(ec);
    if (!ec) client_ = peer.address().to_string();
}

template <class Stream>
HttpSession<Stream>::HttpSession(tcp::socket&& socket, ServerContext& context,
                                 net::ssl::context& tls_context) requires(tls)
    : stream_(std::move(socket), tls_context), context_(context) {
    boost::system::error_code ec;
    const auto peer = lowest().socket().remote_endpoint(ec);
    if (!ec) client_ = peer.address().to_string();
}

template <class Stream>
HttpSession<Stream>::~HttpSession() {
    context_.remove_session(this);
}

template <class Stream>
void HttpSession<Stream>::start() {
    context_.add_session(this, this->weak_from_this());
    // The socket's executor is this connection's strand; everything below runs on it, so a
    // slow TLS handshake holds up neither the accept loop nor other connections.
    net::dispatch(stream_.get_executor(), [self = this->shared_from_this()] {
        if constexpr (tls) {
            self->handshake();
        } else {
            self->read_header();
        }
    });
}

template <class Stream>
void HttpSession<Stream>::stop() {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
        self->close_after_response_ = true;
        if constexpr (tls) {
            // Between requests a TLS connection ends with close_notify: cancelling the idle
            // read lets its handler do that (see wait_for_request).
            if (self->state_ == State::idle) {
                self->lowest().cancel();
                return;
            }
        }
        if (self->state_ == State::idle || self->state_ == State::reading_header) self->close();
    });
}

template <class Stream>
void HttpSession<Stream>::abort() {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] { self->close(); });
}

template <class Stream>
void HttpSession<Stream>::handshake() {
    // Counts as reading the header: a stop closes it at once, and the header timeout bounds a
    // client that connects and never finishes the handshake.
    state_ = State::reading_header;
    lowest().expires_after(context_.options().header_timeout);
    if constexpr (tls) {
        stream_.async_handshake(net::ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
            if (self->state_ == State::closed) return;
            if (ec) {
                spdlog::debug("{}: TLS handshake failed: {}", printable(self->client_), ec.message());
                self->close();
                return;
            }
            self->read_header();
        });
    }
}

template <class Stream>
void HttpSession<Stream>::wait_for_request() {
    if (context_.stopping() || close_after_response_) {
        close_gracefully();
        return;
    }
    if (buffer_.size() > 0) {  // a pipelined request is already here
        read_header();
        return;
    }
    // Idle keep-alive wait: only the first byte of the next request is awaited with the idle
    // timeout, the rest of the header gets the (shorter) header timeout.
    state_ = State::idle;
    lowest().expires_after(context_.options().idle_timeout);
    stream_.async_read_some(
        buffer_.prepare(idle_read_size), [self = this->shared_from_this()](error_code ec, std::size_t bytes) {
            if (self->state_ == State::closed) return;
            if (ec) {
                // A clean end between requests: the client's close_notify (TLS
                // reads it as eof), or stop() cancelled the wait.
                if (ec == net::error::eof || (ec == net::error::operation_aborted && self->close_after_response_)) {
                    self->close_gracefully();
                } else {
                    self->close();
                }
                return;
            }
            self->buffer_.commit(bytes);
            self->read_header();
        });
}

template <class Stream>
void HttpSession<Stream>::read_header() {
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
    lowest().expires_after(context_.options().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
}

template <class Stream>
void HttpSession<Stream>::on_header(error_code ec) {
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
        lowest().expires_after(context_.options().body_timeout);
        http::async_write(stream_, *continue_, [self = this->shared_from_this()](error_code write_ec, std::size_t) {
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

template <class Stream>
void HttpSession<Stream>::read_body() {
    state_ = State::reading_body;
    // Beast reads at most the buffer's free space (512 bytes at least): give large bodies room
    // for 64 KiB reads, or a 50 MB import takes a hundred thousand system calls.
    const auto length = parser_->content_length();
    if (!length || *length > large_body) buffer_.reserve(buffer_.size() + large_body);
    lowest().expires_after(context_.options().body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_body(ec); });
}

template <class Stream>
void HttpSession<Stream>::on_body(error_code ec) {
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

template <class Stream>
void HttpSession<Stream>::dispatch() {
    state_ = State::handling;
    // Handlers may wait for the database; the client waits with them, without a deadline.
    lowest().expires_never();
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
    net::post(context_.workers(), [self = this->shared_from_this(), handle, request = std::move(request)]() mutable {
        Response response = handle(request);
        net::post(self->stream_.get_executor(),
                  [self, response = std::move(response)]() mutable { self->send(std::move(response)); });
    });
}

template <class Stream>
template <class Message>
void HttpSession<Stream>::set_common_headers(Message& message, const Response& response, bool keep_alive) const {
    message.version(version_);
    message.result(static_cast<unsigned>(response.status));
    message.set(http::field::server, server_header());
    message.set(http::field::content_type, response.content_type);
    for (const auto& [name, value] : response.headers) message.insert(name, value);
    message.keep_alive(keep_alive);
}

template <class Stream>
void HttpSession<Stream>::send(Response response) {
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

template <class Stream>
void HttpSession<Stream>::send_plain(Response& response, bool keep_alive) {
    keep_after_ = keep_alive;
    plain_ = std::make_unique<StringResponse>();
    set_common_headers(*plain_, response, keep_alive);
    plain_->body() = std::move(response.body);
    plain_->prepare_payload();
    lowest().expires_after(context_.options().body_timeout);
    http::async_write(stream_, *plain_, [self = this->shared_from_this()](error_code ec, std::size_t) {
        if (self->state_ == State::closed) return;
        if (ec) {
            self->log_access(false);
            self->close();
            return;
        }
        self->finish_response(self->keep_after_);
    });
}

template <class Stream>
void HttpSession<Stream>::send_stream(Response& response, bool keep_alive) {
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
    lowest().expires_after(context_.options().body_timeout);
    http::async_write_header(stream_, *serializer_, [self = this->shared_from_this()](error_code ec, std::size_t) {
        self->on_stream_write(ec);
    });
    pump();  // start producing the next chunk while the header goes out
}

template <class Stream>
void HttpSession<Stream>::pump() {
    if (failed_ || state_ == State::closed) return;
    auto on_write = [self = this->shared_from_this()](error_code ec, std::size_t) { self->on_stream_write(ec); };
    if (!write_busy_) {
        if (ready_valid_) {
            writing_ = std::move(ready_);
            ready_.clear();
            ready_valid_ = false;
            write_busy_ = true;
            lowest().expires_after(context_.options().body_timeout);
            if (chunked_) {
                net::async_write(stream_, http::make_chunk(net::buffer(writing_)), std::move(on_write));
            } else {
                net::async_write(stream_, net::buffer(writing_), std::move(on_write));
            }
        } else if (produced_all_ && !producing_) {
            if (chunked_ && !last_sent_) {
                last_sent_ = true;
                write_busy_ = true;
                lowest().expires_after(context_.options().body_timeout);
                net::async_write(stream_, http::make_chunk_last(), std::move(on_write));
            } else {
                finish_response(keep_after_);
                return;
            }
        }
    }
    if (!producing_ && !ready_valid_ && !produced_all_) produce();
}

template <class Stream>
void HttpSession<Stream>::produce() {
    producing_ = true;
    // One chunk per post: a long listing shares the pool fairly with other requests.
    net::post(context_.workers(), [self = this->shared_from_this()] {
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

template <class Stream>
void HttpSession<Stream>::on_stream_write(error_code ec) {
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

template <class Stream>
void HttpSession<Stream>::reject(int status, const std::string& message, bool linger) {
    linger_ = linger;
    close_after_response_ = true;
    if (request_.method.empty()) request_.method = "-";
    send(error_response(status, message));
}

template <class Stream>
void HttpSession<Stream>::finish_response(bool keep_alive) {
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
        close_gracefully();
    } else {
        wait_for_request();
    }
}

template <class Stream>
void HttpSession<Stream>::linger_close() {
    // Plain TCP half-closes so the client sees the end of the answer. TLS cannot half-close
    // without close_notify, and sending that while still reading fails the session; the
    // answer says "Connection: close", so the drain below just waits for the client to go.
    if constexpr (!tls) {
        error_code ec;
        lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
    }
    // One deadline for the whole drain: tcp_stream's expiry is a point in time.
    lowest().expires_after(linger_timeout);
    buffer_.clear();
    drain();
}

template <class Stream>
void HttpSession<Stream>::drain() {
    stream_.async_read_some(buffer_.prepare(drain_read_size),
                            [self = this->shared_from_this()](error_code ec, std::size_t) {
                                if (self->state_ == State::closed) return;
                                if (ec) {
                                    // The TLS client's close_notify (read as eof) is answered with ours.
                                    if (tls && ec == net::error::eof) {
                                        self->close_gracefully();
                                    } else {
                                        self->close();
                                    }
                                    return;
                                }
                                self->drain();
                            });
}

template <class Stream>
void HttpSession<Stream>::close_gracefully() {
    if constexpr (tls) {
        if (state_ == State::closed || state_ == State::shutting_down) return;
        state_ = State::shutting_down;
        lowest().expires_after(tls_shutdown_timeout);
        // async_shutdown sends close_notify and then waits for the client's. Waiting is not
        // required (RFC 8446 6.1) and idle clients seldom answer, so the read side is shut
        // first: the wait ends at once (on a close_notify already received, or at end of
        // stream) and only the send is bounded by the timeout.
        error_code ignored;
        lowest().socket().shutdown(tcp::socket::shutdown_receive, ignored);
        stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->close(); });
    } else {
        close();
    }
}

template <class Stream>
void HttpSession<Stream>::close() {
    if (state_ == State::closed) return;
    state_ = State::closed;
    error_code ec;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    lowest().close();
}

template <class Stream>
void HttpSession<Stream>::log_access(bool completed) const {
    const auto elapsed =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_).count();
    // Method, path, status and time only: headers carry credentials and bodies personal data.
    spdlog::info("{} {} {} {}us{}", printable(request_.method), printable(request_.path), status_, elapsed,
                 completed ? "" : " (aborted)");
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace ictcore::server

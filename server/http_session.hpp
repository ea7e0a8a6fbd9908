// HttpSession: one HTTP/1.1 connection (Beast, keep-alive). Reads the header first so the
// route's body limit applies before the body is read, runs the handler on the worker pool,
// and writes the response — plain, or chunked while the producer makes the next chunk.
// One template serves plain TCP and TLS: every line of request handling is shared, only the
// handshake and the closing differ (see http_session.cpp, explicitly instantiated there).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "http_types.hpp"
#include "server_context.hpp"

namespace ictcore::server {

// What the server's session registry (ServerContext) needs of a connection, whatever its stream.
class Session {
public:
    virtual ~Session() = default;
    // The server is stopping: close at once when between requests, else after the response.
    virtual void stop() = 0;
    // The shutdown grace period is over: close whatever is in progress.
    virtual void abort() = 0;
};

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

template <class Stream>
class HttpSession final : public Session, public std::enable_shared_from_this<HttpSession<Stream>> {
public:
    static constexpr bool tls = std::is_same_v<Stream, TlsStream>;

    HttpSession(boost::asio::ip::tcp::socket&& socket, ServerContext& context) requires(!tls);
    HttpSession(boost::asio::ip::tcp::socket&& socket, ServerContext& context,
                boost::asio::ssl::context& tls_context) requires(tls);
    ~HttpSession() override;
    HttpSession(const HttpSession&) = delete;
    HttpSession& operator=(const HttpSession&) = delete;

    // Registers with the context, then (TLS) handshakes and starts reading the first request.
    void start();
    void stop() override;
    void abort() override;

private:
    enum class State { idle, reading_header, reading_body, handling, writing, shutting_down, closed };
    using error_code = boost::beast::error_code;
    using StringResponse = boost::beast::http::response<boost::beast::http::string_body>;
    using HeaderResponse = boost::beast::http::response<boost::beast::http::empty_body>;
    using HeaderSerializer = boost::beast::http::response_serializer<boost::beast::http::empty_body>;

    boost::beast::tcp_stream& lowest() { return boost::beast::get_lowest_layer(stream_); }

    void handshake();
    void wait_for_request();
    void read_header();
    void on_header(error_code ec);
    void read_body();
    void on_body(error_code ec);
    void dispatch();

    void send(Response response);
    void send_plain(Response& response, bool keep_alive);
    void send_stream(Response& response, bool keep_alive);
    void pump();
    void produce();
    void on_stream_write(error_code ec);

    // Answers with an error and closes; `linger` first drains what the client still sends
    // (an unread body), so closing does not reset the connection before it reads the answer.
    void reject(int status, const std::string& message, bool linger);
    void finish_response(bool keep_alive);
    void linger_close();
    void drain();
    // Ends the connection after a complete exchange: with TLS, sends close_notify first.
    void close_gracefully();
    // Ends the connection at once (errors, timeouts, abort).
    void close();
    void log_access(bool completed) const;

    template <class Message>
    void set_common_headers(Message& message, const Response& response, bool keep_alive) const;

    Stream stream_;
    std::string client_;  // the peer's address, read once
    boost::beast::flat_buffer buffer_;
    ServerContext& context_;
    State state_ = State::idle;
    bool close_after_response_ = false;

    // The request in progress.
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    Request request_;
    unsigned version_ = 11;
    bool keep_alive_ = false;
    bool linger_ = false;
    bool run_inline_ = false;  // handle on this I/O thread (see Router::runs_inline)
    std::uint64_t body_limit_ = 0;
    int status_ = 0;
    std::chrono::steady_clock::time_point started_;
    std::unique_ptr<HeaderResponse> continue_;

    // The response in progress. Plain responses use plain_; streamed ones the rest.
    std::unique_ptr<StringResponse> plain_;
    std::unique_ptr<HeaderResponse> stream_header_;
    std::unique_ptr<HeaderSerializer> serializer_;
    Response::Producer producer_;
    bool chunked_ = true;      // false for HTTP/1.0 clients: raw bytes, then close
    bool keep_after_ = false;  // keep-alive decision for the streamed response
    std::string writing_;      // chunk being written
    std::string ready_;        // next chunk, already produced
    bool ready_valid_ = false;
    bool write_busy_ = false;
    bool producing_ = false;
    bool produced_all_ = false;
    bool last_sent_ = false;
    bool failed_ = false;
};

extern template class HttpSession<PlainStream>;
extern template class HttpSession<TlsStream>;

}  // namespace ictcore::server

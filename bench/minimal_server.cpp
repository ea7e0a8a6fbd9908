// bench-minimal-server: baseline (a) of bench/run.sh. The least a Beast HTTP/1.1 server can
// do: asynchronous keep-alive sessions on one io_context run by 2 threads (as many as
// ictcore-server's default --threads), each request answered inline with a fixed small JSON
// body. Listens on 127.0.0.1 only.
//
//   bench-minimal-server [PORT]    PORT 0 (the default) picks a free port
//
// Prints "bench-minimal-server listening on http://127.0.0.1:PORT" once it accepts.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr unsigned thread_count = 2;
// About the size of a contact as GET /contacts/{id} returns it.
const std::string body = R"({"contact_id":1,"first_name":"Bench","last_name":"Mark","phone":"+14155550123",)"
                         R"("email":"bench@example.com","address":null,"custom1":null,"custom2":null,"custom3":null,)"
                         R"("description":null,"created_by":1})";

class Session : public std::enable_shared_from_this<Session> {
public:
    explicit Session(tcp::socket&& socket) : stream_(std::move(socket)) {}

    void start() {
        net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read(); });
    }

private:
    void read() {
        request_ = {};
        stream_.expires_after(std::chrono::seconds(30));
        http::async_read(stream_, buffer_, request_,
                         [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    }

    void on_read(beast::error_code ec) {
        if (ec) {
            close();
            return;
        }
        response_ = {};
        response_.version(request_.version());
        response_.result(http::status::ok);
        response_.set(http::field::server, "bench-minimal-server");
        response_.set(http::field::content_type, "application/json");
        response_.keep_alive(request_.keep_alive());
        response_.body() = body;
        response_.prepare_payload();
        http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code write_ec, std::size_t) {
            if (write_ec || !self->response_.keep_alive()) {
                self->close();
                return;
            }
            self->read();
        });
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
};

class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& io, tcp::endpoint endpoint) : io_(io), acceptor_(net::make_strand(io)) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }

    unsigned short port() const { return acceptor_.local_endpoint().port(); }

    void accept() {
        acceptor_.async_accept(net::make_strand(io_),
                               [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                                   if (ec == net::error::operation_aborted) return;
                                   if (!ec) std::make_shared<Session>(std::move(socket))->start();
                                   self->accept();
                               });
    }

private:
    net::io_context& io_;
    tcp::acceptor acceptor_;
};

}  // namespace

int main(int argc, char** argv) {
    unsigned long port = 0;
    if (argc > 2 || (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help"))) {
        std::cerr << "usage: bench-minimal-server [PORT]   (listens on 127.0.0.1; PORT 0 picks a free one)\n";
        return 2;
    }
    if (argc == 2) {
        char* end = nullptr;
        port = std::strtoul(argv[1], &end, 10);
        if (*argv[1] == '\0' || *end != '\0' || port > 65535) {
            std::cerr << "bench-minimal-server: bad port '" << argv[1] << "'\n";
            return 2;
        }
    }
    try {
        net::io_context io(thread_count);
        auto listener = std::make_shared<Listener>(
            io, tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
        listener->accept();
        std::cout << "bench-minimal-server listening on http://127.0.0.1:" << listener->port() << std::endl;

        net::signal_set signals(io, SIGINT, SIGTERM);
        signals.async_wait([&io](beast::error_code, int) { io.stop(); });

        std::vector<std::thread> threads;
        for (unsigned i = 1; i < thread_count; ++i) threads.emplace_back([&io] { io.run(); });
        io.run();
        for (auto& t : threads) t.join();
    } catch (const std::exception& e) {
        std::cerr << "bench-minimal-server: " << e.what() << '\n';
        return 1;
    }
    return 0;
}

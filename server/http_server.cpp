// HttpServer and its accept loop: threads, connection limit, signals, graceful shutdown.
#include "http_server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/system/system_error.hpp>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http_session.hpp"
#include "server_context.hpp"

namespace ictcore::server {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

// Accepts connections and hands each to a new HttpSession on its own strand. With a TLS
// context every connection is TLS; the handshake runs in the session, not here.
class Listener : public std::enable_shared_from_this<Listener> {
public:
    Listener(net::io_context& ioc, const tcp::endpoint& endpoint, ServerContext& context,
             std::shared_ptr<net::ssl::context> tls)
        : ioc_(ioc),
          acceptor_(net::make_strand(ioc)),
          retry_timer_(acceptor_.get_executor()),
          context_(context),
          tls_(std::move(tls)) {
        acceptor_.open(endpoint.protocol());
        acceptor_.set_option(net::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(net::socket_base::max_listen_connections);
    }

    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

    void start() {
        net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
    }

    void stop() {
        net::post(acceptor_.get_executor(), [self = shared_from_this()] {
            error_code ec;
            self->acceptor_.close(ec);
            self->retry_timer_.cancel();
        });
    }

private:
    void accept() {
        acceptor_.async_accept(net::make_strand(ioc_), [self = shared_from_this()](error_code ec, tcp::socket socket) {
            self->on_accept(ec, std::move(socket));
        });
    }

    void on_accept(error_code ec, tcp::socket socket) {
        if (!acceptor_.is_open() || ec == net::error::operation_aborted) return;
        if (ec) {
            // Typically out of file descriptors: back off rather than spin on the error.
            spdlog::warn("accept failed: {}", ec.message());
            retry_timer_.expires_after(std::chrono::milliseconds(100));
            retry_timer_.async_wait([self = shared_from_this()](error_code wait_ec) {
                if (!wait_ec && self->acceptor_.is_open()) self->accept();
            });
            return;
        }
        if (context_.session_count() >= context_.options().max_connections) {
            // Over the limit the connection is closed at once: cheaper than keeping it queued.
            error_code ignored;
            socket.close(ignored);
            const auto now = std::chrono::steady_clock::now();
            if (now - last_limit_warning_ > std::chrono::seconds(1)) {
                spdlog::warn("connection limit of {} reached; refusing connections",
                             context_.options().max_connections);
                last_limit_warning_ = now;
            }
        } else if (tls_) {
            std::make_shared<HttpSession<TlsStream>>(std::move(socket), context_, *tls_)->start();
        } else {
            std::make_shared<HttpSession<PlainStream>>(std::move(socket), context_)->start();
        }
        accept();
    }

    net::io_context& ioc_;
    tcp::acceptor acceptor_;
    net::steady_timer retry_timer_;
    ServerContext& context_;
    std::shared_ptr<net::ssl::context> tls_;
    std::chrono::steady_clock::time_point last_limit_warning_{};
};

}  // namespace

// Member order matters for destruction: the io_context goes before the context, because
// handlers still queued in it own sessions that unregister from the context when destroyed.
struct HttpServer::Impl {
    Impl(ServerOptions server_options, const Router& router, std::shared_ptr<net::ssl::context> tls_context)
        : options(std::move(server_options)),
          tls(std::move(tls_context)),
          workers(std::max(1u, options.workers)),
          context(options, router, workers),
          ioc(static_cast<int>(std::max(1u, options.io_threads))),
          signals(ioc, SIGINT, SIGTERM) {}

    void run_io() {
        while (true) {
            try {
                ioc.run();
                return;
            } catch (const std::exception& e) {
                spdlog::error("unexpected exception in io thread: {}", e.what());
            }
        }
    }

    void shutdown();

    ServerOptions options;
    std::shared_ptr<net::ssl::context> tls;  // null: plain HTTP
    net::thread_pool workers;
    ServerContext context;
    net::io_context ioc;
    net::signal_set signals;
    std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
    std::shared_ptr<Listener> listener;
    std::vector<std::thread> io_threads;

    std::mutex mutex;
    std::condition_variable stop_changed;
    bool stop_requested = false;
    bool started = false;
    bool finished = false;
};

void HttpServer::Impl::shutdown() {
    if (!started || finished) return;
    finished = true;
    context.set_stopping();
    listener->stop();
    net::post(ioc, [this] {
        error_code ignored;
        signals.cancel(ignored);
    });

    // Idle connections close now; busy ones after their current response.
    for (const auto& session : context.live_sessions()) session->stop();
    if (!context.wait_all_closed(options.shutdown_grace)) {
        spdlog::warn("{} connection(s) still busy after {}s; closing them", context.session_count(),
                     options.shutdown_grace.count());
        for (const auto& session : context.live_sessions()) session->abort();
        context.wait_all_closed(std::chrono::seconds(1));
    }

    work.reset();
    ioc.stop();
    for (auto& thread : io_threads) thread.join();
    io_threads.clear();
    // Handlers still running finish here; what they post back to the stopped io_context is
    // destroyed with it, before the context.
    workers.join();
}

HttpServer::HttpServer(ServerOptions options, const Router& router, std::shared_ptr<boost::asio::ssl::context> tls)
    : impl_(std::make_unique<Impl>(std::move(options), router, std::move(tls))) {}

HttpServer::~HttpServer() {
    if (impl_) impl_->shutdown();
}

std::uint16_t HttpServer::start() {
    Impl& s = *impl_;
    if (s.started) throw std::logic_error("HttpServer::start called twice");

    const std::string where = s.options.host + ":" + std::to_string(s.options.port);
    try {
        tcp::resolver resolver(s.ioc);
        const auto endpoints = resolver.resolve(s.options.host, std::to_string(s.options.port),
                                                tcp::resolver::passive | tcp::resolver::numeric_service);
        if (endpoints.empty()) throw std::runtime_error("cannot resolve " + s.options.host);
        s.listener = std::make_shared<Listener>(s.ioc, endpoints.begin()->endpoint(), s.context, s.tls);
    } catch (const boost::system::system_error& e) {
        // what() of a system_error names Asio's source location; the code's message is enough.
        throw std::runtime_error("cannot listen on " + where + ": " + e.code().message());
    }
    const std::uint16_t port = s.listener->port();

    s.signals.async_wait([this](error_code ec, int signal_number) {
        if (ec) return;
        spdlog::info("received signal {}; shutting down", signal_number);
        request_stop();
    });
    s.work.emplace(s.ioc.get_executor());
    s.listener->start();
    const unsigned threads = std::max(1u, s.options.io_threads);
    for (unsigned i = 0; i < threads; ++i) s.io_threads.emplace_back([&s] { s.run_io(); });
    s.started = true;
    return port;
}

void HttpServer::run() {
    {
        std::unique_lock lock(impl_->mutex);
        impl_->stop_changed.wait(lock, [this] { return impl_->stop_requested; });
    }
    impl_->shutdown();
}

void HttpServer::request_stop() {
    {
        std::lock_guard lock(impl_->mutex);
        impl_->stop_requested = true;
    }
    impl_->stop_changed.notify_all();
}

}  // namespace ictcore::server

// HttpServer: the listening side of ictcore-server — io_context threads, the handler worker
// pool, the accept loop with its connection limit, signals and graceful shutdown. Beast and
// Asio stay behind the pimpl so main.cpp compiles without them.
#pragma once

#include <cstdint>
#include <memory>

#include "router.hpp"
#include "server_options.hpp"
#include "tls_context.hpp"

namespace ictcore::server {

class HttpServer {
public:
    // `router` must outlive the server. With `tls` (make_tls_context) the listener speaks
    // only HTTPS.
    HttpServer(ServerOptions options, const Router& router, std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and listens, installs the SIGINT/SIGTERM handler and starts the threads.
    // Returns the bound port (the real one when options.port is 0). Throws on failure.
    std::uint16_t start();

    // Blocks until SIGINT, SIGTERM or request_stop(), then shuts down gracefully: stops
    // accepting, lets requests in flight finish (up to options.shutdown_grace), closes every
    // connection, and joins all threads. After it returns no handler runs any more.
    void run();

    // Makes run() return (after its graceful shutdown); callable from any thread.
    void request_stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace ictcore::server

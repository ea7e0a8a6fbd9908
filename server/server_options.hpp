// ServerOptions: listener, pool, limit and timeout settings of ictcore-server (from the CLI).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ictcore::server {

struct ServerOptions {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8080;                   // 0 picks an ephemeral port
    unsigned io_threads = 2;                     // run the io_context (sockets, parsing, writing)
    unsigned workers = 32;                       // run handlers, which may block on the database
    std::size_t max_body = 1024 * 1024;          // JSON request bodies
    std::size_t max_import = 256 * 1024 * 1024;  // upload bodies (CSV import)
    std::size_t max_media = 20 * 1024 * 1024;    // media bodies (documents, recordings, attachments)
    std::size_t max_connections = 4096;
    std::chrono::seconds header_timeout{10};
    std::chrono::seconds body_timeout{60};    // also bounds each write to the client
    std::chrono::seconds idle_timeout{30};    // between keep-alive requests
    std::chrono::seconds shutdown_grace{10};  // how long a stop waits for in-flight requests
};

}  // namespace ictcore::server

// Request and Response: the plain structs route handlers work on, so handlers and the router
// can be built and tested without Beast or sockets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ictcore::server {

// ASCII case-insensitive equality, for header names and auth schemes.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
               return lower(x) == lower(y);
           });
}

struct Request {
    std::string method;                                        // "GET", "POST", ...
    std::string path;                                          // percent-decoded path, without the query
    std::vector<std::int64_t> params;                          // values of the pattern's `{name}` segments, in order
    std::vector<std::pair<std::string, std::string>> query;    // decoded query pairs, in order
    std::vector<std::pair<std::string, std::string>> headers;  // as received
    std::string body;
    std::string client;  // the peer's IP address, for the failed-login throttle

    // First header with this name (case-insensitive), if any.
    std::optional<std::string_view> header(std::string_view name) const {
        for (const auto& [key, value] : headers) {
            if (iequals(key, name)) return std::string_view(value);
        }
        return std::nullopt;
    }
};

struct Response {
    // Chunk size producers aim for: large enough to amortise a write, small enough to keep
    // memory per connection flat.
    static constexpr std::size_t chunk_size = 64 * 1024;

    // Appends the next chunk (about chunk_size bytes) to `chunk`; returns false once the
    // content is complete (what it appended on that call is still sent). May throw: before
    // anything was sent the error becomes an error response, after that the connection is cut.
    using Producer = std::function<bool(std::string& chunk)>;

    int status = 200;
    std::string content_type = "application/json";
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers
    // The whole body; with a producer, the first part of it.
    std::string body;
    // When set the body is sent with chunked transfer-encoding: `body` first, then the
    // producer's chunks.
    Producer stream;
};

}  // namespace ictcore::server

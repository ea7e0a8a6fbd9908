// Router: the explicit route table {method, pattern, handler, needs_auth, body_kind}. It matches
// requests, authenticates them and runs handlers on plain structs, so it works without sockets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <ictcore/principal.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http_types.hpp"

namespace ictcore::server {

// What a route expects as body; the server picks the body size limit from it.
enum class BodyKind {
    json,    // small JSON documents (or nothing): --max-body
    upload,  // raw bulk data such as CSV imports: --max-import
    media,   // message media files: --max-media
};

class Router {
public:
    using Handler = std::function<Response(const Request&, const ictcore::Principal&)>;
    // Turns the request's credentials into a Principal; throws ictcore::Error(unauthenticated).
    using Authenticator = std::function<ictcore::Principal(const Request&)>;

    struct RouteOptions {
        bool needs_auth = true;
        BodyKind body_kind = BodyKind::json;
        // A route that only reads may run on the connection's I/O thread when its credentials
        // are cheap to check (a token): reads never wait for the writer. Routes that write,
        // whatever their method, must say false. Unset: true for GET, false otherwise.
        std::optional<bool> read_only = std::nullopt;
    };

    struct Route {
        std::string method;
        std::string pattern;
        Handler handler;
        RouteOptions options;
        struct Segment {
            std::string literal;  // unused for parameters
            bool param = false;   // a `{name}` segment
        };
        std::vector<Segment> segments;
    };

    struct Match {
        const Route* route = nullptr;
        std::vector<std::int64_t> params;
    };

    explicit Router(Authenticator authenticator);

    // Adds a route. Pattern segments `{name}` match 1-18 ASCII digits only. A DELETE route is
    // also added as `GET <pattern>/delete`, as the API guide lets clients delete with GET.
    void add(std::string_view method, std::string_view pattern, Handler handler, RouteOptions options);
    void add(std::string_view method, std::string_view pattern, Handler handler) {
        add(method, pattern, std::move(handler), RouteOptions{});
    }

    // Finds the route for a method and decoded path; route is null when none matches.
    Match match(std::string_view method, std::string_view path) const;

    // Matches, authenticates and runs the handler; every failure becomes an error response.
    // A streamed response comes back with its first chunk already in `body` (and no producer
    // when that was all), so errors at the start of a listing still get their status.
    Response handle(Request& request) const;

    // True when `request` may be handled on the I/O thread: a read-only route whose
    // credentials need no password hashing.
    static bool runs_inline(const Route& route, const Request& request);

    const std::vector<Route>& routes() const noexcept { return routes_; }

private:
    void add_one(std::string method, std::string_view pattern, Handler handler, RouteOptions options);

    Authenticator authenticator_;
    std::vector<Route> routes_;
};

}  // namespace ictcore::server

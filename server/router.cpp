// Route table matching and the request pipeline: match, authenticate, handle, map errors.
#include "router.hpp"

#include <ictcore/error.hpp>
#include <stdexcept>
#include <utility>

#include "authenticator.hpp"
#include "error_response.hpp"

namespace ictcore::server {

namespace {

// Longest digit run accepted as an id: 18 digits always fit in int64, so no overflow checks.
constexpr std::size_t max_id_digits = 18;

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    if (path.empty() || path.front() != '/') return parts;
    path.remove_prefix(1);
    // One trailing slash is tolerated (the guide writes `/providers/` for an item route).
    if (!path.empty() && path.back() == '/') path.remove_suffix(1);
    while (true) {
        const auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return parts;
}

bool parse_id(std::string_view text, std::int64_t& out) {
    if (text.empty() || text.size() > max_id_digits) return false;
    std::int64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    out = value;
    return true;
}

}  // namespace

bool Router::runs_inline(const Route& route, const Request& request) {
    return route.options.read_only.value_or(false) &&
           (!route.options.needs_auth || ictcore::server::Authenticator::carries_token(request));
}

Router::Router(Authenticator authenticator) : authenticator_(std::move(authenticator)) {}

void Router::add(std::string_view method, std::string_view pattern, Handler handler, RouteOptions options) {
    if (method == "DELETE") add_one("GET", std::string(pattern) + "/delete", handler, options);
    add_one(std::string(method), pattern, std::move(handler), options);
}

void Router::add_one(std::string method, std::string_view pattern, Handler handler, RouteOptions options) {
    if (!options.read_only) options.read_only = method == "GET";
    Route route{std::move(method), std::string(pattern), std::move(handler), options, {}};
    for (std::string_view part : split_path(pattern)) {
        const bool param = part.size() > 2 && part.front() == '{' && part.back() == '}';
        route.segments.push_back({param ? std::string() : std::string(part), param});
    }
    if (route.segments.empty()) throw std::invalid_argument("route pattern must start with '/': " + route.pattern);
    routes_.push_back(std::move(route));
}

Router::Match Router::match(std::string_view method, std::string_view path) const {
    Match result;
    const auto parts = split_path(path);
    for (const Route& route : routes_) {
        if (route.method != method || route.segments.size() != parts.size()) continue;
        result.params.clear();
        bool ok = true;
        for (std::size_t i = 0; ok && i < parts.size(); ++i) {
            const auto& segment = route.segments[i];
            if (segment.param) {
                std::int64_t id = 0;
                ok = parse_id(parts[i], id);
                if (ok) result.params.push_back(id);
            } else {
                ok = segment.literal == parts[i];
            }
        }
        if (ok) {
            result.route = &route;
            return result;
        }
    }
    result.params.clear();
    return result;
}

Response Router::handle(Request& request) const {
    try {
        Match found = match(request.method, request.path);
        if (found.route == nullptr) return error_response(404, "no such API: " + request.method + " " + request.path);
        request.params = std::move(found.params);
        const ictcore::Principal who = found.route->options.needs_auth ? authenticator_(request) : ictcore::Principal();
        Response response = found.route->handler(request, who);
        if (response.stream) {
            // Pull the first chunk here, where an exception still becomes a proper status and
            // where a short listing can go out with a Content-Length instead of chunks.
            if (!response.stream(response.body)) response.stream = nullptr;
        }
        return response;
    } catch (...) {
        return exception_response(std::current_exception());
    }
}

}  // namespace ictcore::server

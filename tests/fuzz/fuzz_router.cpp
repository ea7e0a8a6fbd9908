// Fuzz target: the route matcher and the query string of a request. The input is a request line
// ("METHOD target"); the target is split and decoded as http_session.cpp does (Boost.URL, '+' as
// space), matched against a table with the API's pattern shapes through Router::handle, and its
// query read as list filters (ListQuery::from_pairs). Checks that a match binds one id per
// `{param}` segment, that the same route matches the path rebuilt from its pattern and ids,
// and that only ictcore::Error(invalid) comes out of the query.
#include "router.hpp"

#include <ictcore/error.hpp>
#include <ictcore/query.hpp>

#include <boost/url/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "authenticator.hpp"
#include "fuzz_support.hpp"

namespace ictcore::server {
// router.cpp's runs_inline asks this; the target never calls runs_inline, and the real one needs
// the whole authentication stack.
bool Authenticator::carries_token(const Request&) { __builtin_trap(); }
}  // namespace ictcore::server

namespace {

using ictcore::fuzz::check;
using ictcore::server::Request;
using ictcore::server::Response;
using ictcore::server::Router;

// The shapes of the API's routes (server/routes*.cpp): collections, items, nested items with
// two ids, literals after and between ids, a literal where an id could be, and DELETE's GET
// …/delete twin that Router::add makes.
constexpr std::pair<std::string_view, std::string_view> patterns[] = {
    {"POST", "/authentication"},
    {"GET", "/statistics"},
    {"GET", "/contacts"},
    {"POST", "/contacts"},
    {"GET", "/contacts/{contact_id}"},
    {"PUT", "/contacts/{contact_id}"},
    {"DELETE", "/contacts/{contact_id}"},
    {"PUT", "/contacts/{contact_id}/link/{group_id}"},
    {"DELETE", "/contacts/{contact_id}/link/{group_id}"},
    {"GET", "/groups/sample/csv"},
    {"GET", "/groups/{group_id}/csv"},
    {"POST", "/groups/{group_id}/csv"},
    {"GET", "/groups/{group_id}/contacts"},
    {"PUT", "/users/{user_id}/roles/{role_id}"},
    {"GET", "/messages/texts/{text_id}"},
    {"PUT", "/messages/recordings/{recording_id}/media"},
    {"POST", "/programs/sendsms"},
    {"GET", "/programs/{program_id}"},
    {"PUT", "/accounts/{account_id}/programs/{program_id}"},
    {"DELETE", "/accounts/{account_id}/programs"},
    {"POST", "/transmissions/{transmission_id}/send"},
    {"GET", "/transmissions/{transmission_id}/status"},
    {"POST", "/campaigns/{campaign_id}/start/schedule"},
    {"DELETE", "/campaigns/{campaign_id}/schedule"},
    {"GET", "/spools/{spool_id}/result"},
    {"GET", "/gateways/kannel/report"},
    {"GET", "/gateways/kannel"},
};

const Router& router() {
    static const Router table = [] {
        Router r([](const Request&) -> ictcore::Principal { __builtin_trap(); });
        for (const auto& [method, pattern] : patterns) {
            // Each handler answers with its pattern, so the test sees which route ran.
            r.add(
                method, pattern,
                [pattern = std::string(pattern)](const Request&, const ictcore::Principal&) {
                    Response response;
                    response.body = pattern;
                    return response;
                },
                Router::RouteOptions{.needs_auth = false});
        }
        return r;
    }();
    return table;
}

// The path the route's pattern gives with these ids.
std::string rebuild(const Router::Route& route, const std::vector<std::int64_t>& ids) {
    std::string path;
    std::size_t next = 0;
    for (const auto& segment : route.segments) {
        path += '/';
        path += segment.param ? std::to_string(ids.at(next++)) : segment.literal;
    }
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return 0;
    const auto url = boost::urls::parse_origin_form(line.substr(space + 1));
    if (!url) return 0;
    Request request;
    request.method = std::string(line.substr(0, space));
    request.path = url->path();
    for (const auto& param : url->params(boost::urls::encoding_opts(true, false, false))) {
        request.query.emplace_back(param.key, param.has_value ? param.value : std::string());
    }

    const Router::Match match = router().match(request.method, request.path);
    const Response response = router().handle(request);
    if (!match.route) {
        check(response.status == 404, "an unmatched request did not answer 404");
    } else {
        // A DELETE route's GET …/delete twin shares its handler.
        check(response.status == 200 &&
                  (match.route->pattern == response.body || match.route->pattern == response.body + "/delete"),
              "handle ran another route");
        check(request.params == match.params, "handle bound other ids than match");
        std::size_t ids = 0;
        for (const auto& segment : match.route->segments) ids += segment.param ? 1 : 0;
        check(match.params.size() == ids, "not one id per {param} segment");
        for (const auto id : match.params) check(id >= 0 && id < 1000000000000000000, "an id out of range");
        const auto again = router().match(request.method, rebuild(*match.route, match.params));
        check(again.route == match.route && again.params == match.params, "the rebuilt path matches elsewhere");
    }

    try {
        const auto query = ictcore::ListQuery::from_pairs(request.query);
        check(!query.limit || *query.limit >= 0, "a negative limit");
        check(!query.offset || *query.offset >= 0, "a negative offset");
        std::size_t controls = 0;
        for (const auto& [key, value] : request.query) controls += key == "limit" || key == "offset" || key == "sort";
        check(query.filters.size() + controls == request.query.size(), "a query pair was lost");
    } catch (const ictcore::Error& e) {
        check(e.code() == ictcore::Errc::invalid, "a query threw an Error that is not invalid");
    }
    return 0;
}

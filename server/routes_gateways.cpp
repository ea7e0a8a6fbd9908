// Routes the gateways' far ends call, with no user credentials: Kannel's delivery reports
// (authenticated by the per-spool token in the dlr-url) and Kannel's inbound SMS (get-url,
// authenticated by the inbound key). Both answer 200 to anything well-formed that they ignore,
// so Kannel does not retry it forever.
#include <spdlog/spdlog.h>

#include <charconv>
#include <map>

#include "route_support.hpp"
#include "routes.hpp"

namespace ictcore::server {

namespace {

using routes::json_response;
namespace json = boost::json;

std::map<std::string, std::string> query_map(const Request& request) {
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : request.query) out.emplace(key, value);
    return out;
}

std::string take(std::map<std::string, std::string>& query, const std::string& name) {
    const auto it = query.find(name);
    if (it == query.end()) return {};
    auto value = std::move(it->second);
    query.erase(it);
    return value;
}

Response text_response(std::string text) {
    Response response;
    response.content_type = "text/plain; charset=utf-8";
    response.body = std::move(text);
    return response;
}

Response delivery_report(ictcore::Core& core, const Request& request) {
    auto query = query_map(request);
    const auto spool_text = take(query, "spool");
    std::int64_t spool_id = 0;
    const auto* end = spool_text.data() + spool_text.size();
    if (spool_text.empty() || std::from_chars(spool_text.data(), end, spool_id).ptr != end || spool_id <= 0) {
        throw ictcore::Error(ictcore::Errc::invalid, "a delivery report needs the spool id of its URL");
    }
    const auto token = take(query, "token");
    using Result = ictcore::DeliveryReports::Result;
    const auto result = core.delivery_reports().receive("kannel", spool_id, token, query);
    if (result == Result::ignored) spdlog::info("kannel: a report on spool {} was ignored: it awaits none", spool_id);
    return text_response(result == Result::recorded       ? "recorded"
                         : result == Result::intermediate ? "noted"
                                                          : "ignored");
}

Response inbound_sms(ictcore::Core& core, const Request& request) {
    auto query = query_map(request);
    if (!core.inbound().verify_key("kannel", take(query, "key"))) {
        throw ictcore::Error(ictcore::Errc::unauthenticated, "the inbound key is missing or wrong");
    }
    ictcore::InboundSms sms;
    sms.from = take(query, "from");
    sms.to = take(query, "to");
    sms.text = take(query, "text");
    sms.gateway = take(query, "smsc");
    sms.message_id = take(query, "id");
    try {
        const auto receipt = core.inbound().receive_sms(sms);
        spdlog::info("kannel: SMS from {} to {} recorded as transmission {}", sms.from, sms.to,
                     receipt.transmission_id);
        return text_response("recorded");
    } catch (const ictcore::Error& e) {
        if (e.code() != ictcore::Errc::not_found) throw;
        // Kannel would only send it again: say it was seen and log why it went nowhere.
        spdlog::warn("kannel: SMS from {} to {} not recorded: {}", sms.from, sms.to, e.what());
        return text_response("no account takes SMS to this number");
    }
}

// What to write in kannel.conf: the sms-service get-url, with the inbound key.
Response kannel_settings(ictcore::Core& core, const Request& request, const Principal& who) {
    const auto key = core.inbound().key(who, "kannel");
    // The URL Kannel reaches this server at: the public one, else the one the admin used.
    std::string base = core.public_url();
    if (const auto host = request.header("Host"); base.empty() && host) base = "http://" + std::string(*host);
    json::object out;
    out["get_url"] = base + "/gateways/kannel/mo?key=" + key + "&from=%p&to=%P&text=%a&smsc=%i&id=%I";
    return json_response(out);
}

}  // namespace

void add_gateway_routes(Router& router, ictcore::Core& core) {
    const Router::RouteOptions open{.needs_auth = false, .body_kind = BodyKind::json, .read_only = false};
    router.add(
        "GET", "/gateways/kannel/report",
        [&core](const Request& request, const Principal&) { return delivery_report(core, request); }, open);
    router.add(
        "GET", "/gateways/kannel/mo",
        [&core](const Request& request, const Principal&) { return inbound_sms(core, request); }, open);
    router.add("GET", "/gateways/kannel",
               [&core](const Request& request, const Principal& who) { return kannel_settings(core, request, who); });
}

}  // namespace ictcore::server

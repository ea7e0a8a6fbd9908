// Fuzz target: Kannel's delivery reports. The input is the query string Kannel puts on the
// dlr-url; it is decoded as the server decodes request targets (Boost.URL, '+' as space, the
// first value of a repeated key, as routes_gateways.cpp) and given to KannelGateway::parse_report.
// Checks that only ictcore::Error(invalid) escapes and that the outcome is one a report may give,
// carrying the SMSC's reason.
#include "gateways/kannel.hpp"

#include <ictcore/error.hpp>
#include <ictcore/gateway.hpp>

#include <boost/url/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

namespace ictcore {
// kannel.cpp finishes deliveries, which this target never makes; the engine that defines this
// is not linked.
void DeliveryCompletion::finish(Outcome) const { __builtin_trap(); }
}  // namespace ictcore

namespace {

using ictcore::fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // One gateway for the whole run: it starts a worker thread and libcurl.
    static const ictcore::gateways::KannelGateway gateway;
    const std::string target = "/gateways/kannel/report?" + std::string(reinterpret_cast<const char*>(data), size);
    const auto url = boost::urls::parse_origin_form(target);
    if (!url) return 0;
    std::map<std::string, std::string> parameters;
    for (const auto& param : url->params(boost::urls::encoding_opts(true, false, false))) {
        parameters.emplace(param.key, param.has_value ? param.value : std::string());
    }
    parameters.erase("spool");
    parameters.erase("token");

    std::optional<ictcore::Outcome> outcome;
    try {
        outcome = gateway.parse_report(parameters);
    } catch (const ictcore::Error& e) {
        check(e.code() == ictcore::Errc::invalid, "parse_report threw an Error that is not invalid");
        return 0;
    }
    check(parameters.count("type") == 1, "a report without a type was accepted");
    if (!outcome) return 0;
    using Kind = ictcore::Outcome::Kind;
    check(outcome->kind == Kind::delivered || outcome->kind == Kind::failed || outcome->kind == Kind::rejected,
          "a report gave an outcome other than delivered, failed or rejected");
    const auto reason = parameters.find("reason");
    if (reason != parameters.end() && !reason->second.empty()) {
        check(outcome->response.find(reason->second) != std::string::npos, "the SMSC's reason was lost");
    }
    return 0;
}

// DeliveryReports (see delivery_reports.hpp) and the host's public URL the report URLs are
// built from.
#include "core_state.hpp"

#include <ictcore/delivery_reports.hpp>
#include <ictcore/error.hpp>

#include <fmt/format.h>

#include <future>

namespace ictcore {

namespace detail {

std::string CoreState::public_url() const {
    std::lock_guard lock(public_url_mutex_);
    return public_url_;
}

void CoreState::set_public_url(std::string url) {
    while (!url.empty() && url.back() == '/') url.pop_back();
    std::lock_guard lock(public_url_mutex_);
    public_url_ = std::move(url);
}

std::string CoreState::report_url(std::string_view gateway_type, std::int64_t spool_id) const {
    auto base = public_url();
    if (base.empty()) return {};
    return fmt::format("{}/gateways/{}/report?spool={}&token={}", base, gateway_type, spool_id,
                       delivery_reports.token(spool_id));
}

}  // namespace detail

DeliveryReports::DeliveryReports(detail::CoreState& state) : state_(state) {}

std::string DeliveryReports::token(std::int64_t spool_id) const {
    return state_.signer.url_token(fmt::format("delivery-report:{}", spool_id));
}

bool DeliveryReports::verify(std::int64_t spool_id, std::string_view token) const {
    return state_.signer.url_token_matches(fmt::format("delivery-report:{}", spool_id), token);
}

DeliveryReports::Result DeliveryReports::receive(std::string_view gateway_type, std::int64_t spool_id,
                                                 std::string_view token,
                                                 const std::map<std::string, std::string>& parameters) {
    if (!verify(spool_id, token)) throw Error(Errc::unauthenticated, "the report's token is not valid for its spool");
    const auto gateway = state_.engine->gateway(gateway_type);
    if (!gateway) throw Error(Errc::not_found, fmt::format("no gateway of type '{}'", gateway_type));
    auto outcome = gateway->parse_report(parameters);
    // Shared: a report outliving this wait (the engine stopping) must find the promise alive.
    auto recorded = std::make_shared<std::promise<Result>>();
    auto result = recorded->get_future();
    state_.engine->report(spool_id, std::string(gateway_type), std::move(outcome),
                          [recorded](Result r, std::exception_ptr error) {
                              if (error)
                                  recorded->set_exception(error);
                              else
                                  recorded->set_value(r);
                          });
    if (result.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
        throw Error(Errc::internal, "the delivery report could not be recorded in time");
    }
    return result.get();
}

}  // namespace ictcore

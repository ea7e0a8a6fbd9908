// DeliveryReports: the final outcomes that arrive after a gateway handed a message on
// (Outcome::accepted), such as an SMSC's delivery report through Kannel's dlr-url. A report
// carries no user credentials: each attempt's report URL holds a token that authenticates
// reports about that one spool (a keyed hash of its id under the installation's secret, so it
// is unguessable, needs no storage and survives restarts).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace ictcore {

namespace detail {
struct CoreState;
}

class DeliveryReports {
public:
    explicit DeliveryReports(detail::CoreState& state);

    // The token of report URLs for `spool_id`.
    std::string token(std::int64_t spool_id) const;
    // Constant-time check of a token taken from a report.
    bool verify(std::int64_t spool_id, std::string_view token) const;

    enum class Result {
        recorded,      // the attempt ended with the reported outcome
        intermediate,  // a step on the way (buffered, …): the attempt still awaits its report
        ignored,       // no attempt of that spool awaits a report (unknown, ended, deleted)
    };
    // Handles a report for a spool of a provider of `gateway_type`. The gateway reads the
    // report's `parameters`. Waits until the outcome is committed. Throws
    // Error(unauthenticated) for a wrong token, Error(not_found) for a gateway type that is not
    // registered or takes no reports, Error(invalid) for a report the gateway cannot read.
    Result receive(std::string_view gateway_type, std::int64_t spool_id, std::string_view token,
                   const std::map<std::string, std::string>& parameters);

private:
    detail::CoreState& state_;
};

}  // namespace ictcore

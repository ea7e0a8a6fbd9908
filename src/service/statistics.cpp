// Statistics over the caller's rows.
#include <ictcore/statistics.hpp>

#include "core_state.hpp"
#include "store/queries.hpp"

namespace ictcore {

StatisticsReport Statistics::get(const Principal& who) {
    who.require("statistic_read");
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->read([&](store::Connection& c) { return store::statistics(c, scope); });
}

}  // namespace ictcore

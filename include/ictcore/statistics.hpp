// Statistics: counts over the caller's own rows (every row for admins).
#pragma once

#include <ictcore/field.hpp>
#include <ictcore/principal.hpp>

namespace ictcore {

namespace detail {
struct CoreState;
}

struct StatisticsReport {
    std::int64_t campaign_total = 0;
    std::int64_t campaign_active = 0;
    std::int64_t group_total = 0;
    std::int64_t contact_total = 0;
    std::int64_t transmission_total = 0;
    std::int64_t transmission_active = 0;
    std::int64_t spool_total = 0;
    std::int64_t spool_success = 0;
    std::int64_t spool_failed = 0;
};

// Every count is computed by the store over the caller's rows.
template <>
struct Describe<StatisticsReport> {
    static constexpr std::string_view entity = "statistic";
    using S = StatisticsReport;
    using F = Field<S, std::int64_t>;
    static constexpr auto fields = std::make_tuple(
        F{"campaign_total", &S::campaign_total, field::computed},
        F{"campaign_active", &S::campaign_active, field::computed}, F{"group_total", &S::group_total, field::computed},
        F{"contact_total", &S::contact_total, field::computed},
        F{"transmission_total", &S::transmission_total, field::computed},
        F{"transmission_active", &S::transmission_active, field::computed},
        F{"spool_total", &S::spool_total, field::computed}, F{"spool_success", &S::spool_success, field::computed},
        F{"spool_failed", &S::spool_failed, field::computed});
};

class Statistics {
public:
    explicit Statistics(detail::CoreState& state) : state_(state) {}
    StatisticsReport get(const Principal& who);

private:
    detail::CoreState& state_;
};

}  // namespace ictcore

// Campaign: one program run against every contact of a group, paced, resumable, and never
// sending to a contact twice. Its counters are kept by the engine as transmissions end.
#pragma once

#include <ictcore/field.hpp>

#include <string_view>

namespace ictcore {

namespace campaign_status {
inline constexpr std::string_view fresh = "new";  // never started
inline constexpr std::string_view running = "running";
inline constexpr std::string_view paused = "paused";        // stopped; start resumes it
inline constexpr std::string_view completed = "completed";  // every contact reached or given up on
inline constexpr std::string_view broken = "broken";        // cannot run: see `reason`
}  // namespace campaign_status

struct Campaign {
    std::int64_t campaign_id = 0;
    std::int64_t program_id = 0;
    std::int64_t group_id = 0;
    std::int64_t account_id = 0;  // the caller's default account when omitted
    std::int64_t delay = 0;       // milliseconds between two transmissions
    std::int64_t cpm = 0;         // transmissions per minute; 0: unbounded (the slower of delay and cpm wins)
    std::int64_t try_allowed = 1;
    std::string status = std::string(campaign_status::fresh);
    std::optional<std::string> reason;  // why it is broken, or what stopped it
    // Progress. contact_total counts the group's contacts at creation or the last start, and
    // grows as contacts linked to the group since are reached.
    std::int64_t contact_total = 0;
    std::int64_t contact_done = 0;  // transmissions ended: completed + failed
    std::int64_t completed = 0;
    std::int64_t failed = 0;   // failed or invalid after every try
    std::int64_t pending = 0;  // contact_total - contact_done
    std::int64_t time_created = 0;
    std::int64_t created_by = 0;
};

template <>
struct Describe<Campaign> {
    static constexpr std::string_view entity = "campaign";
    static constexpr std::string_view table = "campaign";
    static constexpr std::string_view id = "campaign_id";
    using C = Campaign;
    static constexpr auto fields = std::make_tuple(
        Field<C, std::int64_t>{"campaign_id", &C::campaign_id, field::key},
        Field<C, std::int64_t>{"program_id", &C::program_id, field::required},
        Field<C, std::int64_t>{"group_id", &C::group_id, field::required},
        Field<C, std::int64_t>{"account_id", &C::account_id}, Field<C, std::int64_t>{"delay", &C::delay},
        Field<C, std::int64_t>{"cpm", &C::cpm}, Field<C, std::int64_t>{"try_allowed", &C::try_allowed},
        Field<C, std::string>{"status", &C::status, field::readonly | field::exact},
        Field<C, std::optional<std::string>>{"reason", &C::reason, field::readonly, -1, 1024},
        Field<C, std::int64_t>{"contact_total", &C::contact_total, field::readonly},
        Field<C, std::int64_t>{"contact_done", &C::contact_done, field::readonly},
        Field<C, std::int64_t>{"completed", &C::completed, field::readonly},
        Field<C, std::int64_t>{"failed", &C::failed, field::readonly},
        Field<C, std::int64_t>{"pending", &C::pending, field::computed},
        Field<C, std::int64_t>{"time_created", &C::time_created, field::readonly},
        Field<C, std::int64_t>{"created_by", &C::created_by, field::owner});
};

// A campaign's counters and status, as reported to progress listeners.
struct CampaignProgress {
    std::int64_t campaign_id = 0;
    std::string status;
    std::optional<std::string> reason;
    std::int64_t contact_total = 0;
    std::int64_t contact_done = 0;
    std::int64_t completed = 0;
    std::int64_t failed = 0;
    std::int64_t pending() const { return contact_total > contact_done ? contact_total - contact_done : 0; }
};

}  // namespace ictcore

// Delivery schedules: parsing the forms a client may give for when something should happen
// (a timestamp, an ISO 8601 date-time, a delay, or cron-like fields) and computing the next
// firing time. Pure computation in UTC: no I/O, no database, no process time zone.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace ictcore {

// When something should happen: once at a fixed instant, or on every minute a cron-like
// pattern matches. parse_schedule folds the timestamp, datetime and delay forms into `once`.
struct ScheduleSpec {
    enum class Kind { once, cron };
    Kind kind = Kind::once;
    std::int64_t at = 0;  // Unix seconds, for Kind::once
    // For Kind::cron: the six textual fields as normalised (e.g. "*", "1,15", "9-17", "*/5").
    // Weekday 0 and 7 both mean Sunday. Day and weekday, when both restricted, match on
    // either (classic cron rule).
    std::string year = "*", month = "*", day = "*", weekday = "*", hour = "*", minute = "*";
    bool recurring() const { return kind == Kind::cron; }
};

// Parses a JSON object holding exactly one form:
//   {"timestamp": <unix seconds, number or digit string>}
//   {"datetime": "ISO 8601"}, e.g. "2027-01-31T09:30:00Z", "2027-01-31T09:30:00+05:00",
//       "2027-01-31 09:30", "2027-01-31T09:30:00.250Z"; no offset means UTC
//   {"delay": <seconds, number or digit string, >= 0>}  -> once at now + delay
//   cron-like: any of "year", "month", "day", "weekday", "hour", "minute" (number or string)
// Unspecified cron fields finer than the finest one given default to their minimum ({"hour": 9}
// fires at 09:00 daily); coarser ones default to "*". `now` is Unix seconds.
// Throws Error(invalid), naming the field, for an empty body, mixed forms, unknown keys, bad
// values or syntax, a once-time before `now`, or a cron pattern that never fires from `now` on.
ScheduleSpec parse_schedule(const boost::json::object& body, std::int64_t now);

// Seconds since the Unix epoch now: the clock schedules, retries and spool times are read on.
std::int64_t unix_now();

// Next firing strictly after `after` (Unix seconds, UTC), or nullopt if there is none.
// Cron firings fall on second 0 of a minute; the search stops after year 9999.
// Throws Error(invalid) if a cron field of `spec` is malformed.
std::optional<std::int64_t> next_fire(const ScheduleSpec& spec, std::int64_t after);

}  // namespace ictcore

// Fuzz target: the schedule parser (parse_schedule) on a JSON body, and next_fire on what it
// accepts. Checks that only ictcore::Error escapes, that firings move strictly forward on whole
// minutes within the year 9999, that each firing is the next one after the second before it,
// and that the normalised cron fields parse back to the same schedule.
#include <ictcore/error.hpp>
#include <ictcore/schedule_spec.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_support.hpp"

namespace {

using ictcore::fuzz::check;
namespace json = boost::json;

constexpr std::int64_t now = 1800000000;         // 2027-01-15T08:00:00Z: a fixed clock
constexpr std::int64_t max_time = 253402300799;  // 9999-12-31T23:59:59Z
constexpr int firings = 4;

json::object fields_of(const ictcore::ScheduleSpec& s) {
    return {{"year", s.year},       {"month", s.month}, {"day", s.day},
            {"weekday", s.weekday}, {"hour", s.hour},   {"minute", s.minute}};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    json::parse_options options;
    options.max_depth = 64;  // as the server's parse_json
    json::error_code ec;
    json::value body = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec, {}, options);
    if (ec || !body.is_object()) return 0;

    ictcore::ScheduleSpec spec;
    try {
        spec = ictcore::parse_schedule(body.get_object(), now);
    } catch (const ictcore::Error& e) {
        check(e.code() == ictcore::Errc::invalid, "parse_schedule threw an Error that is not invalid");
        return 0;
    }

    if (!spec.recurring()) {
        check(spec.at >= now && spec.at <= max_time, "a one-off time in the past or past 9999");
        check(ictcore::next_fire(spec, now - 1) == spec.at, "a one-off does not fire at its time");
        check(!ictcore::next_fire(spec, spec.at), "a one-off fires twice");
        return 0;
    }

    std::int64_t after = now - 1;
    std::optional<std::int64_t> first;
    for (int i = 0; i < firings; ++i) {
        const auto next = ictcore::next_fire(spec, after);  // an accepted spec never throws here
        if (!next) {
            check(i > 0, "an accepted cron schedule never fires");
            break;
        }
        check(*next > after, "a firing not after the time asked");
        check(*next % 60 == 0, "a firing not on a whole minute");
        check(*next <= max_time, "a firing past the year 9999");
        check(ictcore::next_fire(spec, *next - 1) == next, "a firing is not the next one after the second before");
        if (!first) first = next;
        after = *next;
    }

    // The normalised fields are a complete spec of the same schedule.
    ictcore::ScheduleSpec again;
    try {
        again = ictcore::parse_schedule(fields_of(spec), now);
    } catch (const ictcore::Error&) {
        ictcore::fuzz::fail("the normalised cron fields do not parse");
    }
    check(again.recurring(), "the normalised fields parse as a one-off");
    check(fields_of(again) == fields_of(spec), "normalising twice changes the fields");
    check(ictcore::next_fire(again, now - 1) == first, "the normalised fields fire at another time");
    return 0;
}

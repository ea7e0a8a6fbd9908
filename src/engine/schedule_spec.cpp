// Delivery schedules: the JSON forms a client may give (timestamp, datetime, delay, cron-like
// fields), their validation, and the next firing time. All arithmetic is civil-calendar UTC via
// std::chrono, so the process time zone never matters.
#include <ictcore/error.hpp>
#include <ictcore/schedule_spec.hpp>

#include <fmt/format.h>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <bitset>
#include <chrono>
#include <cmath>
#include <limits>
#include <string_view>
#include <vector>

namespace ictcore {

namespace {

namespace json = boost::json;
namespace chr = std::chrono;

constexpr int min_year = 1970;
constexpr int max_year = 9999;
// 9999-12-31T23:59:59Z: the last instant a schedule may name, so cron and once agree on range.
constexpr std::int64_t max_time = 253402300799;

[[noreturn]] void invalid(const std::string& message) { throw Error(Errc::invalid, message); }

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    const std::int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
    return chr::sys_days{chr::year{y} / chr::month{m} / chr::day{d}}.time_since_epoch().count();
}

unsigned last_day_of(int y, unsigned m) {
    return static_cast<unsigned>(chr::year_month_day_last{chr::year{y}, chr::month_day_last{chr::month{m}}}.day());
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Digits only; nullopt on anything else or on overflow.
std::optional<std::int64_t> parse_digits(std::string_view s) {
    if (s.empty()) return std::nullopt;
    std::int64_t n = 0;
    for (char ch : s) {
        if (ch < '0' || ch > '9') return std::nullopt;
        if (n > (std::numeric_limits<std::int64_t>::max() - (ch - '0')) / 10) return std::nullopt;
        n = n * 10 + (ch - '0');
    }
    return n;
}

// An integer given as a JSON number or as a (possibly signed) digit string. Integral doubles
// are accepted because some clients serialise every number as floating point.
std::int64_t json_integer(const json::value& v, std::string_view name) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            invalid(fmt::format("{} is too large", name));
        }
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
        const double d = v.get_double();
        if (std::trunc(d) != d) invalid(fmt::format("{} must be a whole number of seconds", name));
        if (std::fabs(d) >= 9.007199254740992e15) invalid(fmt::format("{} is too large", name));
        return static_cast<std::int64_t>(d);
    }
    if (v.is_string()) {
        std::string_view s(v.get_string().data(), v.get_string().size());
        const bool negative = !s.empty() && s.front() == '-';
        if (negative) s.remove_prefix(1);
        const auto n = parse_digits(s);
        if (!n) {
            invalid(fmt::format("{} must be an integer (a number or a string of digits), not \"{}\"", name,
                                std::string_view(v.get_string().data(), v.get_string().size())));
        }
        return negative ? -*n : *n;
    }
    invalid(fmt::format("{} must be an integer (a number or a string of digits)", name));
}

// ---- datetime ------------------------------------------------------------------------------

// ISO 8601 with a time of day: date, 'T' / 't' / space, HH:MM[:SS[.frac]], then nothing (UTC),
// Z, or an offset ±HH[:MM] / ±HHMM. Fractions are dropped: schedules have second resolution.
std::int64_t parse_datetime(std::string_view text) {
    std::size_t pos = 0;
    auto fail = [&](std::string_view why) -> std::int64_t {
        invalid(fmt::format("datetime \"{}\" is not a valid ISO 8601 date-time ({}); e.g. 2027-01-31T09:30:00Z", text,
                            why));
    };
    auto number = [&](std::size_t width) -> std::optional<int> {
        if (pos + width > text.size()) return std::nullopt;
        const auto n = parse_digits(text.substr(pos, width));
        if (!n) return std::nullopt;
        pos += width;
        return static_cast<int>(*n);
    };
    auto literal = [&](char ch) {
        if (pos < text.size() && text[pos] == ch) {
            ++pos;
            return true;
        }
        return false;
    };

    const auto y = number(4);
    if (!y || !literal('-')) return fail("expected YYYY-MM-DD");
    const auto mo = number(2);
    if (!mo || !literal('-')) return fail("expected YYYY-MM-DD");
    const auto d = number(2);
    if (!d) return fail("expected YYYY-MM-DD");
    if (!(literal('T') || literal('t') || literal(' '))) return fail("expected 'T' or a space, then the time");
    const auto h = number(2);
    if (!h || !literal(':')) return fail("expected HH:MM after the date");
    const auto mi = number(2);
    if (!mi) return fail("expected HH:MM after the date");
    int s = 0;
    if (literal(':')) {
        const auto sec = number(2);
        if (!sec) return fail("expected two digits of seconds");
        s = *sec;
        if (literal('.') || literal(',')) {
            const std::size_t start = pos;
            while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
            if (pos == start) return fail("expected digits after the decimal point");
        }
    }
    std::int64_t offset = 0;
    if (literal('Z') || literal('z')) {
        // UTC
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        const auto oh = number(2);
        if (!oh) return fail("expected an offset of the form +HH:MM");
        int om = 0;
        if (pos < text.size()) {
            literal(':');  // both +HH:MM and the basic +HHMM
            const auto m = number(2);
            if (!m) return fail("expected an offset of the form +HH:MM");
            om = *m;
        }
        if (*oh > 23 || om > 59) return fail("offset out of range");
        offset = sign * (*oh * 3600 + om * 60);
    }
    if (pos != text.size()) return fail(fmt::format("unexpected \"{}\"", text.substr(pos)));

    if (*mo < 1 || *mo > 12) return fail("month out of range");
    if (*d < 1 || static_cast<unsigned>(*d) > last_day_of(*y, static_cast<unsigned>(*mo))) {
        return fail("no such day in that month");
    }
    if (*h > 23) return fail("hour out of range");
    if (*mi > 59) return fail("minute out of range");
    if (s > 59) return fail("second out of range");
    return days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * 86400 + *h * 3600 + *mi * 60 +
           s - offset;
}

// ---- cron fields ---------------------------------------------------------------------------

enum Field { f_year, f_month, f_day, f_weekday, f_hour, f_minute, field_count };

struct FieldRule {
    std::string_view name;
    int lo, hi;   // values a client may write
    int star_hi;  // what '*' covers (weekday 7 is only an alias of 0)
    int level;    // coarse to fine; day and weekday share one
    const char* minimum;
};

constexpr std::array<FieldRule, field_count> rules{{
    {"year", min_year, max_year, max_year, 0, "1970"},
    {"month", 1, 12, 12, 1, "1"},
    {"day", 1, 31, 31, 2, "1"},
    {"weekday", 0, 7, 6, 2, "0"},
    {"hour", 0, 23, 23, 3, "0"},
    {"minute", 0, 59, 59, 4, "0"},
}};

// Indexed by the value itself; big enough for years.
using Bits = std::bitset<max_year + 1>;

struct Compiled {
    std::array<Bits, field_count> bits;
    bool day_restricted = false;
    bool weekday_restricted = false;
};

std::optional<int> next_set(const Bits& bits, int from, int hi) {
    for (int v = from; v <= hi; ++v) {
        if (bits[static_cast<std::size_t>(v)]) return v;
    }
    return std::nullopt;
}

// Parses one field's text into `bits` and returns its normalised text: items trimmed, numbers
// without leading zeros, and "*" alone if any item is a bare "*".
std::string compile_field(std::string_view text, const FieldRule& rule, Bits& bits) {
    const std::string_view name = rule.name;
    if (trim(text).empty()) invalid(fmt::format("{} is empty", name));
    auto value = [&](std::string_view s) {
        const auto n = parse_digits(s);
        if (!n) invalid(fmt::format("{}: \"{}\" is not a number in \"{}\"", name, s, text));
        if (*n < rule.lo || *n > rule.hi) {
            invalid(fmt::format("{}: {} is out of range {}-{}", name, *n, rule.lo, rule.hi));
        }
        return static_cast<int>(*n);
    };

    std::vector<std::string> items;
    bool any_star = false;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string_view item = trim(text.substr(start, comma - start));
        start = comma + 1;
        if (item.empty()) invalid(fmt::format("{}: empty item in list \"{}\"", name, text));

        const std::size_t slash = item.find('/');
        const std::string_view base = trim(item.substr(0, slash));
        int step = 1;
        if (slash != std::string_view::npos) {
            const std::string_view step_text = trim(item.substr(slash + 1));
            const auto n = parse_digits(step_text);
            if (!n || *n == 0 || *n > rule.hi) {
                invalid(fmt::format("{}: step \"{}\" in \"{}\" must be a number from 1 to {}", name, step_text, text,
                                    rule.hi));
            }
            step = static_cast<int>(*n);
        }

        int first = 0;
        int last = 0;
        std::string normal;
        if (base == "*") {
            first = rule.lo;
            last = rule.star_hi;
            normal = "*";
            if (slash == std::string_view::npos) any_star = true;
        } else if (const std::size_t dash = base.find('-'); dash != std::string_view::npos) {
            first = value(trim(base.substr(0, dash)));
            last = value(trim(base.substr(dash + 1)));
            if (first > last) {
                invalid(
                    fmt::format("{}: range {}-{} runs backwards; write it as a list of two ranges", name, first, last));
            }
            normal = fmt::format("{}-{}", first, last);
        } else {
            if (slash != std::string_view::npos) {
                invalid(fmt::format("{}: a step needs \"*\" or a range before it, as in */{} or 0-30/{}", name, step,
                                    step));
            }
            first = last = value(base);
            normal = std::to_string(first);
        }
        if (slash != std::string_view::npos) normal += fmt::format("/{}", step);
        for (int v = first; v <= last; v += step) {
            // Weekday 7 is Sunday, as in most crons.
            bits.set(static_cast<std::size_t>(rule.name == "weekday" && v == 7 ? 0 : v));
        }
        items.push_back(std::move(normal));
    }
    if (any_star) return "*";
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) out += ',';
        out += item;
    }
    return out;
}

bool covers_all(const Bits& bits, int lo, int hi) { return next_set(~bits, lo, hi) == std::nullopt; }

Compiled compile(const ScheduleSpec& spec) {
    const std::array<const std::string*, field_count> texts{&spec.year,    &spec.month, &spec.day,
                                                            &spec.weekday, &spec.hour,  &spec.minute};
    Compiled c;
    for (int f = 0; f < field_count; ++f) compile_field(*texts[f], rules[f], c.bits[f]);
    // "Restricted" is judged on the set, not the spelling: "1-31" restricts no more than "*".
    c.day_restricted = !covers_all(c.bits[f_day], 1, 31);
    c.weekday_restricted = !covers_all(c.bits[f_weekday], 0, 6);
    return c;
}

bool day_matches(const Compiled& c, int y, unsigned m, unsigned d) {
    const bool dom = c.bits[f_day][d];
    const auto wd = chr::weekday{chr::sys_days{chr::year{y} / chr::month{m} / chr::day{d}}}.c_encoding();
    const bool dow = c.bits[f_weekday][wd];
    if (c.day_restricted && c.weekday_restricted) return dom || dow;
    if (c.day_restricted) return dom;
    if (c.weekday_restricted) return dow;
    return true;
}

// First matching day in [d, last], or nullopt.
std::optional<unsigned> next_day(const Compiled& c, int y, unsigned m, unsigned d, unsigned last) {
    if (!c.weekday_restricted) {
        // Only the day of month constrains: jump straight to it, so impossible dates such as
        // February 30th cost one step per year.
        const auto n = next_set(c.bits[f_day], static_cast<int>(d), static_cast<int>(last));
        if (!n) return std::nullopt;
        return static_cast<unsigned>(*n);
    }
    // A restricted weekday matches within a week, so this loop is short.
    for (; d <= last; ++d) {
        if (day_matches(c, y, m, d)) return d;
    }
    return std::nullopt;
}

std::optional<std::int64_t> next_cron(const ScheduleSpec& spec, std::int64_t after) {
    const Compiled c = compile(spec);
    if (after >= max_time) return std::nullopt;
    const std::int64_t t = std::max<std::int64_t>(0, floor_div(after, 60) * 60 + 60);

    const std::int64_t days = floor_div(t, 86400);
    const std::int64_t secs = t - days * 86400;
    const chr::year_month_day ymd{chr::sys_days{chr::days{days}}};
    int y = static_cast<int>(ymd.year());
    unsigned m = static_cast<unsigned>(ymd.month());
    unsigned d = static_cast<unsigned>(ymd.day());
    int h = static_cast<int>(secs / 3600);
    int mi = static_cast<int>(secs % 3600 / 60);

    // Each level either matches or moves to the next candidate at that level and resets the
    // finer ones, so whole years, months and days that cannot match are skipped at once.
    auto next_month = [&] {
        d = 1;
        h = mi = 0;
        if (++m > 12) {
            m = 1;
            ++y;
        }
    };
    while (y <= max_year) {
        if (!c.bits[f_year][static_cast<std::size_t>(y)]) {
            const auto ny = next_set(c.bits[f_year], y + 1, max_year);
            if (!ny) return std::nullopt;
            y = *ny;
            m = d = 1;
            h = mi = 0;
            continue;
        }
        if (!c.bits[f_month][m]) {
            const auto nm = next_set(c.bits[f_month], static_cast<int>(m) + 1, 12);
            if (!nm) {
                m = 12;
                next_month();
            } else {
                m = static_cast<unsigned>(*nm);
                d = 1;
                h = mi = 0;
            }
            continue;
        }
        const auto nd = next_day(c, y, m, d, last_day_of(y, m));
        if (!nd) {
            next_month();
            continue;
        }
        if (*nd != d) {
            d = *nd;
            h = mi = 0;
        }
        const auto nh = next_set(c.bits[f_hour], h, 23);
        if (!nh) {
            ++d;
            h = mi = 0;
            continue;
        }
        if (*nh != h) {
            h = *nh;
            mi = 0;
        }
        const auto nmi = next_set(c.bits[f_minute], mi, 59);
        if (!nmi) {
            ++h;
            mi = 0;
            continue;
        }
        return days_from_civil(y, m, d) * 86400 + h * 3600 + *nmi * 60;
    }
    return std::nullopt;
}

// A cron field from JSON: a number is range-checked here so "-1" reads as out of range rather
// than as a malformed range; a string goes through the full syntax.
std::string cron_text(const json::value& v, const FieldRule& rule) {
    if (v.is_string()) return std::string(v.get_string().data(), v.get_string().size());
    if (!v.is_number()) invalid(fmt::format("{} must be a number or a cron pattern string such as \"*/5\"", rule.name));
    std::int64_t n = 0;
    if (v.is_double()) {
        const double x = v.get_double();
        if (std::trunc(x) != x) invalid(fmt::format("{} must be a whole number", rule.name));
        if (x < rule.lo || x > rule.hi)
            invalid(fmt::format("{}: {} is out of range {}-{}", rule.name, x, rule.lo, rule.hi));
        n = static_cast<std::int64_t>(x);
    } else if (v.is_uint64()) {
        invalid(fmt::format("{}: {} is out of range {}-{}", rule.name, v.get_uint64(), rule.lo, rule.hi));
    } else {
        n = v.get_int64();
    }
    if (n < rule.lo || n > rule.hi)
        invalid(fmt::format("{}: {} is out of range {}-{}", rule.name, n, rule.lo, rule.hi));
    return std::to_string(n);
}

}  // namespace

std::int64_t unix_now() {
    return chr::duration_cast<chr::seconds>(chr::system_clock::now().time_since_epoch()).count();
}

ScheduleSpec parse_schedule(const json::object& body, std::int64_t now) {
    if (body.empty()) {
        invalid(
            "schedule is empty: give timestamp, datetime, delay, or cron fields (year, month, day, weekday, hour, "
            "minute)");
    }
    std::vector<std::string_view> once_keys;
    std::vector<std::string_view> cron_keys;
    std::array<const json::value*, field_count> cron_values{};
    for (const auto& kv : body) {
        const std::string_view key(kv.key().data(), kv.key().size());
        if (key == "timestamp" || key == "datetime" || key == "delay") {
            once_keys.push_back(key);
            continue;
        }
        bool known = false;
        for (int f = 0; f < field_count; ++f) {
            if (rules[f].name == key) {
                cron_values[f] = &kv.value();
                cron_keys.push_back(key);
                known = true;
            }
        }
        // A misspelt field ("minutes") would otherwise silently widen the schedule.
        if (!known) {
            invalid(
                fmt::format("{} is not a schedule field; use timestamp, datetime, delay, or year, month, day, weekday, "
                            "hour, minute",
                            key));
        }
    }
    if (once_keys.size() > 1) {
        invalid(fmt::format("{} and {} cannot be combined; give one schedule form", once_keys[0], once_keys[1]));
    }
    if (!once_keys.empty() && !cron_keys.empty()) {
        invalid(fmt::format("{} cannot be combined with {}; give one schedule form", once_keys[0], cron_keys[0]));
    }

    ScheduleSpec spec;
    if (!once_keys.empty()) {
        const std::string_view key = once_keys[0];
        const json::value& v = body.at(key);
        spec.kind = ScheduleSpec::Kind::once;
        if (key == "delay") {
            const std::int64_t delay = json_integer(v, key);
            if (delay < 0) invalid("delay must not be negative");
            if (now > max_time || delay > max_time - now) invalid("delay reaches beyond the year 9999");
            spec.at = now + delay;
            return spec;
        }
        if (key == "timestamp") {
            spec.at = json_integer(v, key);
        } else {
            if (!v.is_string()) invalid("datetime must be a string such as \"2027-01-31T09:30:00Z\"");
            spec.at = parse_datetime(std::string_view(v.get_string().data(), v.get_string().size()));
        }
        if (spec.at < now) invalid(fmt::format("{} is in the past", key));
        if (spec.at > max_time) invalid(fmt::format("{} is beyond the year 9999", key));
        return spec;
    }

    spec.kind = ScheduleSpec::Kind::cron;
    std::array<std::string*, field_count> texts{&spec.year,    &spec.month, &spec.day,
                                                &spec.weekday, &spec.hour,  &spec.minute};
    int finest = -1;
    for (int f = 0; f < field_count; ++f) {
        if (cron_values[f]) finest = std::max(finest, rules[f].level);
    }
    for (int f = 0; f < field_count; ++f) {
        Bits bits;
        if (cron_values[f]) {
            *texts[f] = compile_field(cron_text(*cron_values[f], rules[f]), rules[f], bits);
        } else if (rules[f].level > finest && f != f_weekday) {
            // {"hour": 9} means 09:00, not every minute of that hour. Weekday never defaults to
            // its minimum: that would turn "the 1st of the month" into "the 1st or any Sunday".
            *texts[f] = rules[f].minimum;
        }
    }

    const int this_year = static_cast<int>(chr::year_month_day{chr::sys_days{chr::days{floor_div(now, 86400)}}}.year());
    {
        Bits years;
        compile_field(spec.year, rules[f_year], years);
        if (!next_set(years, std::max(this_year, min_year), max_year)) {
            invalid(fmt::format("year: {} is in the past", spec.year));
        }
    }
    const std::int64_t from = now > std::numeric_limits<std::int64_t>::min() ? now - 1 : now;
    if (!next_cron(spec, from)) {
        invalid(fmt::format(
            "schedule never fires from now on: no time matches year {}, month {}, day {}, weekday {}, hour {}, "
            "minute {}",
            spec.year, spec.month, spec.day, spec.weekday, spec.hour, spec.minute));
    }
    return spec;
}

std::optional<std::int64_t> next_fire(const ScheduleSpec& spec, std::int64_t after) {
    if (spec.kind == ScheduleSpec::Kind::once) {
        if (spec.at > after) return spec.at;
        return std::nullopt;
    }
    return next_cron(spec, after);
}

}  // namespace ictcore

// Delivery schedules: every JSON form, every refusal (code and the field named), and next_fire
// on the cron shapes that are easy to get wrong (month ends, leap days, day-or-weekday).
#include <ictcore/error.hpp>
#include <ictcore/schedule_spec.hpp>

#include <doctest/doctest.h>
#include <boost/json/parse.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

using namespace ictcore;
namespace chr = std::chrono;

namespace {

// Independent of the code under test: std::chrono's civil calendar, UTC.
std::int64_t utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
    const auto days = chr::sys_days{chr::year{y} / chr::month{m} / chr::day{d}}.time_since_epoch().count();
    return days * 86400 + h * 3600 + mi * 60 + s;
}

struct Civil {
    int y;
    unsigned m, d;
    int h, mi, s;
    unsigned weekday;  // 0 = Sunday
};

Civil civil(std::int64_t t) {
    const chr::sys_days day{chr::days{t >= 0 ? t / 86400 : (t - 86399) / 86400}};
    const chr::year_month_day ymd{day};
    const std::int64_t secs = t - day.time_since_epoch().count() * 86400;
    return {static_cast<int>(ymd.year()),  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
            static_cast<int>(secs / 3600), static_cast<int>(secs % 3600 / 60), static_cast<int>(secs % 60),
            chr::weekday{day}.c_encoding()};
}

// 2026-06-15T12:00:00Z, a Monday.
constexpr std::int64_t now = 1781524800;

boost::json::object body(const char* text) { return boost::json::parse(text).as_object(); }

ScheduleSpec parse(const char* text) { return parse_schedule(body(text), now); }

// The refusal must be Errc::invalid and its message must mention `field`.
void check_refused(const char* text, const std::string& field, std::int64_t at = now) {
    CAPTURE(text);
    try {
        parse_schedule(body(text), at);
        FAIL("accepted: ", text);
    } catch (const Error& e) {
        CAPTURE(e.what());
        CHECK(e.code() == Errc::invalid);
        CHECK(std::string(e.what()).find(field) != std::string::npos);
    }
}

ScheduleSpec cron(const char* year, const char* month, const char* day, const char* weekday, const char* hour,
                  const char* minute) {
    ScheduleSpec s;
    s.kind = ScheduleSpec::Kind::cron;
    s.year = year;
    s.month = month;
    s.day = day;
    s.weekday = weekday;
    s.hour = hour;
    s.minute = minute;
    return s;
}

}  // namespace

TEST_CASE("the test clock agrees with date(1)") {
    CHECK(utc(2026, 6, 15, 12) == now);
    CHECK(utc(2027, 1, 31, 9, 30) == 1801387800);
    CHECK(utc(2024, 2, 29) == 1709164800);
}

TEST_CASE("timestamp: a number or a digit string, once") {
    auto s = parse(R"({"timestamp": 1801387800})");
    CHECK(s.kind == ScheduleSpec::Kind::once);
    CHECK_FALSE(s.recurring());
    CHECK(s.at == 1801387800);
    CHECK(parse(R"({"timestamp": "1801387800"})").at == 1801387800);
    CHECK(parse(R"({"timestamp": 1801387800.0})").at == 1801387800);
    // Exactly now is still allowed.
    CHECK(parse(R"({"timestamp": 1781524800})").at == now);

    CHECK(next_fire(s, now) == 1801387800);
    CHECK(next_fire(s, 1801387799) == 1801387800);
    CHECK(next_fire(s, 1801387800) == std::nullopt);
    CHECK(next_fire(s, 1801387801) == std::nullopt);
}

TEST_CASE("timestamp refusals") {
    check_refused(R"({"timestamp": 1781524799})", "timestamp");  // one second in the past
    check_refused(R"({"timestamp": 12.5})", "timestamp");
    check_refused(R"({"timestamp": "12.5"})", "timestamp");
    check_refused(R"({"timestamp": "soon"})", "timestamp");
    check_refused(R"({"timestamp": ""})", "timestamp");
    check_refused(R"({"timestamp": true})", "timestamp");
    check_refused(R"({"timestamp": null})", "timestamp");
    check_refused(R"({"timestamp": 99999999999999})", "timestamp");  // beyond 9999
    check_refused(R"({"timestamp": "99999999999999999999999"})", "timestamp");
}

TEST_CASE("datetime: ISO 8601 with Z, offsets, fractions and a space separator") {
    const std::int64_t want = utc(2027, 1, 31, 9, 30);
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00Z"})").at == want);
    CHECK(parse(R"({"datetime": "2027-01-31t09:30:00z"})").at == want);
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00"})").at == want);  // no offset: UTC
    CHECK(parse(R"({"datetime": "2027-01-31 09:30"})").at == want);
    CHECK(parse(R"({"datetime": "2027-01-31T09:30Z"})").at == want);
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00.250Z"})").at == want);
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00,999999"})").at == want);
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:17Z"})").at == want + 17);
    // 09:30 at +05:00 is 04:30 UTC; at -03:30 it is 13:00 UTC.
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00+05:00"})").at == utc(2027, 1, 31, 4, 30));
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00+0500"})").at == utc(2027, 1, 31, 4, 30));
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00+05"})").at == utc(2027, 1, 31, 4, 30));
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00-0330"})").at == utc(2027, 1, 31, 13, 0));
    CHECK(parse(R"({"datetime": "2027-01-31T09:30:00-03:30"})").at == utc(2027, 1, 31, 13, 0));
    // An offset can move the instant across a day and year boundary.
    CHECK(parse(R"({"datetime": "2027-01-01T01:00:00+02:00"})").at == utc(2026, 12, 31, 23, 0));
    CHECK(parse(R"({"datetime": "2028-02-29T00:00:00Z"})").at == utc(2028, 2, 29));
    CHECK_FALSE(parse(R"({"datetime": "2028-02-29T00:00:00Z"})").recurring());
}

TEST_CASE("datetime refusals") {
    for (const char* text : {
             R"({"datetime": "2027-01-31"})",                 // no time
             R"({"datetime": "2027/01/31 09:30"})",           // wrong separators
             R"({"datetime": "tomorrow"})",                   //
             R"({"datetime": ""})",                           //
             R"({"datetime": "2027-1-31T09:30"})",            // one-digit month
             R"({"datetime": "2027-13-01T09:30"})",           // month 13
             R"({"datetime": "2027-00-10T09:30"})",           // month 0
             R"({"datetime": "2027-02-29T09:30"})",           // not a leap year
             R"({"datetime": "2027-04-31T09:30"})",           // April has 30 days
             R"({"datetime": "2027-01-31T24:00"})",           // hour 24
             R"({"datetime": "2027-01-31T09:60"})",           // minute 60
             R"({"datetime": "2027-01-31T09:30:61"})",        // second 61
             R"({"datetime": "2027-01-31T09:30:00.Z"})",      // empty fraction
             R"({"datetime": "2027-01-31T09:30:00+5"})",      // short offset
             R"({"datetime": "2027-01-31T09:30:00+05:0"})",   //
             R"({"datetime": "2027-01-31T09:30:00+24:00"})",  // offset out of range
             R"({"datetime": "2027-01-31T09:30:00Z junk"})",  // trailing text
             R"({"datetime": 1801387800})",                   // not a string
         }) {
        check_refused(text, "datetime");
    }
    check_refused(R"({"datetime": "2026-06-15T11:59:59Z"})", "past");
    check_refused(R"({"datetime": "2026-06-15T11:59:59Z"})", "datetime");
    CHECK(parse(R"({"datetime": "2026-06-15T12:00:00Z"})").at == now);
    // 14:00 at +03:00 is 11:00 UTC, before now.
    check_refused(R"({"datetime": "2026-06-15T14:00:00+03:00"})", "datetime");
}

TEST_CASE("delay: once at now plus the delay") {
    CHECK(parse(R"({"delay": 90})").at == now + 90);
    CHECK(parse(R"({"delay": "3600"})").at == now + 3600);
    CHECK(parse(R"({"delay": 0})").at == now);
    CHECK_FALSE(parse(R"({"delay": 5})").recurring());
    check_refused(R"({"delay": -1})", "delay");
    check_refused(R"({"delay": "-60"})", "negative");
    check_refused(R"({"delay": 1.5})", "delay");
    check_refused(R"({"delay": "1h"})", "delay");
    check_refused(R"({"delay": [1]})", "delay");
    check_refused(R"({"delay": 9000000000000000000})", "delay");  // overflows now + delay
}

TEST_CASE("the body must hold exactly one known form") {
    check_refused("{}", "empty");
    check_refused(R"({"timestamp": 1801387800, "delay": 5})", "delay");
    check_refused(R"({"timestamp": 1801387800, "delay": 5})", "timestamp");
    check_refused(R"({"datetime": "2027-01-31T09:30Z", "timestamp": 1801387800})", "timestamp");
    check_refused(R"({"timestamp": 1801387800, "hour": 9})", "hour");
    check_refused(R"({"minute": 5, "delay": 60})", "delay");
    check_refused(R"({"minute": 5, "delay": 60})", "minute");
    check_refused(R"({"minutes": 5})", "minutes");  // a typo must not be ignored
    check_refused(R"({"hour": 9, "when": "now"})", "when");
}

TEST_CASE("cron: unspecified finer fields take their minimum, coarser ones stay *") {
    auto s = parse(R"({"hour": 9})");
    CHECK(s.kind == ScheduleSpec::Kind::cron);
    CHECK(s.recurring());
    CHECK(s.year == "*");
    CHECK(s.month == "*");
    CHECK(s.day == "*");
    CHECK(s.weekday == "*");
    CHECK(s.hour == "9");
    CHECK(s.minute == "0");
    // 09:00 each day, not every minute of hour 9: after today's 12:00 comes tomorrow 09:00.
    CHECK(next_fire(s, now) == utc(2026, 6, 16, 9, 0));
    CHECK(next_fire(s, utc(2026, 6, 16, 9, 0)) == utc(2026, 6, 17, 9, 0));

    s = parse(R"({"month": 3})");
    CHECK(s.day == "1");
    CHECK(s.weekday == "*");
    CHECK(s.hour == "0");
    CHECK(s.minute == "0");
    CHECK(next_fire(s, now) == utc(2027, 3, 1));

    // Weekday is as fine as day: the day of month stays * so no OR with "the 1st" appears.
    s = parse(R"({"weekday": 1})");
    CHECK(s.day == "*");
    CHECK(s.hour == "0");
    CHECK(s.minute == "0");
    CHECK(next_fire(s, now) == utc(2026, 6, 22));

    s = parse(R"({"year": 2027, "hour": 9})");
    CHECK(s.year == "2027");
    CHECK(s.month == "*");
    CHECK(s.day == "*");
    CHECK(s.minute == "0");
    CHECK(next_fire(s, now) == utc(2027, 1, 1, 9, 0));
    CHECK(next_fire(s, utc(2027, 12, 31, 9, 0)) == std::nullopt);

    s = parse(R"({"minute": "*/15"})");
    CHECK(s.hour == "*");
    CHECK(s.minute == "*/15");
}

TEST_CASE("cron: year alone means 1 January 00:00 of that year") {
    auto s = parse(R"({"year": 2030})");
    CHECK(s.recurring());
    CHECK(s.month == "1");
    CHECK(s.day == "1");
    CHECK(s.hour == "0");
    CHECK(s.minute == "0");
    CHECK(next_fire(s, now) == utc(2030, 1, 1));
    CHECK(next_fire(s, utc(2030, 1, 1)) == std::nullopt);
    // The current year is fine as long as 1 January has not passed... which it has here.
    check_refused(R"({"year": 2026})", "never fires");
    CHECK(parse_schedule(body(R"({"year": 2026})"), utc(2025, 12, 31, 23, 59)).year == "2026");
    // Equal to now counts as firing from now on, as with a once-time.
    CHECK(next_fire(parse_schedule(body(R"({"year": 2026})"), utc(2026, 1, 1)), utc(2026, 1, 1) - 1) ==
          utc(2026, 1, 1));
}

TEST_CASE("cron: fields are normalised") {
    auto s = parse(R"({"day": " 1, 15 ", "hour": "09-17", "minute": "00"})");
    CHECK(s.day == "1,15");
    CHECK(s.hour == "9-17");
    CHECK(s.minute == "0");
    CHECK(parse(R"({"minute": "*,5"})").minute == "*");
    CHECK(parse(R"({"minute": "0-30/10,45"})").minute == "0-30/10,45");
    CHECK(parse(R"({"weekday": 7})").weekday == "7");
    CHECK(parse(R"({"hour": 9.0})").hour == "9");
    CHECK(parse(R"({"month": "12"})").month == "12");
}

TEST_CASE("cron refusals name the field") {
    check_refused(R"({"month": 13})", "month");
    check_refused(R"({"month": 0})", "month");
    check_refused(R"({"month": "1-13"})", "month");
    check_refused(R"({"day": 32})", "day");
    check_refused(R"({"day": 0})", "day");
    check_refused(R"({"weekday": 8})", "weekday");
    check_refused(R"({"weekday": -1})", "weekday");
    check_refused(R"({"hour": 24})", "hour");
    check_refused(R"({"hour": "20-24"})", "hour");
    check_refused(R"({"minute": 60})", "minute");
    check_refused(R"({"minute": "*/60"})", "minute");
    check_refused(R"({"year": 1969})", "year");
    check_refused(R"({"year": 10000})", "year");
    check_refused(R"({"year": 18446744073709551615})", "year");
    // Syntax.
    for (const char* text : {
             R"({"minute": ""})",      R"({"minute": " "})",    R"({"minute": "1-"})",    R"({"minute": "-5"})",
             R"({"minute": "a"})",     R"({"minute": "1,,2"})", R"({"minute": "1,"})",    R"({"minute": "*/0"})",
             R"({"minute": "*/x"})",   R"({"minute": "5/2"})",  R"({"minute": "30-10"})", R"({"minute": "**"})",
             R"({"minute": "1-2-3"})", R"({"minute": "1 2"})",  R"({"minute": "*/"})",    R"({"minute": 9.5})",
             R"({"minute": null})",    R"({"minute": true})",   R"({"minute": [5]})",
         }) {
        check_refused(text, "minute");
    }
    check_refused(R"({"hour": "9-17/0"})", "hour");
    check_refused(R"({"day": "L"})", "day");
}

TEST_CASE("cron that never fires after now is refused") {
    check_refused(R"({"year": 2020})", "year");
    check_refused(R"({"year": "2000-2025", "hour": 3})", "year");
    check_refused(R"({"month": 2, "day": 30})", "never fires");
    check_refused(R"({"month": "4,6,9,11", "day": 31})", "never fires");
    check_refused(R"({"year": 2027, "month": 2, "day": 29})", "never fires");
    // A year list reaching the future is fine, as is February 29th in general.
    CHECK(parse(R"({"year": "2020,2030"})").year == "2020,2030");
    CHECK(parse(R"({"month": 2, "day": 29})").day == "29");
}

TEST_CASE("next_fire: */15 minutes") {
    const auto s = parse(R"({"minute": "*/15"})");
    CHECK(next_fire(s, now) == now + 15 * 60);
    CHECK(next_fire(s, now - 1) == now);
    CHECK(next_fire(s, now + 1) == now + 15 * 60);
    CHECK(next_fire(s, utc(2026, 6, 15, 23, 45)) == utc(2026, 6, 16, 0, 0));
    CHECK(next_fire(s, utc(2026, 12, 31, 23, 50)) == utc(2027, 1, 1, 0, 0));
    std::int64_t t = now;
    for (int i = 0; i < 200; ++i) {
        const auto n = next_fire(s, t);
        REQUIRE(n);
        CHECK(*n - t == 15 * 60);
        t = *n;
    }
}

TEST_CASE("next_fire: hour ranges across day boundaries") {
    auto s = cron("*", "*", "*", "*", "9-17", "0,30");
    CHECK(next_fire(s, utc(2026, 6, 15, 17, 0)) == utc(2026, 6, 15, 17, 30));
    CHECK(next_fire(s, utc(2026, 6, 15, 17, 30)) == utc(2026, 6, 16, 9, 0));
    CHECK(next_fire(s, utc(2026, 6, 30, 23, 59)) == utc(2026, 7, 1, 9, 0));
    CHECK(next_fire(s, utc(2026, 6, 16, 3, 0)) == utc(2026, 6, 16, 9, 0));

    // Night shift written as two ranges.
    s = cron("*", "*", "*", "*", "22-23,0-1", "0");
    CHECK(next_fire(s, utc(2026, 6, 15, 12, 0)) == utc(2026, 6, 15, 22, 0));
    CHECK(next_fire(s, utc(2026, 6, 15, 23, 0)) == utc(2026, 6, 16, 0, 0));
    CHECK(next_fire(s, utc(2026, 6, 16, 1, 0)) == utc(2026, 6, 16, 22, 0));
    CHECK(next_fire(s, utc(2026, 12, 31, 23, 0)) == utc(2027, 1, 1, 0, 0));
}

TEST_CASE("next_fire: day 31 skips shorter months") {
    const auto s = parse(R"({"day": 31, "hour": 8})");
    std::int64_t t = utc(2026, 12, 31, 9, 0);
    std::string months;
    for (int i = 0; i < 8; ++i) {
        const auto n = next_fire(s, t);
        REQUIRE(n);
        const Civil c = civil(*n);
        CHECK(c.d == 31);
        CHECK(c.h == 8);
        CHECK(c.mi == 0);
        months += std::to_string(c.m) + " ";
        t = *n;
    }
    CHECK(months == "1 3 5 7 8 10 12 1 ");
    CHECK(civil(t).y == 2028);
}

TEST_CASE("next_fire: February 29th only in leap years") {
    const auto s = parse(R"({"month": 2, "day": 29})");
    CHECK(next_fire(s, now) == utc(2028, 2, 29));
    CHECK(next_fire(s, utc(2028, 2, 29)) == utc(2032, 2, 29));
    // 2100 is not a leap year; 2000 was.
    CHECK(next_fire(s, utc(2097, 1, 1)) == utc(2104, 2, 29));
    CHECK(next_fire(s, utc(1999, 1, 1)) == utc(2000, 2, 29));
    CHECK(next_fire(cron("2027", "2", "29", "*", "0", "0"), 0) == std::nullopt);
}

TEST_CASE("next_fire: weekday only") {
    // Mondays at 08:15; now is a Monday at 12:00, so the next is a week later.
    const auto s = parse(R"({"weekday": 1, "hour": 8, "minute": 15})");
    std::int64_t t = now;
    for (int i = 0; i < 60; ++i) {
        const auto n = next_fire(s, t);
        REQUIRE(n);
        const Civil c = civil(*n);
        CHECK(c.weekday == 1);
        CHECK(c.h == 8);
        CHECK(c.mi == 15);
        if (i > 0) CHECK(*n - t == 7 * 86400);
        t = *n;
    }
    CHECK(next_fire(s, now) == utc(2026, 6, 22, 8, 15));
    // 0 and 7 are both Sunday.
    CHECK(next_fire(parse(R"({"weekday": 7})"), now) == utc(2026, 6, 21));
    CHECK(next_fire(parse(R"({"weekday": 0})"), now) == utc(2026, 6, 21));
    CHECK(next_fire(parse(R"({"weekday": "5-7"})"), now) == utc(2026, 6, 19));
    // Mon-Fri: Friday evening leads to Monday.
    CHECK(next_fire(cron("*", "*", "*", "1-5", "9", "0"), utc(2026, 6, 19, 10)) == utc(2026, 6, 22, 9));
}

TEST_CASE("next_fire: day and weekday both restricted fire on either") {
    // The 13th of the month or any Friday.
    const auto s = parse(R"({"day": 13, "weekday": 5, "hour": 10})");
    std::int64_t t = now;
    int thirteenths = 0;
    int fridays = 0;
    int friday_13ths = 0;
    for (int i = 0; i < 300; ++i) {
        const auto n = next_fire(s, t);
        REQUIRE(n);
        REQUIRE(*n > t);
        const Civil c = civil(*n);
        CHECK((c.d == 13 || c.weekday == 5));
        CHECK(c.h == 10);
        thirteenths += c.d == 13;
        fridays += c.weekday == 5;
        friday_13ths += c.d == 13 && c.weekday == 5;
        // Nothing matching is skipped: every day strictly between two firings matches neither.
        for (std::int64_t day = t / 86400 + 1; day < *n / 86400; ++day) {
            const Civil between = civil(day * 86400);
            CHECK_FALSE((between.d == 13 || between.weekday == 5));
        }
        t = *n;
    }
    CHECK(thirteenths > 0);
    CHECK(fridays > thirteenths);
    CHECK(friday_13ths > 0);  // 2026-11-13 is a Friday, and it fires once, not twice
    CHECK(next_fire(s, now) == utc(2026, 6, 19, 10));
    CHECK(next_fire(s, utc(2026, 7, 10, 10)) == utc(2026, 7, 13, 10));  // a Monday the 13th

    // With day "*" only the weekday constrains; "1-31" restricts no more than "*".
    for (const char* day : {"*", "1-31"}) {
        const auto w = cron("*", "*", day, "5", "10", "0");
        t = now;
        for (int i = 0; i < 20; ++i) {
            const auto n = next_fire(w, t);
            REQUIRE(n);
            CHECK(civil(*n).weekday == 5);
            t = *n;
        }
    }
    // With weekday "*" only the day constrains.
    const auto d = cron("*", "*", "13", "*", "10", "0");
    CHECK(next_fire(d, now) == utc(2026, 7, 13, 10));
}

TEST_CASE("next_fire: impossible specs return nullopt quickly") {
    const auto start = chr::steady_clock::now();
    CHECK(next_fire(cron("*", "2", "30", "*", "0", "0"), now) == std::nullopt);
    CHECK(next_fire(cron("*", "2", "31", "*", "*", "*"), 0) == std::nullopt);
    CHECK(next_fire(cron("*", "4,6,9,11", "31", "*", "0", "0"), now) == std::nullopt);
    CHECK(next_fire(cron("*/2", "2", "30-31", "*", "*/5", "*"), -1'000'000'000) == std::nullopt);
    CHECK(next_fire(cron("2019", "*", "*", "*", "*", "*"), now) == std::nullopt);
    CHECK(next_fire(cron("9999", "12", "31", "*", "23", "59"), utc(9999, 12, 31, 23, 59)) == std::nullopt);
    CHECK(next_fire(cron("*", "*", "*", "*", "*", "*"), 253402300799) == std::nullopt);
    CHECK(next_fire(cron("*", "*", "*", "*", "*", "*"), std::numeric_limits<std::int64_t>::max()) == std::nullopt);
    const auto elapsed = chr::steady_clock::now() - start;
    CHECK(elapsed < chr::seconds(1));
    // The far end of the range still works.
    CHECK(next_fire(cron("9999", "12", "31", "*", "23", "59"), now) == utc(9999, 12, 31, 23, 59));
}

TEST_CASE("next_fire: minute resolution and times before 1970") {
    const auto every = cron("*", "*", "*", "*", "*", "*");
    CHECK(next_fire(every, now) == now + 60);
    CHECK(next_fire(every, now + 59) == now + 60);
    CHECK(next_fire(every, now - 1) == now);
    CHECK(next_fire(every, -1) == 0);
    CHECK(next_fire(every, -86400 * 365) == 0);
    CHECK(next_fire(every, std::numeric_limits<std::int64_t>::min()) == 0);
}

TEST_CASE("next_fire: a malformed cron spec is refused, not guessed") {
    for (const auto& s : {cron("*", "13", "*", "*", "*", "*"), cron("*", "*", "*", "*", "*", "x"),
                          cron("*", "*", "", "*", "*", "*"), cron("1969", "*", "*", "*", "*", "*")}) {
        try {
            (void)next_fire(s, now);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.code() == Errc::invalid);
        }
    }
}

TEST_CASE("next_fire: 1000 firings of */7 minutes, 09-17, Monday to Friday") {
    const auto s = parse(R"({"minute": "*/7", "hour": "9-17", "weekday": "1-5"})");
    CHECK(s.recurring());
    CHECK(s.day == "*");
    std::int64_t t = now;
    std::int64_t first = 0;
    for (int i = 0; i < 1000; ++i) {
        const auto n = next_fire(s, t);
        REQUIRE(n);
        REQUIRE(*n > t);
        if (i == 0) first = *n;
        const Civil c = civil(*n);
        CHECK(c.s == 0);
        CHECK(c.mi % 7 == 0);
        CHECK(c.h >= 9);
        CHECK(c.h <= 17);
        CHECK(c.weekday >= 1);
        CHECK(c.weekday <= 5);
        // Within one hour the next firing is the next multiple of 7 if there is one.
        if (i > 0 && c.mi != 0) CHECK(*n - t == 7 * 60);
        t = *n;
    }
    CHECK(first == utc(2026, 6, 15, 12, 7));
    // 9 firings an hour (0..56), 9 hours a day: 1000 firings span more than 12 working days.
    CHECK(t - first > 12 * 86400);
}

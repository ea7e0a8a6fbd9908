// LoginThrottle: free failures, then doubling waits per username and per address, forgetting,
// a success clearing its username, and the memory bound.
#include "auth/login_throttle.hpp"

#include <ictcore/error.hpp>

#include <doctest/doctest.h>

using ictcore::Errc;
using ictcore::Error;
using ictcore::auth::LoginThrottle;
using namespace std::chrono_literals;

namespace {

// The seconds check() asks to wait, or 0 when it lets the attempt through.
long long wait_of(LoginThrottle& t, std::string_view user, std::string_view client,
                  LoginThrottle::Clock::time_point now) {
    try {
        t.check(user, client, now);
        return 0;
    } catch (const Error& e) {
        REQUIRE(e.code() == Errc::too_many_requests);
        return e.retry_after().count();
    }
}

}  // namespace

TEST_CASE("login throttle: five free failures per username, then doubling waits up to the cap") {
    LoginThrottle t;
    const auto t0 = LoginThrottle::Clock::now();
    for (int i = 0; i < 5; ++i) {
        CHECK(wait_of(t, "ada", "10.0.0.1", t0) == 0);
        t.failed("ada", "10.0.0.1", t0);
    }
    CHECK(wait_of(t, "ada", "10.0.0.1", t0) == 1);
    CHECK(wait_of(t, "ADA", "10.0.0.9", t0) == 1);  // case and address do not escape it
    CHECK(wait_of(t, "bob", "10.0.0.1", t0) == 0);  // another user from that address may try
    CHECK(wait_of(t, "ada", "10.0.0.1", t0 + 1s) == 0);
    t.failed("ada", "10.0.0.1", t0 + 1s);
    CHECK(wait_of(t, "ada", "10.0.0.1", t0 + 1s) == 2);
    auto now = t0 + 1s;
    for (int i = 0; i < 20; ++i) {
        now += 10min;  // within forget_after (15 min) of the last failure
        t.failed("ada", {}, now);
    }
    CHECK(wait_of(t, "ada", {}, now) == 300);  // capped
    // Forgotten 15 minutes after the last failure.
    CHECK(wait_of(t, "ada", {}, now + 15min) == 0);
}

TEST_CASE("login throttle: a success clears the username, not the address") {
    LoginThrottle::Policy p;
    p.free_failures_per_address = 3;
    LoginThrottle t(p);
    const auto t0 = LoginThrottle::Clock::now();
    for (int i = 0; i < 4; ++i) t.failed("ada", "192.0.2.7", t0);
    CHECK(wait_of(t, "ada", "192.0.2.7", t0) > 0);
    t.succeeded("ada");
    CHECK(wait_of(t, "ada", {}, t0) == 0);
    CHECK(wait_of(t, "someone", "192.0.2.7", t0) > 0);  // the address still waits
}

TEST_CASE("login throttle: spraying usernames from one address is slowed by the address") {
    LoginThrottle t;
    const auto t0 = LoginThrottle::Clock::now();
    for (int i = 0; i < 20; ++i) t.failed("user" + std::to_string(i), "198.51.100.1", t0);
    CHECK(wait_of(t, "fresh", "198.51.100.1", t0) == 1);
    CHECK(wait_of(t, "fresh", "198.51.100.2", t0) == 0);
}

TEST_CASE("login throttle: tracked keys stay bounded") {
    LoginThrottle::Policy p;
    p.max_keys = 1000;
    LoginThrottle t(p);
    auto now = LoginThrottle::Clock::now();
    for (int i = 0; i < 5000; ++i) {
        now += 1ms;
        t.failed("u" + std::to_string(i), "a" + std::to_string(i), now);
    }
    // The newest keys are still tracked; the oldest went.
    for (int i = 0; i < 5; ++i) t.failed("u4999", {}, now);
    CHECK(wait_of(t, "u4999", {}, now) > 0);
}

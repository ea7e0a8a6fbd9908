// LoginThrottle: slows password guessing. Failed password checks are counted per username and
// per client address; past a few free failures, each key must wait before its next attempt,
// the wait doubling with every further failure up to a cap. A key is forgotten some time after
// its last failure, and a success clears its username. Memory is bounded: the oldest keys go
// first when too many are tracked (a spray of addresses cannot exhaust memory).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ictcore::auth {

class LoginThrottle {
public:
    using Clock = std::chrono::steady_clock;

    struct Policy {
        int free_failures = 5;  // per username before waits begin
        int free_failures_per_address = 20;
        std::chrono::seconds first_wait{1};
        std::chrono::seconds max_wait{300};
        std::chrono::seconds forget_after{900};
        std::size_t max_keys = 100000;
    };

    LoginThrottle() : LoginThrottle(Policy{}) {}
    explicit LoginThrottle(Policy policy) : policy_(policy) {}

    // Throws Error(too_many_requests) with the seconds to wait when the username or the client
    // address must wait. `client` may be empty (an embedding program's own check).
    void check(std::string_view username, std::string_view client, Clock::time_point now = Clock::now());
    void failed(std::string_view username, std::string_view client, Clock::time_point now = Clock::now());
    void succeeded(std::string_view username);

private:
    struct Entry {
        int failures = 0;
        Clock::time_point last_failure;
    };
    Clock::duration wait_of(const Entry& e, int free) const;
    void note(const std::string& key, int free, Clock::time_point now);
    void prune(Clock::time_point now);

    Policy policy_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;  // "u:" + username, "a:" + address
};

}  // namespace ictcore::auth

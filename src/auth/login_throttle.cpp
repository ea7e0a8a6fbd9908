// LoginThrottle (see login_throttle.hpp).
#include "auth/login_throttle.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace ictcore::auth {

namespace {

// Usernames compare as the store compares them for login; case must not buy extra tries.
std::string user_key(std::string_view username) {
    std::string key = "u:";
    for (const char c : username) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return key;
}

std::string address_key(std::string_view client) { return "a:" + std::string(client); }

}  // namespace

LoginThrottle::Clock::duration LoginThrottle::wait_of(const Entry& e, int free) const {
    if (e.failures < free) return Clock::duration::zero();
    const int doublings = std::min(e.failures - free, 20);
    const auto wait = std::min<Clock::duration>(policy_.first_wait * (1LL << doublings), policy_.max_wait);
    return wait;
}

void LoginThrottle::check(std::string_view username, std::string_view client, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    Clock::duration longest = Clock::duration::zero();
    auto consider = [&](const std::string& key, int free) {
        const auto it = entries_.find(key);
        if (it == entries_.end()) return;
        if (now - it->second.last_failure >= policy_.forget_after) return;
        const auto ready = it->second.last_failure + wait_of(it->second, free);
        if (ready > now) longest = std::max(longest, ready - now);
    };
    consider(user_key(username), policy_.free_failures);
    if (!client.empty()) consider(address_key(client), policy_.free_failures_per_address);
    if (longest > Clock::duration::zero()) {
        const auto seconds = std::chrono::ceil<std::chrono::seconds>(longest);
        throw Error(Errc::too_many_requests, fmt::format("too many failed logins; try again in {} s", seconds.count()),
                    seconds);
    }
}

void LoginThrottle::note(const std::string& key, int, Clock::time_point now) {
    auto& e = entries_[key];
    if (e.failures > 0 && now - e.last_failure >= policy_.forget_after) e.failures = 0;
    ++e.failures;
    e.last_failure = now;
}

void LoginThrottle::failed(std::string_view username, std::string_view client, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    note(user_key(username), policy_.free_failures, now);
    if (!client.empty()) note(address_key(client), policy_.free_failures_per_address, now);
    if (entries_.size() > policy_.max_keys) prune(now);
}

void LoginThrottle::succeeded(std::string_view username) {
    std::lock_guard lock(mutex_);
    entries_.erase(user_key(username));
}

void LoginThrottle::prune(Clock::time_point now) {
    std::erase_if(entries_, [&](const auto& kv) { return now - kv.second.last_failure >= policy_.forget_after; });
    if (entries_.size() <= policy_.max_keys) return;
    // Still too many: drop the oldest half.
    std::vector<Clock::time_point> times;
    times.reserve(entries_.size());
    for (const auto& [key, e] : entries_) times.push_back(e.last_failure);
    auto middle = times.begin() + static_cast<std::ptrdiff_t>(times.size() / 2);
    std::nth_element(times.begin(), middle, times.end());
    const auto cut = *middle;
    std::erase_if(entries_, [&](const auto& kv) { return kv.second.last_failure < cut; });
}

}  // namespace ictcore::auth

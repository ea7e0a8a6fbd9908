// Weighted provider choice with per-provider concurrency (see provider_pool.hpp).
#include "engine/provider_pool.hpp"

#include <ictcore/error.hpp>
#include <ictcore/json.hpp>

#include <algorithm>

namespace ictcore::engine {

int ProviderPool::concurrency_of(const Provider& p) {
    if (!p.settings || p.settings->empty()) return 0;
    const auto value = parse_json(*p.settings);
    if (!value.is_object()) throw Error(Errc::invalid, "settings must be a JSON object");
    const auto* c = value.get_object().if_contains("concurrency");
    if (c == nullptr || c->is_null()) return 0;
    if (!c->is_int64() || c->get_int64() < 0 || c->get_int64() > 1000000) {
        throw Error(Errc::invalid, "settings.concurrency must be an integer from 0 (unlimited) to 1000000");
    }
    return static_cast<int>(c->get_int64());
}

std::shared_ptr<Gateway> ProviderPool::usable(const Provider& p,
                                              const std::map<std::string, std::shared_ptr<Gateway>>& gateways) {
    if (!p.active) return nullptr;
    auto g = gateways.find(p.type);
    if (g == gateways.end()) return nullptr;
    try {
        concurrency_of(p);
    } catch (const Error&) {
        return nullptr;  // checked when stored; a row edited behind our back is left out
    }
    return g->second;
}

std::int64_t ProviderPool::services_of(const std::vector<Provider>& providers,
                                       const std::map<std::string, std::shared_ptr<Gateway>>& gateways) {
    std::int64_t served = 0;
    for (const auto& p : providers) {
        if (auto g = usable(p, gateways)) served |= p.service_flag & g->services();
    }
    return served;
}

void ProviderPool::reload(const std::vector<Provider>& providers,
                          const std::map<std::string, std::shared_ptr<Gateway>>& gateways) {
    std::map<std::int64_t, int> in_flight;
    for (const auto& e : entries_) in_flight[e.provider.provider_id] = e.in_flight;
    for (const auto& [id, n] : in_flight_of_removed_) in_flight[id] += n;
    std::vector<Entry> next;
    for (const auto& p : providers) {
        auto gateway = usable(p, gateways);
        if (!gateway) continue;
        Entry e;
        e.provider = p;
        e.gateway = std::move(gateway);
        e.concurrency = concurrency_of(p);
        e.in_flight = in_flight[p.provider_id];
        in_flight.erase(p.provider_id);
        next.push_back(std::move(e));
    }
    entries_ = std::move(next);
    // Deliveries still in flight through removed providers report back later; keep their
    // counts so a provider that comes back does not overshoot its limit.
    in_flight_of_removed_.clear();
    for (const auto& [id, n] : in_flight) {
        if (n > 0) in_flight_of_removed_[id] = n;
    }
    set_served(services_of(providers, gateways));
}

ProviderPool::Choice ProviderPool::choose(std::int64_t service, const std::vector<std::int64_t>& tried,
                                          std::optional<std::int64_t> pinned) {
    std::vector<Entry*> free;
    bool any_untried = false;
    for (auto& e : entries_) {
        if ((e.provider.service_flag & service) == 0 || (e.gateway->services() & service) == 0) continue;
        if (pinned && e.provider.provider_id != *pinned) continue;
        if (std::find(tried.begin(), tried.end(), e.provider.provider_id) != tried.end()) continue;
        any_untried = true;
        if (e.has_slot()) free.push_back(&e);
    }
    if (free.empty()) return {any_untried ? Pick::busy : Pick::none, nullptr};
    // Weighted choice among positive weights; weight 0 marks a standby, used only when no
    // weighted provider is free.
    std::int64_t total = 0;
    for (auto* e : free) total += std::max<std::int64_t>(0, e->provider.weight);
    if (total == 0) return {Pick::chosen, free.front()};
    std::uniform_int_distribution<std::int64_t> dist(0, total - 1);
    std::int64_t r = dist(rng_);
    for (auto* e : free) {
        const auto w = std::max<std::int64_t>(0, e->provider.weight);
        if (r < w) return {Pick::chosen, e};
        r -= w;
    }
    return {Pick::chosen, free.back()};
}

ProviderPool::Entry* ProviderPool::find(std::int64_t provider_id) {
    for (auto& e : entries_) {
        if (e.provider.provider_id == provider_id) return &e;
    }
    return nullptr;
}

void ProviderPool::release(std::int64_t provider_id) {
    if (auto* e = find(provider_id)) {
        if (e->in_flight > 0) --e->in_flight;
        return;
    }
    auto it = in_flight_of_removed_.find(provider_id);
    if (it != in_flight_of_removed_.end() && --it->second <= 0) in_flight_of_removed_.erase(it);
}

void ProviderPool::set_served(std::int64_t services) {
    std::lock_guard lock(serves_mutex_);
    served_ = services;
}

std::int64_t ProviderPool::capacity(std::int64_t service) const {
    std::int64_t total = 0;
    for (const auto& e : entries_) {
        if ((e.provider.service_flag & service) == 0 || (e.gateway->services() & service) == 0) continue;
        if (e.concurrency == 0) return 0;
        total += e.concurrency;
    }
    return total;
}

bool ProviderPool::serves(std::int64_t service) const {
    std::lock_guard lock(serves_mutex_);
    return (served_ & service) != 0;
}

}  // namespace ictcore::engine

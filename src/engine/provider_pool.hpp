// ProviderPool: the active providers the engine can deliver through, with their gateways,
// weights, concurrency limits and deliveries in flight. Picks a provider for a service by
// weight among those with a free slot, skipping those already tried in the attempt.
// Not thread-safe: the engine uses it from its strand only (serves() has its own lock).
#pragma once

#include <ictcore/gateway.hpp>
#include <ictcore/provider.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace ictcore::engine {

class ProviderPool {
public:
    struct Entry {
        Provider provider;
        std::shared_ptr<Gateway> gateway;
        int concurrency = 0;  // 0: unlimited
        int in_flight = 0;
        bool has_slot() const { return concurrency == 0 || in_flight < concurrency; }
    };

    enum class Pick { chosen, busy, none };
    struct Choice {
        Pick pick = Pick::none;
        Entry* entry = nullptr;
    };

    // Replaces the provider list; in-flight counts carry over by provider id. Providers whose
    // type has no gateway in `gateways` are left out.
    void reload(const std::vector<Provider>& providers,
                const std::map<std::string, std::shared_ptr<Gateway>>& gateways);

    // chosen: a provider with a free slot (weighted); busy: untried providers exist but none
    // has a slot (wait); none: no untried provider serves the service.
    Choice choose(std::int64_t service, const std::vector<std::int64_t>& tried,
                  std::optional<std::int64_t> pinned = std::nullopt);

    // How many deliveries of `service` the providers can take at once: 0 when some provider
    // serving it is unlimited.
    std::int64_t capacity(std::int64_t service) const;

    Entry* find(std::int64_t provider_id);
    void acquire(Entry& e) { ++e.in_flight; }
    // Returns the slot of a provider (which may have been removed since: then nothing).
    void release(std::int64_t provider_id);

    // True when some active provider with a registered gateway serves the service. Safe from
    // any thread.
    bool serves(std::int64_t service) const;
    void set_served(std::int64_t services);

    // The gateway that would deliver for `p`, or null when `p` cannot be used (inactive, no
    // registered gateway for its type, or settings edited into something malformed).
    static std::shared_ptr<Gateway> usable(const Provider& p,
                                           const std::map<std::string, std::shared_ptr<Gateway>>& gateways);
    // The union of the service bits the usable providers among `providers` deliver.
    static std::int64_t services_of(const std::vector<Provider>& providers,
                                    const std::map<std::string, std::shared_ptr<Gateway>>& gateways);

    // The `concurrency` setting of a provider's settings JSON (0 when absent or unlimited).
    // Throws Error(invalid) when settings are not a JSON object or concurrency is malformed.
    static int concurrency_of(const Provider& p);

private:
    std::vector<Entry> entries_;
    std::map<std::int64_t, int> in_flight_of_removed_;
    std::mt19937_64 rng_{std::random_device{}()};
    mutable std::mutex serves_mutex_;
    std::int64_t served_ = 0;  // union of the service bits of usable providers
};

}  // namespace ictcore::engine

// Attempt: one delivery attempt on its way through the engine, and the database steps that
// begin and end one. Shared by Transmissions::send (which begins attempts for callers) and
// the engine (automatic retries, schedules, recovery after a restart).
#pragma once

#include "media/media_store.hpp"
#include "store/connection.hpp"
#include "store/table.hpp"

#include <ictcore/campaign.hpp>
#include <ictcore/gateway.hpp>
#include <ictcore/schedule_spec.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ictcore::engine {

struct Attempt {
    Delivery delivery;
    std::vector<std::int64_t> tried;              // providers already tried in this attempt
    std::optional<std::int64_t> pinned_provider;  // redelivery after a restart: only this one
    std::string last_error;                       // the last provider error, for the final response
    bool counted = false;                         // counted in the engine's open attempts
    std::uint64_t campaign_run = 0;               // the campaign run that dispatched it, 0 if none
};

using ictcore::unix_now;

// Rows shared by the transmissions of one bulk call (their program, its message, the account),
// read once per call instead of once per transmission. Only valid within one transaction.
struct LoadCache {
    std::map<std::int64_t, std::optional<Program>> programs;
    std::map<std::int64_t, std::optional<Account>> accounts;
    std::map<std::int64_t, std::optional<Text>> texts;
};

// A row by id through `cache` (read once per id), or straight from the store without one.
template <class Entity>
std::optional<Entity> find_cached(store::Connection& c, std::int64_t id, const store::Scope& scope,
                                  std::map<std::int64_t, std::optional<Entity>>* cache) {
    if (!cache) return store::Table<Entity>::find(c, id, scope);
    auto it = cache->find(id);
    if (it == cache->end()) it = cache->emplace(id, store::Table<Entity>::find(c, id, scope)).first;
    return it->second;
}

// Loads what delivering `t` needs — contact, program, its message and media, account — and
// works out the destination. Throws Error(invalid) naming what is missing or unusable.
// `contact`, when given, is the transmission's contact already read.
Delivery load_delivery(store::Connection& c, const media::MediaStore& media, const Transmission& t,
                       LoadCache* cache = nullptr, const Contact* contact = nullptr);

// Begins an attempt on a loaded transmission: checks it can be delivered, inserts a queued
// spool and marks the transmission processing (try_done + 1). Run in a write transaction.
Attempt begin_attempt(store::Connection& c, const media::MediaStore& media, Transmission t, std::int64_t now,
                      LoadCache* cache = nullptr);

// Inserts a campaign's transmission `t` for `contact` (already read) and begins its first
// attempt; when it cannot be delivered (say, no e-mail address) it is stored invalid and
// counted, and nothing is returned.
struct CampaignBegin {
    std::optional<Attempt> attempt;
    std::optional<std::int64_t> counted_in;  // the campaign, when it was stored invalid (and counted)
};
CampaignBegin begin_campaign_attempt(store::Connection& c, const media::MediaStore& media, Transmission t,
                                     const Contact& contact, std::int64_t now, LoadCache* cache);

// Marks a transmission that cannot be delivered invalid (counting it in its campaign).
// Returns the campaign whose counters changed, if any.
std::optional<std::int64_t> invalidate(store::Connection& c, const Transmission& t, const std::string& why);

// Inserts a new pending copy of `t` (same program, contact, account, tries allowed); returns its id.
std::int64_t clone_transmission(store::Connection& c, const Transmission& t, std::int64_t now);

// The final state of an attempt, written in one transaction: spool status, response and
// results; the transmission completed, failed, or pending_retry (returned) when tries remain.
struct Ending {
    bool delivered = false;
    std::string response;
    std::vector<Outcome::Result> results;
    std::optional<std::int64_t> provider_id;
    bool allow_retry = true;  // false: never retried automatically (outcome unknown)
    bool invalid = false;     // the transmission cannot be delivered as it stands
};
struct Ended {
    std::optional<std::int64_t> retry_at;  // when an automatic retry was scheduled
    std::optional<std::int64_t> campaign;  // the campaign whose counters it changed, if any
};
Ended end_attempt(store::Connection& c, const Delivery& d, const Ending& ending, std::int64_t now,
                  std::int64_t retry_delay_seconds);

}  // namespace ictcore::engine

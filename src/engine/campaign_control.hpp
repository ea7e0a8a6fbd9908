// The status changes that start and pause a campaign, made inside a store write so the
// engine's set of running campaigns changes in the same order as the database. Shared by the
// Campaigns service (API calls) and the engine (schedules, and the checks of every batch).
#pragma once

#include "engine/engine.hpp"
#include "store/campaign_queries.hpp"

#include <ictcore/error.hpp>

#include <optional>
#include <string>

namespace ictcore::engine {

struct Refusal {
    Errc code;
    std::string message;
};

// Checks that the campaign can run — not completed; its program and group exist; an active
// provider serves the program's service — and marks it running (contact_total recounted).
// When it cannot run for want of a program, group or provider, it is marked broken with the
// reason, which is returned (invalid, or locked for the provider); a completed campaign is
// refused (locked) and left as it is. A running campaign that can still run is left alone.
std::optional<Refusal> begin_running(store::Connection& c, const store::CampaignRow& row, Engine& engine);

// Pauses a running campaign; false when it was not running.
bool pause_running(store::Connection& c, std::int64_t campaign_id, Engine& engine);

}  // namespace ictcore::engine

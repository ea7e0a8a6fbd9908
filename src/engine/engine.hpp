// Engine: delivers committed attempts through the gateways, records their outcomes, retries
// failed attempts after the configured delay, fires schedules, and on start recovers the
// work a previous run left in flight. It runs on an Asio io_context (the host's, or one
// thread of its own); gateways report back asynchronously, so no thread waits on a delivery.
// Every state change is committed (one group-committed write per step) before the next step
// starts or anyone can observe it.
#pragma once

#include "engine/attempt.hpp"

#include <ictcore/delivery_reports.hpp>
#include <ictcore/gateway.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore::detail {
struct CoreState;
}

namespace ictcore::engine {

class Engine {
public:
    explicit Engine(detail::CoreState& state);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    void register_gateway(std::shared_ptr<Gateway> gateway);
    // The gateway serving providers of `type`, or null.
    std::shared_ptr<Gateway> gateway(std::string_view type) const;
    // The types of the registered gateways, sorted.
    std::vector<std::string> gateway_types() const;

    // Loads providers, recovers unfinished attempts, arms retries and schedules, and starts
    // the engine's thread when it runs its own io_context.
    void start();

    // Hands over an attempt whose queued spool is committed. Any thread.
    void submit(Attempt attempt);
    // Rereads the providers after a change. Any thread.
    void providers_changed();
    // True when an active provider with a registered gateway serves the service.
    bool serves(std::int64_t service) const;
    // Fires schedule `schedule_id` at `when` (Unix seconds) unless it changed meanwhile.
    void arm_schedule(std::int64_t schedule_id, std::int64_t when);

    // Campaigns. set_campaign_running() is called inside the store write that changes the
    // campaign's status (see campaign_control.hpp); once it returns with `false`, no attempt
    // of the campaign reaches a gateway. After that write commits, campaign_started() runs the
    // campaign and campaign_stopped() puts back what it had begun but not sent. Any thread.
    void set_campaign_running(std::int64_t campaign_id, bool running);
    void campaign_started(std::int64_t campaign_id);
    void campaign_stopped(std::int64_t campaign_id);
    // Reports the campaign's progress to the listener after a change made outside the engine.
    void campaign_changed(std::int64_t campaign_id);
    // Called on the engine's thread with the progress of campaigns that changed.
    void set_progress_listener(std::function<void(const CampaignProgress&)> listener);

    // A far end's report on an attempt that awaits one (Outcome::accepted) from a provider of
    // `gateway_type`: ends it with `outcome`, or only checks it awaits one when nullopt. `done`
    // runs on the engine's thread once committed. Any thread.
    void report(std::int64_t spool_id, std::string gateway_type, std::optional<Outcome> outcome,
                std::function<void(DeliveryReports::Result, std::exception_ptr)> done);

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace ictcore::engine

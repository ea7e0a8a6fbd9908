// Campaigns: a program delivered to every contact of a group by the engine, paced by
// `delay`/`cpm` and bounded by provider concurrency. start() and stop() take effect before
// they return; progress is reported to a listener as transmissions end.
//
// Rules an operator can rely on:
// - A campaign never creates two transmissions for one contact (the database enforces it).
// - stop(): no new attempt is handed to a gateway once it returns; deliveries already in
//   flight finish and are counted. Attempts that were queued but not yet handed over go back
//   to waiting and are sent when the campaign is started again.
// - Contacts linked to the group after the first start are included until the campaign
//   completes; contacts unlinked before they were reached are left out.
// - The campaign completes when every contact it covers has a transmission that ended
//   (completed, or failed/invalid after its tries). A completed campaign cannot restart.
// - It becomes broken, with a reason, when its program or group is gone or no active
//   provider serves its service; start() tries again once that is fixed.
#pragma once

#include <ictcore/campaign.hpp>
#include <ictcore/entity_service.hpp>
#include <ictcore/schedule_spec.hpp>

#include <functional>

namespace ictcore {

class Campaigns : public EntityService<Campaign> {
public:
    using EntityService::EntityService;

    // The program, group and account must be the caller's (account: its default when omitted).
    std::int64_t create(const Principal& who, Campaign value);
    // Pacing and try_allowed may change at any time and apply to the next transmissions; the
    // program, group and account only while the campaign is new, paused or broken.
    Campaign update(const Principal& who, std::int64_t id, const std::function<void(Campaign&)>& change);
    // Stops the campaign first when it runs. Its transmissions stay, detached from it.
    void remove(const Principal& who, std::int64_t id);

    // Starts or resumes. Error(locked) once completed or when no active provider serves the
    // program's service; Error(invalid) when the program or group is gone (the campaign is
    // then marked broken). Starting a running campaign changes nothing.
    void start(const Principal& who, std::int64_t id);
    // Pauses. Error(locked) unless running or paused.
    void stop(const Principal& who, std::int64_t id);

    // Start or stop later per `spec` (replacing an earlier one of the same action); returns
    // the schedule id. Schedules are durable and fire after a restart.
    std::int64_t schedule_start(const Principal& who, std::int64_t id, const ScheduleSpec& spec);
    std::int64_t schedule_stop(const Principal& who, std::int64_t id, const ScheduleSpec& spec);
    // Removes every schedule of the campaign; Error(not_found) when it has none.
    void unschedule(const Principal& who, std::int64_t id);

    // Called on the engine's thread after each batch of state changes that moved a campaign's
    // counters or status (at most once per campaign per batch). Keep it short: the engine
    // waits for it. It may call the library, except on_progress() itself. Once on_progress()
    // returns, the previous listener is not running and is not called again; an empty
    // function removes the listener.
    using ProgressListener = std::function<void(const CampaignProgress&)>;
    void on_progress(ProgressListener listener);

private:
    std::int64_t add_schedule(const Principal& who, std::int64_t id, const ScheduleSpec& spec, std::string_view action);
};

}  // namespace ictcore

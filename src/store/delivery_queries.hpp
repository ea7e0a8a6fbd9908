// Statements of the delivery engine: the state changes of spools and transmissions, the
// scans that recover work after a restart, and schedules.
#pragma once

#include "store/connection.hpp"

#include <ictcore/provider.hpp>
#include <ictcore/schedule_spec.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore::store {

// Every provider, with its password (which listings never read).
std::vector<Provider> all_providers(Connection& c);

void mark_spool_started(Connection& c, std::int64_t spool_id, std::int64_t provider_id, std::int64_t now);
void mark_spool_connected(Connection& c, std::int64_t spool_id, std::int64_t now);
// False when the spool is gone (its transmission was deleted meanwhile) or already ended (a
// delivery report came first).
bool finish_spool(Connection& c, std::int64_t spool_id, std::string_view status, const std::string& response,
                  std::optional<std::int64_t> provider_id, std::int64_t now);

// Sets a transmission's state after an attempt began or ended.
void set_transmission_processing(Connection& c, std::int64_t transmission_id, std::int64_t try_done, std::int64_t now);
void set_transmission_outcome(Connection& c, std::int64_t transmission_id, std::string_view status,
                              const std::optional<std::string>& response, std::optional<std::int64_t> next_run);

// Spools whose outcome is not recorded (queued, started or connected), oldest first.
struct OpenSpool {
    std::int64_t spool_id = 0;
    std::int64_t transmission_id = 0;
    std::string status;
    std::optional<std::int64_t> provider_id;
    std::optional<std::int64_t> report_due;  // set while the far end's report is awaited
};
std::vector<OpenSpool> open_spools(Connection& c);

// Delivery reports. A spool awaiting one is `connected` with a deadline (report_due).
void await_report(Connection& c, std::int64_t spool_id, const std::string& response, std::int64_t now,
                  std::int64_t due);
struct AwaitingReport {
    std::int64_t transmission_id = 0;
    std::string provider_type;
    std::string status;  // `started` when the report came before the provider's answer was recorded
};
// The open attempt of `spool_id` a report may end: one awaiting it, or one handed to its
// provider whose acceptance is not recorded yet (an SMSC can report within a millisecond).
std::optional<AwaitingReport> awaiting_report(Connection& c, std::int64_t spool_id);
// Spools whose report is overdue at `now`, oldest deadline first.
std::vector<std::int64_t> overdue_reports(Connection& c, std::int64_t now, std::int64_t limit);
std::optional<std::int64_t> next_report_due(Connection& c);

// Transmissions awaiting an automatic retry: (transmission_id, next_run).
std::vector<std::pair<std::int64_t, std::int64_t>> pending_retries(Connection& c);

// Schedules.
struct ScheduleRow {
    std::int64_t schedule_id = 0;
    std::string action;  // "send" (a transmission); campaigns add their own
    std::optional<std::int64_t> transmission_id;
    std::optional<std::int64_t> campaign_id;
    std::string kind;  // "once" or "cron"
    std::optional<std::int64_t> at;
    std::string year, month, day, weekday, hour, minute;
    std::int64_t next_run = 0;
    std::int64_t created_by = 0;
};
// The row's timing as a spec, and a spec's timing into a row: one mapping both ways.
ScheduleSpec spec_of(const ScheduleRow& row);
void set_spec(ScheduleRow& row, const ScheduleSpec& spec);
std::int64_t insert_schedule(Connection& c, const ScheduleRow& row);
// A row of `action`, timed by `spec`, first due at `next_run`, owned by `owner` (the caller
// sets what it is for: transmission_id or campaign_id).
ScheduleRow schedule_row(std::string action, const ScheduleSpec& spec, std::int64_t next_run, std::int64_t owner);
std::optional<ScheduleRow> find_schedule(Connection& c, std::int64_t schedule_id);
std::vector<ScheduleRow> all_schedules(Connection& c);
void set_schedule_next_run(Connection& c, std::int64_t schedule_id, std::int64_t next_run);
bool delete_schedule(Connection& c, std::int64_t schedule_id);
// Removes the schedules of a transmission; returns how many there were.
int delete_transmission_schedules(Connection& c, std::int64_t transmission_id);

}  // namespace ictcore::store

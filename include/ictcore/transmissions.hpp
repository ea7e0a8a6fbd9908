// Transmissions: one program run against one contact, and the attempts (spools) made to
// deliver it. send() and retry() commit a new attempt and hand it to the engine; the outcome
// arrives later and is visible through status(), detail() and result().
#pragma once

#include <ictcore/entity_service.hpp>
#include <ictcore/schedule_spec.hpp>
#include <ictcore/transmission.hpp>

#include <boost/json/object.hpp>

#include <vector>

namespace ictcore {

class Transmissions : public EntityService<Transmission> {
public:
    using EntityService::EntityService;

    // Fills title, origin and service_flag from the program and account_id from the caller's
    // default account when omitted. The contact, program and account must be the caller's.
    std::int64_t create(const Principal& who, Transmission value);
    // Bulk create: one transaction, all rows or none (the error names the failing row).
    std::vector<std::int64_t> create_many(const Principal& who, std::vector<Transmission> values);
    // Transmissions are not edited once created; clone() makes a fresh copy.
    Transmission update(const Principal&, std::int64_t, const std::function<void(Transmission&)>&) = delete;
    // Error(locked) for a transmission of a campaign, which would reach its contact again.
    void remove(const Principal& who, std::int64_t id);

    // Starts an attempt now; returns its spool id. Error(locked) while processing, or once
    // completed or invalid, or when no active provider serves the service; Error(invalid)
    // when its contact, program or message is gone.
    std::int64_t send(const Principal& who, std::int64_t id);
    // Bulk send: one transaction, every transmission or none; returns the spool ids in order.
    std::vector<std::int64_t> send_many(const Principal& who, const std::vector<std::int64_t>& ids);
    // Like send(), for a transmission that failed or awaits an automatic retry.
    std::int64_t retry(const Principal& who, std::int64_t id);
    // Sends later per `spec` (replacing any schedule it had); returns the schedule id.
    std::int64_t schedule(const Principal& who, std::int64_t id, const ScheduleSpec& spec);
    // Removes the transmission's schedule; Error(not_found) when it has none.
    void unschedule(const Principal& who, std::int64_t id);
    // A new pending transmission with the same program, contact and account.
    std::int64_t clone(const Principal& who, std::int64_t id);

    std::string status(const Principal& who, std::int64_t id);
    std::vector<Spool> detail(const Principal& who, std::int64_t id);
    std::vector<SpoolResult> result(const Principal& who, std::int64_t id);

    Spool spool(const Principal& who, std::int64_t spool_id);
    std::vector<SpoolResult> spool_result(const Principal& who, std::int64_t spool_id);

private:
    std::int64_t start(const Principal& who, std::int64_t id, std::string_view action, std::string_view done);
};

}  // namespace ictcore

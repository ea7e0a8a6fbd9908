// Transmission schedules over HTTP (PUT|DELETE /transmissions/{id}/schedule): the delay,
// timestamp and datetime forms fire once, not before their time; malformed, past and mixed
// forms are refused; cancelling and replacing; 423 on a finished transmission; recurring
// (cron) schedules accepted and cancelled (their firing is covered by the engine's unit
// tests: it needs a minute boundary); and a schedule due while the server was down fires
// once when it starts again on the same data.
#include "helpers.hpp"

#include <ctime>
#include <set>

namespace {

struct Sms {
    std::int64_t contact = 0, program = 0;
};

Sms sms_setup(Client& c) { return {create_contact(c, "Ann", "3008080801"), new_sms_program(c, "Scheduled")}; }

// Unix seconds as ISO 8601 with a "+hh:00" offset: the wall time `offset_hours` ahead of UTC.
std::string iso8601(std::int64_t unix_time, int offset_hours) {
    const std::time_t shifted = static_cast<std::time_t>(unix_time + offset_hours * 3600);
    std::tm tm{};
    gmtime_r(&shifted, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char zone[16];
    if (offset_hours == 0)
        std::snprintf(zone, sizeof zone, "Z");
    else
        std::snprintf(zone, sizeof zone, "%+03d:00", offset_hours);
    return std::string(buf) + zone;
}

std::int64_t schedule(Client& c, std::int64_t id, const json::object& body) {
    Response r = c.put(tx_path(id, "schedule"), body);
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r).size() == 1);  // {"schedule_id": N}
    return created_id(r, "schedule_id");
}

// The one spool of a transmission that a schedule sent; its time_spool.
std::int64_t spooled_at(Client& c, std::int64_t id) {
    json::array spools = spools_of(c, id);
    REQUIRE(spools.size() == 1);
    return int_field(spools[0].as_object(), "time_spool");
}

}  // namespace

TEST_CASE("schedules: delay, timestamp and datetime forms fire once, not before their time") {
    ServerProcess server;
    Client admin = admin_client(server);
    const Sms sms = sms_setup(admin);
    const std::int64_t by_delay1 = new_transmission(admin, sms.contact, sms.program);
    const std::int64_t by_delay2 = new_transmission(admin, sms.contact, sms.program);
    const std::int64_t by_timestamp = new_transmission(admin, sms.contact, sms.program);
    const std::int64_t by_datetime = new_transmission(admin, sms.contact, sms.program);

    const std::int64_t before = unix_seconds();
    const std::int64_t s1 = schedule(admin, by_delay1, json::object{{"delay", 1}});
    const std::int64_t s2 = schedule(admin, by_delay2, json::object{{"delay", 2}});
    const std::int64_t s3 = schedule(admin, by_timestamp, json::object{{"timestamp", before + 2}});
    // The same instant written in +05:00: read as UTC it would be five hours later.
    const std::int64_t s4 = schedule(admin, by_datetime, json::object{{"datetime", iso8601(before + 2, 5)}});
    CHECK(std::set<std::int64_t>{s1, s2, s3, s4}.size() == 4);

    // A delay of 2 s is at least one whole second away: nothing sent yet.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    for (const std::int64_t id : {by_delay2, by_timestamp, by_datetime}) {
        CAPTURE(id);
        CHECK(str_field(get_transmission(admin, id), "status") == "pending");
        CHECK(spools_of(admin, id).empty());
    }

    for (const std::int64_t id : {by_delay1, by_delay2, by_timestamp, by_datetime})
        await_transmission(admin, id, "completed", std::chrono::seconds(8));
    CHECK(spooled_at(admin, by_delay1) >= before + 1);
    CHECK(spooled_at(admin, by_delay2) >= before + 2);
    CHECK(spooled_at(admin, by_timestamp) >= before + 2);
    CHECK(spooled_at(admin, by_datetime) >= before + 2);
    CHECK(spooled_at(admin, by_datetime) <= before + 6);

    // One-shot schedules are gone once fired: nothing to cancel, and no second delivery.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    for (const std::int64_t id : {by_delay1, by_delay2, by_timestamp, by_datetime}) {
        CAPTURE(id);
        check_error(admin.del(tx_path(id, "schedule")), 404);
        CHECK(spools_of(admin, id).size() == 1);
    }
}

TEST_CASE("schedules: malformed, past and mixed forms are refused with 412") {
    ServerProcess server;
    Client admin = admin_client(server);
    const Sms sms = sms_setup(admin);
    const std::int64_t id = new_transmission(admin, sms.contact, sms.program);
    const std::int64_t now = unix_seconds();

    const std::vector<json::object> bad{
        json::object{},
        json::object{{"timestamp", now - 3600}},
        json::object{{"datetime", "garbage"}},
        json::object{{"datetime", "2001-01-01T00:00:00Z"}},
        json::object{{"datetime", "2030-13-45T25:61:00Z"}},
        json::object{{"delay", -5}},
        json::object{{"delay", "soon"}},
        json::object{{"delay", 1}, {"timestamp", now + 60}},
        json::object{{"delay", 1}, {"minute", "*"}},
        json::object{{"datetime", iso8601(now + 60, 0)}, {"timestamp", now + 60}},
        json::object{{"minute", "61"}},
        json::object{{"hour", "*/0"}},
        json::object{{"year", "2001"}},  // a cron pattern that never fires again
        json::object{{"when", "tomorrow"}},
    };
    for (const auto& body : bad) {
        CAPTURE(json::serialize(body));
        check_error(admin.put(tx_path(id, "schedule"), body), 412);
    }
    check_error(admin.put_raw(tx_path(id, "schedule"), "{\"delay\":"), 412);
    // Nothing was scheduled and nothing sent.
    check_error(admin.del(tx_path(id, "schedule")), 404);
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(str_field(get_transmission(admin, id), "status") == "pending");
    CHECK(spools_of(admin, id).empty());
}

TEST_CASE("schedules: cancel and replace") {
    ServerProcess server;
    Client admin = admin_client(server);
    const Sms sms = sms_setup(admin);
    const std::int64_t cancelled = new_transmission(admin, sms.contact, sms.program);
    const std::int64_t replaced = new_transmission(admin, sms.contact, sms.program);
    const std::int64_t by_get = new_transmission(admin, sms.contact, sms.program);

    schedule(admin, cancelled, json::object{{"delay", 1}});
    schedule(admin, by_get, json::object{{"delay", 1}});
    schedule(admin, replaced, json::object{{"delay", 1}});
    schedule(admin, replaced, json::object{{"delay", 3600}});  // replaces the first

    Response r = admin.del(tx_path(cancelled, "schedule"));
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.del(tx_path(cancelled, "schedule")), 404);
    r = admin.get(tx_path(by_get, "schedule") + "/delete");  // the guide's GET form of DELETE
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);

    // Past every cancelled due time: still pending, never sent.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    for (const std::int64_t id : {cancelled, replaced, by_get}) {
        CAPTURE(id);
        CHECK(str_field(get_transmission(admin, id), "status") == "pending");
        CHECK(spools_of(admin, id).empty());
    }
    // The replacing schedule is the one left.
    r = admin.del(tx_path(replaced, "schedule"));
    REQUIRE_STATUS(r, 200);
    check_error(admin.del(tx_path(replaced, "schedule")), 404);
    check_error(admin.put(tx_path(9999, "schedule"), json::object{{"delay", 1}}), 404);
    check_error(admin.del(tx_path(9999, "schedule")), 404);
}

TEST_CASE("schedules: one-shot on a finished transmission is 423; recurring ones are accepted and cancelled") {
    ServerProcess server;
    Client admin = admin_client(server);
    const Sms sms = sms_setup(admin);
    const std::int64_t done = new_transmission(admin, sms.contact, sms.program);
    send_transmission(admin, done);
    await_transmission(admin, done, "completed");

    check_error(admin.put(tx_path(done, "schedule"), json::object{{"delay", 1}}), 423);
    check_error(admin.put(tx_path(done, "schedule"), json::object{{"timestamp", unix_seconds() + 60}}), 423);
    check_error(admin.del(tx_path(done, "schedule")), 404);

    // A recurring schedule may hang on a finished transmission (each firing sends a copy).
    const std::int64_t cron_done = schedule(admin, done, json::object{{"minute", "*"}});
    CHECK(cron_done > 0);
    REQUIRE_STATUS(admin.del(tx_path(done, "schedule")), 200);
    check_error(admin.del(tx_path(done, "schedule")), 404);

    const std::int64_t waiting = new_transmission(admin, sms.contact, sms.program);
    const std::int64_t cron = schedule(admin, waiting, json::object{{"minute", "*/5"}, {"hour", "*"}});
    CHECK(cron > 0);
    const std::int64_t weekly =
        schedule(admin, waiting, json::object{{"weekday", "1-5"}, {"hour", 9}, {"minute", "0,30"}});
    CHECK(weekly > 0);  // replaces the first: one DELETE removes the transmission's schedule
    Response r = admin.del(tx_path(waiting, "schedule"));
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.del(tx_path(waiting, "schedule")), 404);
}

TEST_CASE("schedules: a schedule due while the server was down fires once on the next start") {
    TempDir data("ictcore-sched-data");
    std::int64_t id = 0;
    std::int64_t before = 0;
    {
        ServerProcess first(on_data(data.path()));
        Client admin = admin_client(first);
        const Sms sms = sms_setup(admin);
        id = new_transmission(admin, sms.contact, sms.program);
        before = unix_seconds();
        schedule(admin, id, json::object{{"delay", 2}});
        const ExitStatus st = first.stop();
        CHECK_MESSAGE(st.ok(), st.describe() << "\n" << first.output());
    }
    std::this_thread::sleep_for(std::chrono::seconds(3));  // the due time passes while down

    ServerProcess second(on_data(data.path()));
    Client admin = admin_client(second);
    json::object t = await_transmission(admin, id, "completed", std::chrono::seconds(5));
    CHECK(int_field(t, "try_done") == 1);
    CHECK(spooled_at(admin, id) >= before + 3);  // sent by the second server, after the restart
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    CHECK(spools_of(admin, id).size() == 1);  // once, not repeatedly
    check_error(admin.del(tx_path(id, "schedule")), 404);
}

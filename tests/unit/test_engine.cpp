// The delivery engine through a real Core: the transmission and spool state machine, automatic
// retries, failover between providers, per-provider concurrency, the DeliveryCompletion
// contract, results, invalid transmissions, recovery of work left in flight by a stopped Core,
// and durable schedules. Deliveries go through TestGateway (test_gateway.hpp), which records
// what reaches it and lets each test decide (or hold back) the outcome.
#include "test_gateway.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace ictcore;
using namespace ictcore::test;
using namespace std::chrono_literals;

namespace {

// Sleeps until the wall clock's Unix second is past `t` (plus `margin`).
void sleep_past(std::int64_t t, std::chrono::milliseconds margin = 100ms) {
    const auto target = std::chrono::system_clock::time_point(std::chrono::seconds(t + 1)) + margin;
    std::this_thread::sleep_until(target);
}

struct ScheduleRow {
    std::string kind;
    std::int64_t next_run = 0;
};

// The transmission's schedule rows as stored, read behind the Core's back.
std::vector<ScheduleRow> schedule_rows(const std::filesystem::path& db_path, std::int64_t transmission_id) {
    SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
    db.setBusyTimeout(5000);
    SQLite::Statement q(db, "SELECT kind, next_run FROM schedule WHERE transmission_id = ? ORDER BY schedule_id");
    q.bind(1, transmission_id);
    std::vector<ScheduleRow> rows;
    while (q.executeStep()) rows.push_back({q.getColumn(0).getString(), q.getColumn(1).getInt64()});
    return rows;
}

}  // namespace

TEST_CASE("engine: pending -> processing -> completed, with spool states and times") {
    Env env;
    const auto provider = env.provider("trunk a", std::nullopt, 10, "00");
    const auto id = env.transmission();
    CHECK(env.status(id) == "pending");
    CHECK(env.tx().detail(env.admin, id).empty());

    const auto before = unix_now();
    const auto spool_id = env.send(id);
    CHECK(spool_id > 0);
    // The attempt is committed before send() returns.
    CHECK(env.status(id) == "processing");
    {
        const auto s = env.spool(spool_id);
        CHECK((s.status == "queued" || s.status == "started"));
        CHECK(s.time_spool >= before);
        CHECK(s.transmission_id == id);
    }

    REQUIRE(env.gateway->wait_deliveries(1));
    const auto rec = env.gateway->records().at(0);
    CHECK(rec.spool_id == spool_id);
    CHECK(rec.transmission_id == id);
    CHECK(rec.provider_id == provider);
    CHECK(rec.try_done == 1);
    CHECK(rec.destination == "00" + env.core->contacts().get(env.admin, env.get(id).contact_id).phone);
    CHECK(rec.text == "hello from the engine test");

    // Handed to the gateway: started, with its provider, and the spool was marked first.
    const auto started = env.spool(spool_id);
    CHECK(started.status == "started");
    REQUIRE(started.time_start);
    CHECK(started.provider_id == provider);
    CHECK_FALSE(started.time_end);
    const auto processing = env.get(id);
    CHECK(processing.status == "processing");
    CHECK(processing.try_done == 1);
    REQUIRE(processing.last_run);
    CHECK(*processing.last_run >= before);

    CHECK(code_of([&] { env.send(id); }) == Errc::locked);
    CHECK(code_of([&] { env.tx().retry(env.admin, id); }) == Errc::locked);

    env.gateway->finish(spool_id, Outcome::delivered("250 accepted"));
    REQUIRE(env.wait_status(id, "completed"));

    const auto done = env.spool(spool_id);
    CHECK(done.status == "completed");
    CHECK(done.response == "250 accepted");
    CHECK(done.provider_id == provider);
    REQUIRE(done.time_start);
    REQUIRE(done.time_end);
    CHECK_FALSE(done.time_connect);
    CHECK(done.time_spool <= *done.time_start);
    CHECK(*done.time_start <= *done.time_end);
    CHECK(*done.time_end <= unix_now());

    const auto t = env.get(id);
    CHECK(t.try_done == 1);
    CHECK(t.response == "250 accepted");
    CHECK_FALSE(t.next_run);
    CHECK(env.tx().detail(env.admin, id).size() == 1);

    std::string why;
    CHECK(code_of([&] { env.send(id); }, &why) == Errc::locked);
    CHECK(why.find("completed") != std::string::npos);
    CHECK(code_of([&] { env.tx().retry(env.admin, id); }) == Errc::locked);
    CHECK(env.gateway->count() == 1);
}

TEST_CASE("engine: a failed attempt with one try fails; retry makes a new attempt") {
    Env env;
    env.gateway->set_policy(fail_first("busy"));
    env.provider("trunk");
    const auto id = env.transmission(1);
    const auto first = env.send(id);
    REQUIRE(env.wait_status(id, "failed"));

    const auto s = env.spool(first);
    CHECK(s.status == "failed");
    CHECK(s.response == "busy");
    CHECK(s.time_end);
    auto t = env.get(id);
    CHECK(t.try_done == 1);
    CHECK(t.response == "busy");
    CHECK_FALSE(t.next_run);

    CHECK(env.gateway->count() == 1);

    const auto second = env.tx().retry(env.admin, id);
    CHECK(second != first);
    REQUIRE(env.wait_status(id, "completed"));
    t = env.get(id);
    CHECK(t.try_done == 2);
    const auto spools = env.tx().detail(env.admin, id);
    REQUIRE(spools.size() == 2);
    std::map<std::int64_t, std::string> by_id;
    for (const auto& sp : spools) by_id[sp.spool_id] = sp.status;
    CHECK(by_id[first] == "failed");
    CHECK(by_id[second] == "completed");
    CHECK(env.gateway->count() == 2);
}

TEST_CASE("engine: a failed attempt with tries left is retried automatically after retry_delay") {
    Env env;
    // Times are whole seconds, so a 1 s delay may elapse at once; 2 s leaves the test at least
    // one second to observe pending_retry.
    env.retry_delay = 2s;
    env.reopen(env.gateway);
    env.gateway->set_policy(fail_first("no answer"));
    env.provider("trunk");
    const auto id = env.transmission(2);
    const auto first = env.send(id);

    REQUIRE(env.wait_status(id, "pending_retry"));
    auto t = env.get(id);
    CHECK(t.try_done == 1);
    CHECK(t.response == "no answer");
    const auto failed = env.spool(first);
    CHECK(failed.status == "failed");
    REQUIRE(failed.time_end);
    REQUIRE(t.next_run);
    CHECK(*t.next_run == *failed.time_end + 2);

    REQUIRE(env.wait_status(id, "completed", 5000ms));
    t = env.get(id);
    CHECK(t.try_done == 2);
    CHECK_FALSE(t.next_run);
    const auto spools = env.tx().detail(env.admin, id);
    REQUIRE(spools.size() == 2);
    const auto& second = spools[0].spool_id == first ? spools[1] : spools[0];
    CHECK(second.status == "completed");
    CHECK(second.time_spool >= *failed.time_end + 2);  // not before it was due
    const auto records = env.gateway->records();
    REQUIRE(records.size() == 2);
    CHECK(records[1].spool_id == second.spool_id);
    CHECK(records[1].try_done == 2);
}

TEST_CASE("engine: a rejected attempt fails the transmission at once, whatever tries are left") {
    Env env;
    env.gateway->set_policy(
        [](const Delivery&) { return Decision::finish(Outcome::rejected("550 5.1.1 no such mailbox")); });
    env.provider("trunk");
    const auto id = env.transmission(3);
    const auto spool = env.send(id);
    REQUIRE(env.wait_status(id, "failed"));
    const auto t = env.get(id);
    CHECK(t.try_done == 1);
    CHECK(t.response == "550 5.1.1 no such mailbox");
    CHECK_FALSE(t.next_run);
    CHECK(env.spool(spool).status == "failed");
    std::this_thread::sleep_for(100ms);
    CHECK(env.gateway->count() == 1);  // no automatic retry
}

TEST_CASE("engine: an automatic retry whose contact was deleted makes the transmission invalid") {
    Env env;
    env.provider("trunk");
    const auto id = env.transmission(2);
    const auto spool_id = env.send(id);
    REQUIRE(env.gateway->wait_deliveries(1));
    // The contact goes while the first attempt is under way; that attempt then fails.
    env.core->contacts().remove(env.admin, env.get(id).contact_id);
    env.gateway->finish(spool_id, Outcome::failed("no answer"));

    REQUIRE(env.wait_status(id, "invalid", 5000ms));
    const auto t = env.get(id);
    CHECK(contains(t.response, "contact"));
    CHECK_FALSE(t.next_run);
    CHECK(env.tx().detail(env.admin, id).size() == 1);  // no attempt was begun
    CHECK(env.gateway->count() == 1);
    CHECK(code_of([&] { env.send(id); }) == Errc::locked);
    CHECK(code_of([&] { env.tx().retry(env.admin, id); }) == Errc::locked);
}

TEST_CASE("engine: sending with no provider for the service is refused") {
    Env env;
    const auto id = env.transmission();
    std::string why;
    CHECK(code_of([&] { env.send(id); }, &why) == Errc::locked);
    CHECK(why.find("no active provider serves sms") != std::string::npos);

    // An inactive provider does not count either.
    const auto p = env.provider("off");
    env.core->providers().update(env.admin, p, [](Provider& x) { x.active = 0; });
    CHECK(code_of([&] { env.send(id); }) == Errc::locked);
    CHECK(env.status(id) == "pending");
    CHECK(env.tx().detail(env.admin, id).empty());
    CHECK(env.gateway->count() == 0);

    env.core->providers().update(env.admin, p, [](Provider& x) { x.active = 1; });
    env.send(id);
    CHECK(env.gateway->wait_deliveries(1));
}

TEST_CASE("engine: a provider error fails over to the next provider within the same attempt") {
    Env env;
    // Weight 0 makes the second provider a standby, so the first one is always tried first.
    const auto first = env.provider("primary", std::nullopt, 10);
    const auto second = env.provider("standby", std::nullopt, 0);

    SUBCASE("the second provider delivers") {
        env.gateway->set_policy([first](const Delivery& d) {
            return d.provider.provider_id == first ? Decision::finish(Outcome::provider_error("503 unavailable"))
                                                   : Decision::finish(Outcome::delivered("ok"));
        });
        const auto id = env.transmission();
        const auto spool_id = env.send(id);
        REQUIRE(env.wait_status(id, "completed"));
        const auto records = env.gateway->records();
        REQUIRE(records.size() == 2);
        CHECK(records[0].provider_id == first);
        CHECK(records[1].provider_id == second);
        CHECK(records[0].spool_id == spool_id);
        CHECK(records[1].spool_id == spool_id);
        const auto s = env.spool(spool_id);
        CHECK(s.status == "completed");
        CHECK(s.provider_id == second);
        CHECK(env.tx().detail(env.admin, id).size() == 1);
        CHECK(env.get(id).try_done == 1);
    }
    SUBCASE("every provider errs: the spool fails with the last error") {
        env.gateway->set_policy(
            [](const Delivery& d) { return Decision::finish(Outcome::provider_error("down: " + d.provider.name)); });
        const auto id = env.transmission();
        const auto spool_id = env.send(id);
        REQUIRE(env.wait_status(id, "failed"));
        CHECK(env.gateway->count() == 2);
        const auto s = env.spool(spool_id);
        CHECK(s.status == "failed");
        REQUIRE(s.response);
        CHECK(contains(s.response, "down: standby"));
        CHECK_FALSE(contains(s.response, "down: primary"));
        CHECK(contains(s.response, std::to_string(second)));
        CHECK(s.provider_id == second);
        CHECK(contains(env.get(id).response, "down: standby"));
    }
    SUBCASE("a gateway whose deliver() throws counts as a provider error") {
        env.gateway->set_policy([first](const Delivery& d) -> Decision {
            if (d.provider.provider_id == first) throw std::runtime_error("socket exploded");
            return Decision::finish(Outcome::delivered("ok"));
        });
        const auto id = env.transmission();
        const auto spool_id = env.send(id);
        REQUIRE(env.wait_status(id, "completed"));
        CHECK(env.gateway->count() == 2);
        CHECK(env.spool(spool_id).provider_id == second);
    }
    SUBCASE("deliver() throws on every provider: the spool fails naming the error") {
        env.gateway->set_policy([](const Delivery&) -> Decision { throw std::runtime_error("socket exploded"); });
        const auto id = env.transmission();
        const auto spool_id = env.send(id);
        REQUIRE(env.wait_status(id, "failed"));
        CHECK(contains(env.spool(spool_id).response, "socket exploded"));
    }
}

TEST_CASE("engine: a provider's concurrency setting bounds its deliveries in flight") {
    Env env;
    env.provider("narrow", R"({"concurrency":2})");
    std::vector<std::int64_t> ids, spools;
    for (int i = 0; i < 5; ++i) ids.push_back(env.transmission(1, "1555000" + std::to_string(i)));
    for (auto id : ids) spools.push_back(env.send(id));

    REQUIRE(env.gateway->wait_deliveries(2));
    std::this_thread::sleep_for(200ms);
    CHECK(env.gateway->count() == 2);
    int queued = 0;
    for (auto s : spools) queued += env.spool(s).status == "queued" ? 1 : 0;
    CHECK(queued == 3);
    for (auto id : ids) CHECK(env.status(id) == "processing");

    for (std::size_t expected = 3; expected <= 5; ++expected) {
        const auto held = env.gateway->held_ids();
        REQUIRE(held.size() == 2);
        env.gateway->finish(held.front(), Outcome::delivered("ok"));
        REQUIRE(env.gateway->wait_deliveries(expected));
        std::this_thread::sleep_for(100ms);
        CHECK(env.gateway->count() == expected);
    }
    for (auto s : env.gateway->held_ids()) env.gateway->finish(s, Outcome::delivered("ok"));
    for (auto id : ids) CHECK(env.wait_status(id, "completed"));
    CHECK(env.gateway->max_held() == 2);
}

TEST_CASE("engine: DeliveryCompletion counts the first finish only") {
    Env env;
    env.provider("single", R"({"concurrency":1})");
    const auto id = env.transmission();
    const auto spool_id = env.send(id);
    REQUIRE(env.gateway->wait_deliveries(1));
    auto done = env.gateway->take(spool_id);
    CHECK_FALSE(done.finished());
    done.finish(Outcome::delivered("first"));
    CHECK(done.finished());
    done.finish(Outcome::failed("second"));
    DeliveryCompletion copy = done;
    copy.finish(Outcome::provider_error("third"));
    REQUIRE(env.wait_status(id, "completed"));
    std::this_thread::sleep_for(150ms);
    const auto s = env.spool(spool_id);
    CHECK(s.status == "completed");
    CHECK(s.response == "first");
    CHECK(env.status(id) == "completed");
    CHECK(env.get(id).try_done == 1);
    CHECK(env.gateway->count() == 1);  // the provider error was ignored: no failover

    // The slot was returned once: with concurrency 1, still one delivery at a time.
    const auto a = env.transmission(1, "15550002");
    const auto b = env.transmission(1, "15550003");
    env.send(a);
    env.send(b);
    REQUIRE(env.gateway->wait_deliveries(2));
    std::this_thread::sleep_for(150ms);
    CHECK(env.gateway->count() == 2);
}

TEST_CASE("engine: a delivery whose every completion is dropped fails") {
    Env env;
    env.provider("trunk");

    SUBCASE("held copies released") {
        const auto id = env.transmission();
        const auto spool_id = env.send(id);
        REQUIRE(env.gateway->wait_deliveries(1));
        std::optional<DeliveryCompletion> one = env.gateway->take(spool_id);
        std::optional<DeliveryCompletion> two = *one;
        one.reset();
        std::this_thread::sleep_for(150ms);
        CHECK(env.status(id) == "processing");  // a copy is still alive
        CHECK(env.spool(spool_id).status == "started");
        two.reset();
        REQUIRE(env.wait_status(id, "failed"));
        const auto s = env.spool(spool_id);
        CHECK(s.status == "failed");
        CHECK(s.response == "the gateway dropped the delivery");
    }
    SUBCASE("dropped inside deliver()") {
        env.gateway->set_policy([](const Delivery&) { return Decision::drop(); });
        const auto id = env.transmission(1);
        const auto spool_id = env.send(id);
        REQUIRE(env.wait_status(id, "failed"));
        CHECK(env.spool(spool_id).response == "the gateway dropped the delivery");
        CHECK(env.gateway->count() == 1);  // a dropped delivery is not a provider error
    }
}

TEST_CASE("engine: connected() records time_connect and status before the outcome") {
    Env env;
    env.provider("trunk");
    const auto id = env.transmission();
    const auto spool_id = env.send(id);
    REQUIRE(env.gateway->wait_deliveries(1));
    auto done = env.gateway->take(spool_id);
    done.connected();
    REQUIRE(env.wait_spool(spool_id, "connected"));
    const auto connected = env.spool(spool_id);
    REQUIRE(connected.time_connect);
    CHECK_FALSE(connected.time_end);
    CHECK(env.status(id) == "processing");

    done.finish(Outcome::delivered("answered"));
    REQUIRE(env.wait_status(id, "completed"));
    const auto s = env.spool(spool_id);
    CHECK(s.status == "completed");
    REQUIRE(s.time_start);
    REQUIRE(s.time_connect);
    REQUIRE(s.time_end);
    CHECK(*s.time_connect == *connected.time_connect);
    CHECK(*s.time_start <= *s.time_connect);
    CHECK(*s.time_connect <= *s.time_end);
}

TEST_CASE("engine: outcome results are stored per spool") {
    Env env;
    env.provider("trunk");
    env.gateway->set_policy([](const Delivery&) {
        Outcome o = Outcome::delivered("ok");
        o.results = {{"dtmf", "age", "22"}, {"info", "pages", "3"}};
        return Decision::finish(std::move(o));
    });
    const auto id = env.transmission();
    const auto other = env.transmission(1, "15550009");
    const auto spool_id = env.send(id);
    const auto other_spool = env.send(other);
    REQUIRE(env.wait_status(id, "completed"));
    REQUIRE(env.wait_status(other, "completed"));

    const auto rows = env.tx().result(env.admin, id);
    REQUIRE(rows.size() == 2);
    std::set<std::string> seen;
    for (const auto& r : rows) {
        CHECK(r.spool_id == spool_id);
        seen.insert(r.type + "/" + r.name + "/" + r.data);
    }
    CHECK(seen == std::set<std::string>{"dtmf/age/22", "info/pages/3"});

    const auto by_spool = env.tx().spool_result(env.admin, spool_id);
    REQUIRE(by_spool.size() == 2);
    for (const auto& r : by_spool) CHECK(r.spool_id == spool_id);
    for (const auto& r : env.tx().spool_result(env.admin, other_spool)) CHECK(r.spool_id == other_spool);
    CHECK(env.tx().result(env.admin, other).size() == 2);
}

TEST_CASE("engine: after a stop, attempts in flight are redelivered when the gateway deduplicates") {
    Env env;
    env.reopen(std::make_shared<TestGateway>(true));
    const auto a = env.provider("a");
    const auto b = env.provider("b");
    std::vector<std::int64_t> ids;
    std::map<std::int64_t, std::int64_t> provider_of_spool;
    for (int i = 0; i < 6; ++i) ids.push_back(env.transmission(1, "1555010" + std::to_string(i)));
    for (auto id : ids) env.send(id);
    REQUIRE(env.gateway->wait_deliveries(6));
    for (const auto& r : env.gateway->records()) provider_of_spool[r.spool_id] = r.provider_id;
    auto stale = env.gateway;  // keeps the unfinished completions of the stopped Core

    env.reopen(std::make_shared<TestGateway>(true, deliver_all()));
    for (auto id : ids) CHECK(env.wait_status(id, "completed"));
    const auto records = env.gateway->records();
    CHECK(records.size() == 6);
    for (const auto& r : records) {
        CAPTURE(r.spool_id);
        REQUIRE(provider_of_spool.count(r.spool_id) == 1);
        CHECK(r.provider_id == provider_of_spool[r.spool_id]);  // pinned to the provider it began with
    }
    std::set<std::int64_t> providers_used;
    for (auto id : ids) {
        const auto spools = env.tx().detail(env.admin, id);
        REQUIRE(spools.size() == 1);
        CHECK(spools[0].status == "completed");
        CHECK(spools[0].provider_id == provider_of_spool[spools[0].spool_id]);
        providers_used.insert(*spools[0].provider_id);
        CHECK(env.get(id).try_done == 1);
    }
    CHECK(providers_used.size() <= 2);
    CHECK((providers_used.count(a) + providers_used.count(b)) == providers_used.size());

    // Completions of the stopped Core reach nothing any more.
    for (auto s : stale->held_ids()) stale->finish(s, Outcome::failed("late"));
    std::this_thread::sleep_for(150ms);
    for (auto id : ids) CHECK(env.status(id) == "completed");
}

TEST_CASE("engine: after a stop, started attempts fail as interrupted and queued ones are delivered") {
    Env env;
    env.provider("narrow", R"({"concurrency":1})");
    const auto first = env.transmission(2, "15550201");
    const auto second = env.transmission(2, "15550202");
    const auto first_spool = env.send(first);
    const auto second_spool = env.send(second);
    REQUIRE(env.gateway->wait_deliveries(1));
    std::this_thread::sleep_for(150ms);
    REQUIRE(env.gateway->count() == 1);
    const auto started_spool = env.gateway->records()[0].spool_id;
    const auto queued_spool = started_spool == first_spool ? second_spool : first_spool;
    const auto started_id = started_spool == first_spool ? first : second;
    const auto queued_id = started_spool == first_spool ? second : first;
    CHECK(env.spool(started_spool).status == "started");
    CHECK(env.spool(queued_spool).status == "queued");

    env.reopen(std::make_shared<TestGateway>(false, deliver_all()));
    REQUIRE(env.wait_status(started_id, "failed"));
    REQUIRE(env.wait_status(queued_id, "completed"));

    const auto interrupted = env.spool(started_spool);
    CHECK(interrupted.status == "failed");
    CHECK(contains(interrupted.response, "interrupted"));
    CHECK(interrupted.time_end);
    const auto t = env.get(started_id);
    CHECK(contains(t.response, "interrupted"));
    CHECK(t.try_done == 1);
    CHECK_FALSE(t.next_run);  // never retried automatically, although a second try was allowed

    const auto delivered = env.spool(queued_spool);
    CHECK(delivered.status == "completed");
    CHECK(env.tx().detail(env.admin, queued_id).size() == 1);
    const auto records = env.gateway->records();
    REQUIRE(records.size() == 1);
    CHECK(records[0].spool_id == queued_spool);
}

TEST_CASE("engine: a one-time schedule sends when due; an unscheduled one does not") {
    Env env;
    env.gateway->set_policy(deliver_all());
    env.provider("trunk");
    const auto kept = env.transmission(1, "15550301");
    const auto cancelled = env.transmission(1, "15550302");
    // Whole seconds: +2 leaves at least one second before it is due, for the checks below.
    const auto at = unix_now() + 2;
    ScheduleSpec spec;
    spec.kind = ScheduleSpec::Kind::once;
    spec.at = at;
    CHECK(env.tx().schedule(env.admin, kept, spec) > 0);
    CHECK(env.tx().schedule(env.admin, cancelled, spec) > 0);
    env.tx().unschedule(env.admin, cancelled);
    CHECK(code_of([&] { env.tx().unschedule(env.admin, cancelled); }) == Errc::not_found);
    CHECK(env.status(kept) == "pending");

    REQUIRE(env.wait_status(kept, "completed", 4000ms));
    const auto spools = env.tx().detail(env.admin, kept);
    REQUIRE(spools.size() == 1);
    CHECK(spools[0].time_spool >= at);
    CHECK(schedule_rows(env.db_path(), kept).empty());  // a one-time schedule is used up

    sleep_past(at, 300ms);
    CHECK(env.status(cancelled) == "pending");
    CHECK(env.tx().detail(env.admin, cancelled).empty());
    CHECK(env.gateway->count() == 1);
}

TEST_CASE("engine: a schedule that fell due while the Core was stopped fires once on start") {
    Env env;
    env.provider("trunk");
    const auto id = env.transmission();
    ScheduleSpec spec;
    spec.kind = ScheduleSpec::Kind::once;
    spec.at = unix_now() + 2;  // at least a second away: not due before the Core stops
    env.tx().schedule(env.admin, id, spec);
    env.close();
    sleep_past(spec.at);

    env.gateway = std::make_shared<TestGateway>(false, deliver_all());
    env.open();
    REQUIRE(env.wait_status(id, "completed"));
    std::this_thread::sleep_for(200ms);
    CHECK(env.gateway->count() == 1);
    CHECK(env.tx().detail(env.admin, id).size() == 1);
    CHECK(schedule_rows(env.db_path(), id).empty());
}

TEST_CASE("engine: a cron schedule stores its next minute and fires again after a missed run") {
    // Keep clear of a minute boundary, so the schedule cannot fire on its own during the test.
    if (unix_now() % 60 >= 57) sleep_past(unix_now() - unix_now() % 60 + 59);

    Env env;
    env.gateway->set_policy(deliver_all());
    env.provider("trunk");
    const auto id = env.transmission();
    const auto now = unix_now();
    const auto spec = parse_schedule(boost::json::object{{"minute", "*"}}, now);
    REQUIRE(spec.kind == ScheduleSpec::Kind::cron);
    env.tx().schedule(env.admin, id, spec);

    auto rows = schedule_rows(env.db_path(), id);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].kind == "cron");
    CHECK(rows[0].next_run % 60 == 0);
    CHECK(rows[0].next_run > now);
    CHECK(rows[0].next_run <= now + 60);
    CHECK(rows[0].next_run == next_fire(spec, now));
    CHECK(env.status(id) == "pending");

    // Replacing the schedule keeps one row.
    env.tx().schedule(env.admin, id, spec);
    CHECK(schedule_rows(env.db_path(), id).size() == 1);

    // Stopped across a firing: make the stored run lie in the past, as if the minute passed.
    env.close();
    {
        SQLite::Database db(env.db_path().string(), SQLite::OPEN_READWRITE);
        SQLite::Statement q(db, "UPDATE schedule SET next_run = ? WHERE transmission_id = ?");
        q.bind(1, now - 120);
        q.bind(2, id);
        REQUIRE(q.exec() == 1);
    }
    env.gateway = std::make_shared<TestGateway>(false, deliver_all());
    env.open();
    REQUIRE(env.wait_status(id, "completed"));
    std::this_thread::sleep_for(200ms);
    CHECK(env.gateway->count() == 1);  // once, not once per missed minute
    rows = schedule_rows(env.db_path(), id);
    REQUIRE(rows.size() == 1);  // recurring: it stays
    CHECK(rows[0].next_run % 60 == 0);
    CHECK(rows[0].next_run > now);
    CHECK(rows[0].next_run <= unix_now() + 60);

    env.tx().unschedule(env.admin, id);
    CHECK(schedule_rows(env.db_path(), id).empty());
}

TEST_CASE("engine: a stop waits for deliveries in flight and records their outcomes") {
    Env env;
    env.drain = 3000ms;
    env.reopen(env.gateway);  // not redelivery-safe: an unrecorded outcome would fail as interrupted
    env.provider("trunk a");
    const auto id = env.transmission();
    const auto spool_id = env.send(id);
    REQUIRE(env.gateway->wait_deliveries(1));

    std::thread far_end([&] {
        std::this_thread::sleep_for(300ms);
        env.gateway->finish(spool_id, Outcome::delivered("ok"));
    });
    const auto start = std::chrono::steady_clock::now();
    env.close();
    const auto waited = std::chrono::steady_clock::now() - start;
    far_end.join();
    CHECK(waited >= 250ms);
    CHECK(waited < 3000ms);

    env.drain = 0ms;
    env.open();
    CHECK(env.status(id) == "completed");
    CHECK(env.spool(spool_id).status == "completed");
    CHECK(env.spool(spool_id).response == "ok");
    CHECK(env.gateway->count() == 1);
}

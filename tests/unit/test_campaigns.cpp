// Campaigns through a real Core and the engine's campaign runner: stop semantics (nothing new
// reaches a gateway once stop() returns; what was begun goes back to wait), resume without
// duplicates, the progress listener, completion (empty groups, failures, invalid contacts),
// broken campaigns, resumption after a restart, the update/remove rules, contacts linked or
// unlinked while a campaign runs, and the bounded window of attempts begun ahead. Deliveries go through TestGateway
// (test_gateway.hpp), which can hold them, so each test decides when the far end answers.
#include "test_gateway.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using namespace ictcore;
using namespace ictcore::test;
using namespace std::chrono_literals;

namespace {

namespace cs = campaign_status;

// An Env plus what campaign tests need: groups of contacts, campaigns, and views of a
// campaign's transmissions.
struct Fixture {
    Env env;

    Campaigns& campaigns() { return env.core->campaigns(); }
    const Principal& admin() const { return env.admin; }
    TestGateway& gateway() { return *env.gateway; }

    std::int64_t provider(const std::string& name, std::optional<std::string> settings = std::nullopt,
                          std::int64_t service_flag = service::sms) {
        Provider p;
        p.name = name;
        p.type = "test";
        p.service_flag = service_flag;
        p.username = "trunk";
        p.settings = std::move(settings);
        return env.core->providers().create(env.admin, p);
    }
    std::int64_t empty_group(const std::string& name) {
        Group g;
        g.name = name;
        return env.core->groups().create(env.admin, g);
    }
    // A group of `n` new contacts with distinct phones (from `first`), imported at once.
    std::int64_t group(const std::string& name, int n, int first = 0) {
        const auto id = empty_group(name);
        std::string csv;
        for (int i = 0; i < n; ++i) csv += phone(first + i) + ",Member" + std::to_string(first + i) + "\n";
        if (n > 0) {
            const auto report = env.core->groups().import_csv(env.admin, id, csv);
            REQUIRE(report.imported == n);
        }
        return id;
    }
    static std::string phone(int i) { return std::to_string(15551000000LL + i); }
    std::int64_t contact(const std::string& phone_number, std::optional<std::string> email = std::nullopt) {
        Contact c;
        c.first_name = "Extra";
        c.phone = phone_number;
        c.email = std::move(email);
        return env.core->contacts().create(env.admin, c);
    }
    std::vector<Contact> members(std::int64_t group_id) {
        return env.core->groups().contacts(env.admin, group_id, ListQuery{}).all();
    }
    std::int64_t campaign(std::int64_t group_id, std::int64_t delay = 0, std::int64_t try_allowed = 1,
                          std::optional<std::int64_t> program_id = std::nullopt) {
        Campaign c;
        c.program_id = program_id ? *program_id : env.program();
        c.group_id = group_id;
        c.delay = delay;
        c.try_allowed = try_allowed;
        return campaigns().create(env.admin, c);
    }
    Campaign get(std::int64_t id) { return campaigns().get(env.admin, id); }
    void start(std::int64_t id) { campaigns().start(env.admin, id); }
    void stop(std::int64_t id) { campaigns().stop(env.admin, id); }
    bool wait_campaign(std::int64_t id, std::string_view status, std::chrono::milliseconds timeout = 10000ms) {
        const bool ok = eventually([&] { return get(id).status == status; }, timeout);
        if (!ok) {
            const auto c = get(id);
            MESSAGE("campaign " << id << " is " << c.status << " (" << c.reason.value_or("") << "), done "
                                << c.contact_done << " of " << c.contact_total << ", expected " << status);
        }
        return ok;
    }
    std::vector<Transmission> transmissions_of(std::int64_t campaign_id) {
        std::vector<Transmission> out;
        for (auto& t : env.tx().list(env.admin, ListQuery{}).all()) {
            if (t.campaign_id == campaign_id) out.push_back(std::move(t));
        }
        return out;
    }
    // No transmission of the campaign is processing (the put-back of held attempts is
    // committed by the engine shortly after a stop).
    bool settled(std::int64_t campaign_id) {
        return eventually([&] {
            const auto txs = transmissions_of(campaign_id);
            return std::none_of(txs.begin(), txs.end(),
                                [](const Transmission& t) { return t.status == transmission_status::processing; });
        });
    }
    void finish_held(const Outcome& o = Outcome::delivered("ok")) {
        for (auto s : gateway().held_ids()) gateway().finish(s, o);
    }
};

// How often each destination reached the gateway(s).
std::map<std::string, int> per_destination(const std::vector<TestGateway::Record>& records) {
    std::map<std::string, int> n;
    for (const auto& r : records) ++n[r.destination];
    return n;
}

std::set<std::string> phones_of(const std::vector<Contact>& contacts) {
    std::set<std::string> out;
    for (const auto& c : contacts) out.insert(c.phone);
    return out;
}

std::set<std::string> keys_of(const std::map<std::string, int>& m) {
    std::set<std::string> out;
    for (const auto& [k, v] : m) out.insert(k);
    return out;
}

}  // namespace

TEST_CASE("campaign: stop hands nothing more to the gateway and puts back what was begun; start sends the rest once") {
    Fixture f;
    f.provider("narrow", R"({"concurrency":5})");
    const auto group = f.group("fifty", 50);
    const auto id = f.campaign(group);
    CHECK(f.get(id).status == cs::fresh);
    CHECK(f.get(id).contact_total == 50);

    f.start(id);
    CHECK(f.get(id).status == cs::running);
    REQUIRE(f.gateway().wait_deliveries(5));
    std::this_thread::sleep_for(200ms);
    REQUIRE(f.gateway().count() == 5);  // the provider's concurrency bounds the campaign

    f.stop(id);
    CHECK(f.get(id).status == cs::paused);
    // Every slot frees up now: without the stop, the attempts queued behind them would go.
    f.finish_held();
    REQUIRE(eventually([&] { return f.get(id).completed == 5; }));
    std::this_thread::sleep_for(300ms);
    CHECK(f.gateway().count() == 5);
    REQUIRE(f.settled(id));

    const auto paused = f.get(id);
    CHECK(paused.status == cs::paused);
    CHECK(paused.completed == 5);
    CHECK(paused.contact_done == 5);
    CHECK(paused.failed == 0);
    CHECK(paused.contact_total == 50);
    CHECK(paused.pending == 45);

    std::set<std::int64_t> first_spools;
    for (const auto& r : f.gateway().records()) first_spools.insert(r.spool_id);
    const auto txs = f.transmissions_of(id);
    // The runner begins a window larger than the provider takes at once (2 × concurrency, at
    // least 16): those beyond the five in flight were begun in the store and must be put back.
    CHECK(txs.size() > 5);
    int delivered = 0;
    for (const auto& t : txs) {
        CAPTURE(t.transmission_id);
        const auto spools = f.env.tx().detail(f.admin(), t.transmission_id);
        if (t.status == transmission_status::completed) {
            ++delivered;
            REQUIRE(spools.size() == 1);
            CHECK(first_spools.count(spools[0].spool_id) == 1);
        } else {
            CHECK(t.status == transmission_status::pending);
            CHECK(spools.empty());  // the attempt was undone, not failed
            CHECK(t.try_done == 0);
        }
    }
    CHECK(delivered == 5);

    // Resume: the rest arrive, each contact exactly once across both runs.
    f.gateway().set_policy(deliver_all());
    f.start(id);
    REQUIRE(f.wait_campaign(id, cs::completed));
    std::this_thread::sleep_for(100ms);
    const auto records = f.gateway().records();
    CHECK(records.size() == 50);
    const auto counts = per_destination(records);
    CHECK(keys_of(counts) == phones_of(f.members(group)));
    for (const auto& [destination, n] : counts) {
        CAPTURE(destination);
        CHECK(n == 1);
    }
    const auto done = f.get(id);
    CHECK(done.completed == 50);
    CHECK(done.failed == 0);
    CHECK(done.contact_done == 50);
    CHECK(done.contact_total == 50);
    CHECK(done.pending == 0);
    const auto all = f.transmissions_of(id);
    CHECK(all.size() == 50);
    for (const auto& t : all) {
        CAPTURE(t.transmission_id);
        CHECK(t.status == transmission_status::completed);
        CHECK(t.try_done == 1);
        CHECK(f.env.tx().detail(f.admin(), t.transmission_id).size() == 1);
    }
    CHECK(code_of([&] { f.start(id); }) == Errc::locked);
    CHECK(code_of([&] { f.stop(id); }) == Errc::locked);
}

TEST_CASE("campaign: stop of a paced campaign takes effect before it returns") {
    Fixture f;
    f.gateway().set_policy(deliver_all());
    f.provider("trunk");
    const auto group = f.group("thirty", 30);
    const auto id = f.campaign(group, 30);
    f.start(id);
    REQUIRE(f.gateway().wait_deliveries(5));
    f.stop(id);
    const auto at_stop = f.gateway().count();
    std::this_thread::sleep_for(300ms);  // ten intervals
    CHECK(f.gateway().count() == at_stop);
    CHECK(at_stop < 30);
    REQUIRE(f.settled(id));
    REQUIRE(eventually([&] { return f.get(id).contact_done == static_cast<std::int64_t>(at_stop); }));

    f.start(id);
    REQUIRE(f.wait_campaign(id, cs::completed));
    const auto counts = per_destination(f.gateway().records());
    CHECK(keys_of(counts) == phones_of(f.members(group)));
    for (const auto& [destination, n] : counts) {
        CAPTURE(destination);
        CHECK(n == 1);
    }
    CHECK(f.get(id).completed == 30);
}

TEST_CASE("campaign: stop and start of a paused or running campaign") {
    Fixture f;
    f.provider("narrow", R"({"concurrency":1})");
    const auto id = f.campaign(f.group("three", 3));
    CHECK(code_of([&] { f.stop(id); }) == Errc::locked);  // new: nothing to stop
    f.start(id);
    REQUIRE(f.gateway().wait_deliveries(1));
    f.start(id);  // running already: nothing changes
    CHECK(f.get(id).status == cs::running);
    f.stop(id);
    f.stop(id);  // paused already: fine
    CHECK(f.get(id).status == cs::paused);
    f.finish_held();
    std::this_thread::sleep_for(200ms);
    CHECK(f.gateway().count() == 1);
}

TEST_CASE("campaign: the progress listener sees counters grow to completion, matching GET") {
    struct Seen {
        std::mutex mutex;
        std::vector<CampaignProgress> events;
        std::set<std::thread::id> threads;
    };
    auto seen = std::make_shared<Seen>();
    Fixture f;
    f.campaigns().on_progress([seen](const CampaignProgress& p) {
        std::lock_guard lock(seen->mutex);
        seen->events.push_back(p);
        seen->threads.insert(std::this_thread::get_id());
    });
    const auto of = [&](std::int64_t id) {
        std::lock_guard lock(seen->mutex);
        std::vector<CampaignProgress> out;
        for (const auto& p : seen->events)
            if (p.campaign_id == id) out.push_back(p);
        return out;
    };
    f.gateway().set_policy(deliver_all());
    f.provider("trunk");
    // Paced (20 ms apart), so outcomes arrive in several batches.
    const auto id = f.campaign(f.group("twenty", 20), 20);
    f.start(id);
    REQUIRE(f.wait_campaign(id, cs::completed));
    REQUIRE(eventually([&] {
        const auto e = of(id);
        return !e.empty() && e.back().status == cs::completed;
    }));

    const auto events = of(id);
    REQUIRE(events.size() >= 3);
    CHECK(events.front().status == cs::running);
    std::set<std::int64_t> distinct;
    for (std::size_t i = 0; i < events.size(); ++i) {
        CAPTURE(i);
        const auto& p = events[i];
        CHECK(p.contact_done == p.completed + p.failed);
        CHECK(p.contact_total == 20);
        CHECK(p.pending() == p.contact_total - p.contact_done);
        if (i > 0) CHECK(p.contact_done >= events[i - 1].contact_done);
        distinct.insert(p.contact_done);
    }
    CHECK(distinct.size() >= 3);  // reported along the way, not only at the end
    const auto last = events.back();
    const auto got = f.get(id);
    CHECK(last.contact_done == 20);
    CHECK(last.completed == 20);
    CHECK(last.failed == 0);
    CHECK(last.pending() == 0);
    CHECK(got.status == last.status);
    CHECK(got.contact_total == last.contact_total);
    CHECK(got.contact_done == last.contact_done);
    CHECK(got.completed == last.completed);
    CHECK(got.failed == last.failed);
    CHECK(got.pending == last.pending());
    {
        std::lock_guard lock(seen->mutex);
        CHECK(seen->threads.count(std::this_thread::get_id()) == 0);  // called on the engine's thread
    }

    // An empty function removes the listener.
    f.campaigns().on_progress({});
    std::size_t before = 0;
    {
        std::lock_guard lock(seen->mutex);
        before = seen->events.size();
    }
    const auto quiet = f.campaign(f.group("two", 2, 100));
    f.start(quiet);
    REQUIRE(f.wait_campaign(quiet, cs::completed));
    std::this_thread::sleep_for(100ms);
    std::lock_guard lock(seen->mutex);
    CHECK(seen->events.size() == before);
}

TEST_CASE("campaign: a campaign over an empty group completes at once and cannot restart") {
    Fixture f;
    f.provider("trunk");
    const auto group = f.empty_group("nobody");
    const auto id = f.campaign(group);
    CHECK(f.get(id).contact_total == 0);
    f.start(id);
    REQUIRE(f.wait_campaign(id, cs::completed, 5000ms));
    const auto c = f.get(id);
    CHECK(c.contact_total == 0);
    CHECK(c.contact_done == 0);
    CHECK(c.pending == 0);
    CHECK(code_of([&] { f.start(id); }) == Errc::locked);
    CHECK(code_of([&] { f.stop(id); }) == Errc::locked);
    // Pacing may change at any time; the target not once completed.
    CHECK(f.campaigns().update(f.admin(), id, [](Campaign& x) { x.delay = 5; }).delay == 5);
    const auto other = f.empty_group("other");
    CHECK(code_of([&] { f.campaigns().update(f.admin(), id, [&](Campaign& x) { x.group_id = other; }); }) ==
          Errc::locked);
    // A contact linked after completion is not reached: the campaign is over.
    f.env.core->contacts().link(f.admin(), f.contact("15557770001"), group);
    std::this_thread::sleep_for(200ms);
    CHECK(f.gateway().count() == 0);
    CHECK(f.get(id).status == cs::completed);
}

TEST_CASE("campaign: try_allowed bounds the attempts per contact; failures are counted") {
    Fixture f;  // retry_delay 1 s
    f.provider("trunk");
    const auto group = f.group("ten", 10);
    const std::set<std::string> refused = {Fixture::phone(2), Fixture::phone(5), Fixture::phone(7)};
    const std::string flaky = Fixture::phone(4);
    f.gateway().set_policy([refused, flaky](const Delivery& d) {
        if (refused.count(d.destination)) return Decision::finish(Outcome::failed("busy"));
        if (d.destination == flaky && d.transmission.try_done == 1)
            return Decision::finish(Outcome::failed("no answer"));
        return Decision::finish(Outcome::delivered("ok"));
    });
    const auto id = f.campaign(group, 0, 2);
    f.start(id);
    REQUIRE(f.wait_campaign(id, cs::completed, 10000ms));

    const auto c = f.get(id);
    CHECK(c.completed == 7);
    CHECK(c.failed == 3);
    CHECK(c.contact_done == 10);
    CHECK(c.pending == 0);

    const auto counts = per_destination(f.gateway().records());
    CHECK(counts.size() == 10);
    for (const auto& [destination, n] : counts) {
        CAPTURE(destination);
        CHECK(n == ((refused.count(destination) || destination == flaky) ? 2 : 1));
    }
    for (const auto& t : f.transmissions_of(id)) {
        const auto phone = f.env.core->contacts().get(f.admin(), t.contact_id).phone;
        CAPTURE(phone);
        CHECK(t.try_allowed == 2);
        if (refused.count(phone)) {
            CHECK(t.status == transmission_status::failed);
            CHECK(t.try_done == 2);
            CHECK(t.response == "busy");
        } else {
            CHECK(t.status == transmission_status::completed);
            CHECK(t.try_done == (phone == flaky ? 2 : 1));
        }
        CHECK(f.env.tx().detail(f.admin(), t.transmission_id).size() == static_cast<std::size_t>(t.try_done));
    }
}

TEST_CASE("campaign: a contact that cannot be reached makes its transmission invalid; the campaign completes") {
    Fixture f;
    f.gateway().set_policy(deliver_all());
    f.provider("mail", std::nullopt, service::email);
    Template tpl;
    tpl.name = "news";
    tpl.subject = "Hello [first_name]";
    tpl.body = "<p>News</p>";
    Program program;
    program.name = "newsletter";
    program.template_id = f.env.core->templates().create(f.admin(), tpl);
    const auto program_id = f.env.core->programs().create(f.admin(), "sendemail", program);

    const auto group = f.empty_group("readers");
    const auto with_a = f.contact("15558880001", "a@example.com");
    const auto without = f.contact("15558880002");
    const auto with_b = f.contact("15558880003", "b@example.com");
    for (auto c : {with_a, without, with_b}) f.env.core->contacts().link(f.admin(), c, group);

    const auto id = f.campaign(group, 0, 1, program_id);
    f.start(id);
    REQUIRE(f.wait_campaign(id, cs::completed));
    const auto c = f.get(id);
    CHECK(c.contact_total == 3);
    CHECK(c.contact_done == 3);
    CHECK(c.completed == 2);
    CHECK(c.failed == 1);

    const auto counts = per_destination(f.gateway().records());
    CHECK(counts == std::map<std::string, int>{{"a@example.com", 1}, {"b@example.com", 1}});
    const auto txs = f.transmissions_of(id);
    REQUIRE(txs.size() == 3);
    for (const auto& t : txs) {
        CAPTURE(t.contact_id);
        if (t.contact_id == without) {
            CHECK(t.status == transmission_status::invalid);
            CHECK(contains(t.response, "e-mail"));
            CHECK(f.env.tx().detail(f.admin(), t.transmission_id).empty());
        } else {
            CHECK(t.status == transmission_status::completed);
        }
    }
}

TEST_CASE("campaign: a paused campaign whose program is gone is broken and cannot start") {
    Fixture f;
    f.provider("narrow", R"({"concurrency":1})");
    const auto id = f.campaign(f.group("five", 5));
    f.start(id);
    REQUIRE(f.gateway().wait_deliveries(1));
    f.stop(id);
    f.finish_held();
    REQUIRE(eventually([&] { return f.get(id).completed == 1; }));
    REQUIRE(f.settled(id));

    f.env.core->programs().remove(f.admin(), f.env.program());
    std::string why;
    CHECK(code_of([&] { f.start(id); }, &why) == Errc::invalid);
    CHECK(why.find("program") != std::string::npos);
    const auto c = f.get(id);
    CHECK(c.status == cs::broken);
    CHECK(contains(c.reason, "program"));
    CHECK(c.completed == 1);
    std::this_thread::sleep_for(200ms);
    CHECK(f.gateway().count() == 1);
    CHECK(code_of([&] { f.stop(id); }) == Errc::locked);  // broken is not running
}

TEST_CASE("campaign: without a provider start is refused and the campaign broken; it starts once one exists") {
    Fixture f;
    f.gateway().set_policy(deliver_all());
    const auto id = f.campaign(f.group("four", 4));
    std::string why;
    CHECK(code_of([&] { f.start(id); }, &why) == Errc::locked);
    CHECK(why.find("no active provider serves sms") != std::string::npos);
    auto c = f.get(id);
    CHECK(c.status == cs::broken);
    CHECK(contains(c.reason, "no active provider serves sms"));
    CHECK(f.transmissions_of(id).empty());

    f.provider("trunk");
    f.start(id);
    REQUIRE(f.wait_campaign(id, cs::completed));
    c = f.get(id);
    CHECK_FALSE(c.reason);
    CHECK(c.completed == 4);
    CHECK(f.gateway().count() == 4);
}

TEST_CASE("campaign: a provider deactivated while running breaks the campaign without failing contacts") {
    Fixture f;
    const auto provider = f.provider("narrow", R"({"concurrency":2})");
    const auto group = f.group("ten", 10);
    const auto id = f.campaign(group);
    f.start(id);
    REQUIRE(f.gateway().wait_deliveries(2));
    std::this_thread::sleep_for(100ms);
    REQUIRE(f.gateway().count() == 2);

    f.env.core->providers().update(f.admin(), provider, [](Provider& p) { p.active = 0; });
    REQUIRE(f.wait_campaign(id, cs::broken, 5000ms));
    CHECK(contains(f.get(id).reason, "no active provider"));
    // Deliveries already in flight finish and are counted.
    f.finish_held();
    REQUIRE(eventually([&] { return f.get(id).completed == 2; }));
    REQUIRE(f.settled(id));
    std::this_thread::sleep_for(200ms);
    CHECK(f.gateway().count() == 2);
    auto c = f.get(id);
    CHECK(c.status == cs::broken);
    CHECK(c.failed == 0);
    CHECK(c.contact_done == 2);
    for (const auto& t : f.transmissions_of(id)) {
        CAPTURE(t.transmission_id);
        CHECK((t.status == transmission_status::completed || t.status == transmission_status::pending));
        if (t.status == transmission_status::pending) CHECK(f.env.tx().detail(f.admin(), t.transmission_id).empty());
    }

    f.env.core->providers().update(f.admin(), provider, [](Provider& p) { p.active = 1; });
    f.gateway().set_policy(deliver_all());
    f.start(id);
    REQUIRE(f.wait_campaign(id, cs::completed));
    c = f.get(id);
    CHECK(c.completed == 10);
    CHECK(c.failed == 0);
    CHECK_FALSE(c.reason);
    const auto counts = per_destination(f.gateway().records());
    CHECK(keys_of(counts) == phones_of(f.members(group)));
    for (const auto& [destination, n] : counts) {
        CAPTURE(destination);
        CHECK(n == 1);
    }
}

TEST_CASE("campaign: a running campaign resumes by itself after a restart, reaching each contact once") {
    Fixture f;
    f.provider("narrow", R"({"concurrency":5})");
    const auto group = f.group("thirty", 30);
    const auto phones = phones_of(f.members(group));

    SUBCASE("the gateway is redelivery-safe: attempts in flight are delivered again under their spool id") {
        f.env.reopen(std::make_shared<TestGateway>(true));
        const auto id = f.campaign(group);
        f.start(id);
        REQUIRE(f.gateway().wait_deliveries(5));
        auto stale = f.env.gateway;  // keeps the unfinished completions of the stopped Core
        const auto first = stale->records();

        f.env.reopen(std::make_shared<TestGateway>(true, deliver_all()));
        REQUIRE(f.wait_campaign(id, cs::completed));
        std::this_thread::sleep_for(100ms);
        const auto second = f.gateway().records();
        // Counting a spool delivered twice once, as a deduplicating far end does.
        std::map<std::int64_t, std::string> spools;
        for (const auto& r : first) spools[r.spool_id] = r.destination;
        for (const auto& r : second) {
            const auto [it, fresh] = spools.emplace(r.spool_id, r.destination);
            CHECK(it->second == r.destination);
            (void)fresh;
        }
        std::map<std::string, int> reached;
        for (const auto& [spool, destination] : spools) ++reached[destination];
        CHECK(keys_of(reached) == phones);
        for (const auto& [destination, n] : reached) {
            CAPTURE(destination);
            CHECK(n == 1);
        }
        CHECK(second.size() == 30);  // the five interrupted ones again, and the other 25
        const auto c = f.get(id);
        CHECK(c.completed == 30);
        CHECK(c.failed == 0);
        CHECK(c.contact_done == 30);
        for (const auto& t : f.transmissions_of(id)) {
            CHECK(t.status == transmission_status::completed);
            CHECK(f.env.tx().detail(f.admin(), t.transmission_id).size() == 1);
        }
        for (auto s : stale->held_ids()) stale->finish(s, Outcome::failed("late"));
    }
    SUBCASE("the gateway is not redelivery-safe: interrupted attempts fail, the rest are delivered") {
        const auto id = f.campaign(group);
        f.start(id);
        REQUIRE(f.gateway().wait_deliveries(5));
        auto stale = f.env.gateway;
        const auto first = per_destination(stale->records());
        REQUIRE(first.size() == 5);

        f.env.reopen(std::make_shared<TestGateway>(false, deliver_all()));
        REQUIRE(f.wait_campaign(id, cs::completed));
        std::this_thread::sleep_for(100ms);
        const auto second = per_destination(f.gateway().records());
        CHECK(second.size() == 25);
        for (const auto& [destination, n] : second) {
            CAPTURE(destination);
            CHECK(n == 1);
            CHECK(first.count(destination) == 0);  // never twice
        }
        auto all = keys_of(first);
        for (const auto& d : keys_of(second)) all.insert(d);
        CHECK(all == phones);
        const auto c = f.get(id);
        CHECK(c.completed == 25);
        CHECK(c.failed == 5);
        CHECK(c.contact_done == 30);
        CHECK(c.contact_total == 30);
        int interrupted = 0;
        for (const auto& t : f.transmissions_of(id)) {
            if (t.status == transmission_status::failed) {
                ++interrupted;
                CHECK(contains(t.response, "interrupted"));
            }
        }
        CHECK(interrupted == 5);
    }
}

TEST_CASE("campaign: update rules, remove of a running campaign, and its transmissions") {
    Fixture f;
    f.provider("narrow", R"({"concurrency":2})");
    const auto group = f.group("twenty", 20);
    const auto other_group = f.group("others", 3, 500);
    const auto id = f.campaign(group);
    f.start(id);
    REQUIRE(f.gateway().wait_deliveries(2));

    SUBCASE("program, group and account are locked while running; pacing and tries are not") {
        Text text;
        text.name = "other";
        text.data = "other text";
        Program p;
        p.name = "other program";
        p.text_id = f.env.core->texts().create(f.admin(), text);
        const auto other_program = f.env.core->programs().create(f.admin(), "sendsms", p);
        CHECK(code_of([&] {
                  f.campaigns().update(f.admin(), id, [&](Campaign& c) { c.program_id = other_program; });
              }) == Errc::locked);
        CHECK(code_of([&] { f.campaigns().update(f.admin(), id, [&](Campaign& c) { c.group_id = other_group; }); }) ==
              Errc::locked);
        const auto updated = f.campaigns().update(f.admin(), id, [](Campaign& c) {
            c.delay = 250;
            c.cpm = 30;
            c.try_allowed = 3;
        });
        CHECK(updated.delay == 250);
        CHECK(updated.cpm == 30);
        CHECK(updated.try_allowed == 3);
        CHECK(updated.status == cs::running);
        CHECK(f.get(id).program_id == f.env.program());
        CHECK(f.get(id).group_id == group);
        CHECK(code_of([&] { f.campaigns().update(f.admin(), id, [](Campaign& c) { c.delay = -1; }); }) ==
              Errc::invalid);

        // Paused, the target may change.
        f.stop(id);
        const auto moved = f.campaigns().update(f.admin(), id, [&](Campaign& c) { c.group_id = other_group; });
        CHECK(moved.group_id == other_group);
        f.finish_held();
    }
    SUBCASE("a campaign's transmissions are the campaign's; a clone is the caller's own") {
        const auto txs = f.transmissions_of(id);
        REQUIRE_FALSE(txs.empty());
        const auto t = txs.front();
        std::string why;
        CHECK(code_of([&] { f.env.tx().send(f.admin(), t.transmission_id); }, &why) == Errc::locked);
        CHECK(why.find("campaign") != std::string::npos);
        CHECK(code_of([&] { f.env.tx().retry(f.admin(), t.transmission_id); }) == Errc::locked);
        CHECK(code_of([&] { f.env.tx().remove(f.admin(), t.transmission_id); }) == Errc::locked);
        ScheduleSpec spec;
        spec.kind = ScheduleSpec::Kind::once;
        spec.at = unix_now() + 60;
        CHECK(code_of([&] { f.env.tx().schedule(f.admin(), t.transmission_id, spec); }) == Errc::locked);
        // A recurring schedule (allowed on a finished plain transmission) is refused too.
        const ScheduleSpec every_minute = parse_schedule(boost::json::object{{"minute", "*"}}, unix_now());
        CHECK(code_of([&] { f.env.tx().schedule(f.admin(), t.transmission_id, every_minute); }) == Errc::locked);

        const auto copy_id = f.env.tx().clone(f.admin(), t.transmission_id);
        const auto copy = f.env.get(copy_id);
        CHECK_FALSE(copy.campaign_id);
        CHECK(copy.status == transmission_status::pending);
        CHECK(copy.contact_id == t.contact_id);
        CHECK(copy.program_id == t.program_id);
        CHECK(copy.try_done == 0);
        f.stop(id);
        f.finish_held();
        // The copy is sent like any transmission.
        f.gateway().set_policy(deliver_all());
        f.env.send(copy_id);
        CHECK(f.env.wait_status(copy_id, transmission_status::completed));
    }
    SUBCASE("remove stops it first: nothing more is delivered; what was sent stays, detached") {
        f.campaigns().remove(f.admin(), id);
        CHECK(code_of([&] { f.get(id); }) == Errc::not_found);
        f.finish_held();
        std::this_thread::sleep_for(300ms);
        CHECK(f.gateway().count() == 2);
        const auto records = f.gateway().records();
        for (const auto& r : records) {
            CAPTURE(r.transmission_id);
            CHECK(f.env.wait_status(r.transmission_id, transmission_status::completed));
            CHECK_FALSE(f.env.get(r.transmission_id).campaign_id);
        }
        // The ones begun but not handed over are gone, not left pending or processing.
        CHECK(eventually([&] { return f.env.tx().list(f.admin(), ListQuery{}).all().size() == 2; }));
    }
}

TEST_CASE("campaign: contacts linked while it runs are reached; contacts unlinked before their turn are not") {
    Fixture f;
    const auto provider = f.provider("narrow", R"({"concurrency":1})");
    // Made before the group's members, so its id is behind the walk once linked.
    const auto early = f.contact("15556660001");
    // More members than the runner begins in one batch (at most 1024), so that with one
    // delivery at a time and none finished, the last member cannot have been reached yet.
    constexpr int n = 1100;
    const auto group = f.group("many", n);
    const auto members = f.members(group);
    REQUIRE(members.size() == n);
    const auto id = f.campaign(group);
    f.start(id);
    REQUIRE(f.gateway().wait_deliveries(1));
    std::this_thread::sleep_for(100ms);

    const auto last = std::max_element(members.begin(), members.end(), [](const Contact& a, const Contact& b) {
                          return a.contact_id < b.contact_id;
                      })->contact_id;
    const auto last_phone = f.env.core->contacts().get(f.admin(), last).phone;
    REQUIRE(f.transmissions_of(id).size() < static_cast<std::size_t>(n));
    f.env.core->contacts().unlink(f.admin(), last, group);
    const auto late = f.contact("15556660002");
    f.env.core->contacts().link(f.admin(), late, group);
    f.env.core->contacts().link(f.admin(), early, group);

    f.gateway().set_policy(deliver_all());
    // One at a time, the rest would take seconds: let the provider take any number.
    f.env.core->providers().update(f.admin(), provider, [](Provider& p) { p.settings.reset(); });
    f.finish_held();
    REQUIRE(f.wait_campaign(id, cs::completed));
    std::this_thread::sleep_for(100ms);
    const auto counts = per_destination(f.gateway().records());
    CHECK(counts.count(last_phone) == 0);
    CHECK(counts.count("15556660001") == 1);
    CHECK(counts.count("15556660002") == 1);
    CHECK(counts.size() == n + 1);
    for (const auto& [destination, n] : counts) {
        CAPTURE(destination);
        CHECK(n == 1);
    }
    const auto c = f.get(id);
    CHECK(c.completed == n + 1);
    CHECK(c.contact_done == n + 1);
    CHECK(c.contact_total == n + 1);
    CHECK(c.pending == 0);
}

// The runner keeps a bounded window of attempts begun ahead of the gateway: about a second of
// sending for a paced campaign, twice the providers' concurrency (at least 16) otherwise. What
// is begun shows as processing, and after a crash queued attempts are delivered at once, so a
// window that is too large sends a paced campaign's next contacts unpaced.
TEST_CASE("campaign: the first batch keeps to the run's window") {
    Fixture f;
    SUBCASE("paced: delay 200 ms begins about five ahead") {
        f.gateway().set_policy(deliver_all());
        f.provider("trunk");
        const auto id = f.campaign(f.group("forty", 40), 200);
        f.start(id);
        std::this_thread::sleep_for(300ms);
        const auto begun = f.transmissions_of(id).size();
        f.stop(id);
        CAPTURE(begun);
        CHECK(begun <= 10);
    }
    SUBCASE("unpaced through one slot: at most 16 begun") {
        f.provider("narrow", R"({"concurrency":1})");
        const auto id = f.campaign(f.group("forty", 40));
        f.start(id);
        REQUIRE(f.gateway().wait_deliveries(1));
        std::this_thread::sleep_for(200ms);
        const auto begun = f.transmissions_of(id).size();
        f.stop(id);
        f.finish_held();
        CAPTURE(begun);
        CHECK(begun <= 16);
    }
}

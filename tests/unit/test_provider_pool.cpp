// ProviderPool, the engine's provider choice, tested directly: weighted choice, weight-0
// standbys, providers already tried in an attempt, busy versus none, concurrency slots, slots
// of providers removed while deliveries were in flight, and parsing of `concurrency`.
#include "engine/provider_pool.hpp"

#include <ictcore/error.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace ictcore;
using engine::ProviderPool;

namespace {

// The pool only asks a gateway which services it carries; deliver() is never reached here.
class PoolGateway : public Gateway {
public:
    explicit PoolGateway(std::int64_t services) : services_(services) {}
    std::string_view type() const override { return "pooltest"; }
    std::int64_t gateway_flag() const override { return 64; }
    std::int64_t services() const override { return services_; }
    void deliver(const Delivery&, DeliveryCompletion done) override {
        done.finish(Outcome::failed("not used by the pool tests"));
    }

private:
    std::int64_t services_;
};

Provider provider(std::int64_t id, std::int64_t weight, std::optional<std::string> settings = std::nullopt,
                  std::int64_t services = service::sms, std::string type = "pooltest") {
    Provider p;
    p.provider_id = id;
    p.name = "p" + std::to_string(id);
    p.type = std::move(type);
    p.service_flag = services;
    p.username = "u";
    p.weight = weight;
    p.settings = std::move(settings);
    return p;
}

std::map<std::string, std::shared_ptr<Gateway>> gateways(std::int64_t services = service::sms | service::voice) {
    return {{"pooltest", std::make_shared<PoolGateway>(services)}};
}

std::int64_t chosen_id(const ProviderPool::Choice& c) {
    REQUIRE(c.pick == ProviderPool::Pick::chosen);
    REQUIRE(c.entry != nullptr);
    return c.entry->provider.provider_id;
}

}  // namespace

TEST_CASE("provider pool: weighted choice follows the weights") {
    ProviderPool pool;
    pool.reload({provider(1, 1), provider(2, 3)}, gateways());
    std::map<std::int64_t, int> picks;
    constexpr int n = 4000;
    for (int i = 0; i < n; ++i) ++picks[chosen_id(pool.choose(service::sms, {}))];
    // Expected 1000 / 3000; the standard deviation is ~27, so ±150 fails only on a real bias.
    CHECK(picks[1] > 850);
    CHECK(picks[1] < 1150);
    CHECK(picks[2] == n - picks[1]);
}

TEST_CASE("provider pool: a weight-0 standby is used only when no weighted provider is free") {
    ProviderPool pool;
    pool.reload({provider(1, 0), provider(2, 5, R"({"concurrency":1})")}, gateways());
    for (int i = 0; i < 200; ++i) CHECK(chosen_id(pool.choose(service::sms, {})) == 2);
    // Tried in this attempt: the standby takes over.
    CHECK(chosen_id(pool.choose(service::sms, {2})) == 1);
    // Full: the standby takes over too.
    pool.acquire(*pool.find(2));
    CHECK(chosen_id(pool.choose(service::sms, {})) == 1);
    pool.release(2);
    CHECK(chosen_id(pool.choose(service::sms, {})) == 2);
}

TEST_CASE("provider pool: tried providers are skipped; none when every one was tried") {
    ProviderPool pool;
    pool.reload({provider(1, 10), provider(2, 10), provider(3, 10)}, gateways());
    for (int i = 0; i < 100; ++i) CHECK(chosen_id(pool.choose(service::sms, {1, 3})) == 2);
    const auto c = pool.choose(service::sms, {1, 2, 3});
    CHECK(c.pick == ProviderPool::Pick::none);
    CHECK(c.entry == nullptr);
}

TEST_CASE("provider pool: busy when untried providers are all full, none when no provider serves") {
    ProviderPool pool;
    pool.reload({provider(1, 10, R"({"concurrency":2})"), provider(2, 10, R"({"concurrency":1})", service::voice)},
                gateways());
    // Two slots on provider 1.
    for (int i = 0; i < 2; ++i) {
        const auto c = pool.choose(service::sms, {});
        CHECK(chosen_id(c) == 1);
        pool.acquire(*c.entry);
    }
    CHECK(pool.find(1)->in_flight == 2);
    CHECK(pool.choose(service::sms, {}).pick == ProviderPool::Pick::busy);
    // Busy means "wait", but a provider already tried is not waited for.
    CHECK(pool.choose(service::sms, {1}).pick == ProviderPool::Pick::none);
    // Fax: no provider at all.
    CHECK(pool.choose(service::fax, {}).pick == ProviderPool::Pick::none);
    // The voice provider is untouched by the sms load.
    CHECK(chosen_id(pool.choose(service::voice, {})) == 2);

    pool.release(1);
    CHECK(pool.find(1)->in_flight == 1);
    CHECK(chosen_id(pool.choose(service::sms, {})) == 1);
    // Releasing more than was acquired never makes room beyond the limit.
    pool.release(1);
    pool.release(1);
    CHECK(pool.find(1)->in_flight == 0);
    pool.acquire(*pool.find(1));
    pool.acquire(*pool.find(1));
    CHECK(pool.choose(service::sms, {}).pick == ProviderPool::Pick::busy);
}

TEST_CASE("provider pool: unlimited concurrency never reports busy") {
    ProviderPool pool;
    pool.reload({provider(1, 10)}, gateways());
    for (int i = 0; i < 1000; ++i) {
        const auto c = pool.choose(service::sms, {});
        REQUIRE(c.pick == ProviderPool::Pick::chosen);
        pool.acquire(*c.entry);
    }
    CHECK(pool.find(1)->in_flight == 1000);
    CHECK(pool.find(1)->concurrency == 0);
}

TEST_CASE("provider pool: a pinned provider is the only candidate") {
    ProviderPool pool;
    pool.reload({provider(1, 10), provider(2, 10, R"({"concurrency":1})")}, gateways());
    for (int i = 0; i < 50; ++i) CHECK(chosen_id(pool.choose(service::sms, {}, 2)) == 2);
    pool.acquire(*pool.find(2));
    CHECK(pool.choose(service::sms, {}, 2).pick == ProviderPool::Pick::busy);
    CHECK(pool.choose(service::sms, {2}, 2).pick == ProviderPool::Pick::none);
    CHECK(pool.choose(service::sms, {}, 99).pick == ProviderPool::Pick::none);
}

TEST_CASE("provider pool: reload keeps in-flight counts and leaves out unusable providers") {
    ProviderPool pool;
    auto inactive = provider(3, 10);
    inactive.active = 0;
    auto no_gateway = provider(4, 10, std::nullopt, service::sms, "nosuchtype");
    auto bad_settings = provider(5, 10, R"({"concurrency":"two"})");
    pool.reload({provider(1, 10, R"({"concurrency":1})"), inactive, no_gateway, bad_settings}, gateways());
    CHECK(pool.find(1) != nullptr);
    CHECK(pool.find(3) == nullptr);
    CHECK(pool.find(4) == nullptr);
    CHECK(pool.find(5) == nullptr);
    CHECK(pool.serves(service::sms));
    CHECK_FALSE(pool.serves(service::voice));  // the gateway could, but no provider carries it

    pool.acquire(*pool.find(1));
    pool.reload({provider(1, 10, R"({"concurrency":1})"), provider(2, 10, std::nullopt, service::voice)}, gateways());
    REQUIRE(pool.find(1) != nullptr);
    CHECK(pool.find(1)->in_flight == 1);
    CHECK(pool.choose(service::sms, {}).pick == ProviderPool::Pick::busy);
    CHECK(pool.serves(service::voice));

    // A provider's services are limited to what its gateway carries.
    ProviderPool narrow;
    narrow.reload({provider(1, 10, std::nullopt, service::sms | service::email)}, gateways(service::sms));
    CHECK(narrow.serves(service::sms));
    CHECK_FALSE(narrow.serves(service::email));
    CHECK(narrow.choose(service::email, {}).pick == ProviderPool::Pick::none);
}

TEST_CASE("provider pool: the slot of a provider removed in flight is returned on release") {
    ProviderPool pool;
    const auto limited = provider(1, 10, R"({"concurrency":1})");
    pool.reload({limited}, gateways());
    pool.acquire(*pool.find(1));

    SUBCASE("released while removed: the provider comes back with a free slot") {
        pool.reload({}, gateways());
        CHECK(pool.find(1) == nullptr);
        CHECK(pool.choose(service::sms, {}).pick == ProviderPool::Pick::none);
        pool.release(1);
        pool.reload({limited}, gateways());
        REQUIRE(pool.find(1) != nullptr);
        CHECK(pool.find(1)->in_flight == 0);
        CHECK(chosen_id(pool.choose(service::sms, {})) == 1);
    }
    SUBCASE("still in flight: the provider comes back full") {
        pool.reload({}, gateways());
        pool.reload({}, gateways());  // the count survives more than one reload
        pool.reload({limited}, gateways());
        REQUIRE(pool.find(1) != nullptr);
        CHECK(pool.find(1)->in_flight == 1);
        CHECK(pool.choose(service::sms, {}).pick == ProviderPool::Pick::busy);
        pool.release(1);
        CHECK(chosen_id(pool.choose(service::sms, {})) == 1);
    }
    SUBCASE("releasing an unknown provider changes nothing") {
        pool.release(42);
        CHECK(pool.find(1)->in_flight == 1);
    }
}

TEST_CASE("provider pool: set_served overrides what serves() answers") {
    ProviderPool pool;
    CHECK_FALSE(pool.serves(service::sms));
    pool.set_served(service::sms | service::fax);
    CHECK(pool.serves(service::sms));
    CHECK(pool.serves(service::fax));
    CHECK_FALSE(pool.serves(service::voice));
}

TEST_CASE("provider pool: concurrency_of parses settings.concurrency") {
    auto with = [](std::optional<std::string> settings) { return provider(1, 10, std::move(settings)); };
    CHECK(ProviderPool::concurrency_of(with(std::nullopt)) == 0);
    CHECK(ProviderPool::concurrency_of(with("")) == 0);
    CHECK(ProviderPool::concurrency_of(with("{}")) == 0);
    CHECK(ProviderPool::concurrency_of(with(R"({"concurrency":null})")) == 0);
    CHECK(ProviderPool::concurrency_of(with(R"({"concurrency":0})")) == 0);
    CHECK(ProviderPool::concurrency_of(with(R"({"concurrency":3,"latency_ms":5})")) == 3);
    CHECK(ProviderPool::concurrency_of(with(R"({"concurrency":1000000})")) == 1000000);

    for (const char* bad :
         {R"([1,2])", R"("text")", R"({"concurrency":-1})", R"({"concurrency":"2"})", R"({"concurrency":1.5})",
          R"({"concurrency":1000001})", R"({"concurrency":true})", R"({"concurrency":{}})", "{concurrency: 2"}) {
        CAPTURE(bad);
        try {
            ProviderPool::concurrency_of(with(bad));
            FAIL("accepted malformed settings");
        } catch (const Error& e) {
            CHECK(e.code() == Errc::invalid);
        }
    }
}

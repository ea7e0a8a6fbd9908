// Delivery reports through a real Core: an attempt a gateway ends Outcome::accepted waits,
// durably, for the far end's report — which ends it, changes nothing when intermediate, is
// refused with a wrong token, is ignored once the attempt ended, still works after a restart,
// and is replaced by a failure when it never comes.
#include "test_gateway.hpp"

namespace ictcore::test {

namespace {

// TestGateway whose reports say {"final": delivered|failed|rejected|buffered}.
class ReportingGateway : public TestGateway {
public:
    explicit ReportingGateway(std::chrono::seconds timeout = std::chrono::hours(1))
        : TestGateway(false, [](const Delivery&) { return Decision::finish(Outcome::accepted("202 queued")); }),
          timeout_(timeout) {}
    std::chrono::seconds report_timeout(const Provider&) const override { return timeout_; }
    std::optional<Outcome> parse_report(const std::map<std::string, std::string>& p) const override {
        const auto it = p.find("final");
        if (it == p.end()) throw Error(Errc::invalid, "no final");
        if (it->second == "delivered") return Outcome::delivered("DELIVRD");
        if (it->second == "failed") return Outcome::failed("UNDELIV");
        if (it->second == "rejected") return Outcome::rejected("NACK/barred");
        if (it->second == "buffered") return std::nullopt;
        throw Error(Errc::invalid, "unknown final " + it->second);
    }

private:
    std::chrono::seconds timeout_;
};

struct ReportEnv : Env {
    explicit ReportEnv(std::chrono::seconds timeout = std::chrono::hours(1)) {
        reopen(std::make_shared<ReportingGateway>(timeout));
        core->set_public_url("http://127.0.0.1:9");
        provider("smsc");
    }
    DeliveryReports& reports() { return core->delivery_reports(); }
    DeliveryReports::Result report(std::int64_t spool_id, const std::string& final) {
        return reports().receive("test", spool_id, reports().token(spool_id), {{"final", final}});
    }
    // Sends a new transmission and waits until its attempt awaits the report.
    std::pair<std::int64_t, std::int64_t> accepted(std::int64_t try_allowed = 1) {
        const auto id = transmission(try_allowed);
        const auto spool_id = send(id);
        REQUIRE(wait_spool(spool_id, spool_status::connected));
        return {id, spool_id};
    }
};

}  // namespace

TEST_CASE("reports: an accepted attempt stays connected and processing until its report completes it") {
    ReportEnv env;
    const auto [id, spool_id] = env.accepted();
    const auto waiting = env.spool(spool_id);
    CHECK(waiting.response == "202 queued");
    CHECK(waiting.time_connect);
    CHECK_FALSE(waiting.time_end);
    CHECK(env.status(id) == "processing");

    // Each spool has its own token.
    CHECK(env.reports().token(spool_id) != env.reports().token(spool_id + 1));
    CHECK(env.reports().verify(spool_id, env.reports().token(spool_id)));
    CHECK_FALSE(env.reports().verify(spool_id, env.reports().token(spool_id + 1)));

    CHECK(env.report(spool_id, "buffered") == DeliveryReports::Result::intermediate);
    CHECK(env.status(id) == "processing");
    CHECK(env.spool(spool_id).status == "connected");

    CHECK(env.report(spool_id, "delivered") == DeliveryReports::Result::recorded);
    CHECK(env.status(id) == "completed");
    const auto done = env.spool(spool_id);
    CHECK(done.status == "completed");
    CHECK(done.response == "DELIVRD");
    CHECK(done.time_end);

    // A late or repeated report changes nothing.
    CHECK(env.report(spool_id, "failed") == DeliveryReports::Result::ignored);
    CHECK(env.status(id) == "completed");
    CHECK(env.spool(spool_id).status == "completed");
}

TEST_CASE("reports: the token is checked, unknown spools and other gateways are ignored, bad reports refused") {
    ReportEnv env;
    const auto [id, spool_id] = env.accepted();
    CHECK(code_of([&] {
              env.reports().receive("test", spool_id, "", {{"final", "delivered"}});
          }) == Errc::unauthenticated);
    CHECK(code_of([&] {
              env.reports().receive("test", spool_id, env.reports().token(spool_id + 1), {{"final", "delivered"}});
          }) == Errc::unauthenticated);
    CHECK(code_of([&] { env.reports().receive("test", spool_id, env.reports().token(spool_id), {}); }) ==
          Errc::invalid);
    CHECK(code_of([&] {
              env.reports().receive("nosuch", spool_id, env.reports().token(spool_id), {{"final", "delivered"}});
          }) == Errc::not_found);
    // The loopback gateway takes no reports.
    CHECK(code_of([&] {
              env.reports().receive("loopback", spool_id, env.reports().token(spool_id), {{"final", "delivered"}});
          }) == Errc::not_found);
    CHECK(env.report(spool_id + 1000, "delivered") == DeliveryReports::Result::ignored);
    CHECK(env.status(id) == "processing");
    CHECK(env.spool(spool_id).status == "connected");
}

TEST_CASE("reports: a failure report retries within try_allowed; a rejection fails at once") {
    ReportEnv env;
    const auto [retried, first_spool] = env.accepted(2);
    CHECK(env.report(first_spool, "failed") == DeliveryReports::Result::recorded);
    CHECK(env.spool(first_spool).status == "failed");
    CHECK(env.spool(first_spool).response == "UNDELIV");
    // retry_delay is 1 s: the retry is a new attempt, accepted in turn.
    REQUIRE(env.gateway->wait_deliveries(2, 5000ms));
    const auto second_spool = env.gateway->records().at(1).spool_id;
    CHECK(second_spool != first_spool);
    REQUIRE(env.wait_spool(second_spool, spool_status::connected));
    CHECK(env.report(second_spool, "delivered") == DeliveryReports::Result::recorded);
    CHECK(env.status(retried) == "completed");

    const auto [rejected, spool_id] = env.accepted(3);
    CHECK(env.report(spool_id, "rejected") == DeliveryReports::Result::recorded);
    CHECK(env.status(rejected) == "failed");
    CHECK(env.get(rejected).response == "NACK/barred");
}

TEST_CASE("reports: an attempt awaiting its report survives a restart and the report still ends it") {
    ReportEnv env;
    const auto [id, spool_id] = env.accepted();
    env.reopen(std::make_shared<ReportingGateway>());
    // Not failed as interrupted, not delivered again: it still waits.
    std::this_thread::sleep_for(200ms);
    CHECK(env.spool(spool_id).status == "connected");
    CHECK(env.status(id) == "processing");
    CHECK(env.gateway->count() == 0);
    CHECK(env.report(spool_id, "delivered") == DeliveryReports::Result::recorded);
    CHECK(env.status(id) == "completed");
}

TEST_CASE("reports: a report that never comes fails the attempt at the gateway's deadline, without a retry") {
    ReportEnv env(std::chrono::seconds(1));
    const auto [id, spool_id] = env.accepted(3);
    CHECK(env.status(id) == "processing");
    REQUIRE(env.wait_status(id, "failed", 5000ms));
    CHECK(contains(env.spool(spool_id).response, "no delivery report"));
    CHECK(env.gateway->count() == 1);
    CHECK(env.report(spool_id, "delivered") == DeliveryReports::Result::ignored);

    // The deadline holds across a restart too.
    const auto [later, later_spool] = env.accepted(1);
    env.reopen(std::make_shared<ReportingGateway>(std::chrono::seconds(1)));
    REQUIRE(env.wait_status(later, "failed", 5000ms));
    CHECK(contains(env.spool(later_spool).response, "no delivery report"));
}

TEST_CASE("reports: without a public URL the gateway is given no report URL") {
    Env env;
    std::string seen = "unset";
    auto gateway = std::make_shared<TestGateway>(false, [&seen](const Delivery& d) {
        seen = d.report_url;
        return TestGateway::Decision::finish(Outcome::delivered("ok"));
    });
    env.reopen(gateway);
    env.provider("plain");
    const auto id = env.transmission();
    env.send(id);
    REQUIRE(env.wait_status(id, "completed"));
    CHECK(seen.empty());

    env.core->set_public_url("https://ictcore.example.com/");
    const auto second = env.transmission(1, "15550002");
    const auto spool_id = env.send(second);
    REQUIRE(env.wait_status(second, "completed"));
    CHECK(seen == "https://ictcore.example.com/gateways/test/report?spool=" + std::to_string(spool_id) +
                      "&token=" + env.core->delivery_reports().token(spool_id));
}

}  // namespace ictcore::test

namespace ictcore::test {

TEST_CASE("reports: a report that arrives before the provider's acceptance is recorded still ends the attempt") {
    ReportEnv env;
    // The gateway holds its answer: the far end reports while the spool is still `started`.
    env.gateway->set_policy([](const Delivery&) { return TestGateway::Decision::hold(); });
    const auto id = env.transmission();
    const auto spool_id = env.send(id);
    REQUIRE(env.gateway->wait_deliveries(1));
    REQUIRE(env.wait_spool(spool_id, spool_status::started));
    CHECK(env.report(spool_id, "buffered") == DeliveryReports::Result::intermediate);
    CHECK(env.report(spool_id, "delivered") == DeliveryReports::Result::recorded);
    CHECK(env.status(id) == "completed");
    const auto reported = env.spool(spool_id);
    CHECK(reported.status == "completed");
    CHECK(reported.time_connect);
    CHECK(reported.response == "DELIVRD");

    // The acceptance arrives late and changes nothing; nothing is left open.
    env.gateway->finish(spool_id, Outcome::accepted("202 late"));
    std::this_thread::sleep_for(300ms);
    CHECK(env.spool(spool_id).status == "completed");
    CHECK(env.spool(spool_id).response == "DELIVRD");
    CHECK(env.status(id) == "completed");
    CHECK(env.report(spool_id, "failed") == DeliveryReports::Result::ignored);
    // A gateway that answers an error after the report cannot undo it either.
    const auto second = env.transmission(1, "15550003");
    const auto second_spool = env.send(second);
    REQUIRE(env.gateway->wait_deliveries(2));
    REQUIRE(env.wait_spool(second_spool, spool_status::started));
    CHECK(env.report(second_spool, "delivered") == DeliveryReports::Result::recorded);
    env.gateway->finish(second_spool, Outcome::failed("timed out"));
    std::this_thread::sleep_for(300ms);
    CHECK(env.status(second) == "completed");
    CHECK(env.spool(second_spool).response == "DELIVRD");
}

}  // namespace ictcore::test

// TestGateway and Env, shared by the engine and campaign unit tests: a gateway of type "test"
// that records what reaches it and lets each test decide (or hold back) the outcome of every
// delivery, and a Core on a data directory that outlives it, so a test can stop and reopen it.
#pragma once

#include "temp_dir.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace ictcore::test {

using namespace std::chrono_literals;

// Polls `pred` until it holds or `timeout` passes; the engine works on its own thread.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(5ms);
    }
    return pred();
}

inline Errc code_of(const std::function<void()>& f, std::string* message = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (message) *message = e.what();
        return e.code();
    }
    FAIL("expected an ictcore::Error");
    return Errc::internal;
}

inline bool contains(const std::optional<std::string>& text, std::string_view part) {
    return text && text->find(part) != std::string::npos;
}

// A gateway of type "test" (SMS, voice and e-mail) whose behaviour the test chooses per delivery.
class TestGateway : public Gateway {
public:
    struct Decision {
        enum class Kind { hold, finish, drop } kind = Kind::hold;
        Outcome outcome;
        static Decision hold() { return {}; }
        static Decision finish(Outcome o) { return {Kind::finish, std::move(o)}; }
        static Decision drop() { return {Kind::drop, {}}; }
    };
    // Called for every delivery; may throw, which makes deliver() throw.
    using Policy = std::function<Decision(const Delivery&)>;

    struct Record {
        std::int64_t spool_id = 0;
        std::int64_t transmission_id = 0;
        std::int64_t provider_id = 0;
        std::int64_t try_done = 0;
        std::string destination;
        std::string text;
    };

    explicit TestGateway(bool redelivery_safe = false, Policy policy = {})
        : redelivery_safe_(redelivery_safe), policy_(std::move(policy)) {}

    std::string_view type() const override { return "test"; }
    std::int64_t gateway_flag() const override { return 64; }
    std::int64_t services() const override { return service::sms | service::voice | service::email; }
    bool redelivery_safe(const Provider&) const override { return redelivery_safe_; }

    void deliver(const Delivery& d, DeliveryCompletion done) override {
        Policy policy;
        {
            std::lock_guard lock(mutex_);
            policy = policy_;
        }
        // A delivery is recorded together with its held completion, so a test that saw the
        // record can take the completion at once; a throwing policy is recorded too.
        Decision decision;
        try {
            decision = policy ? policy(d) : Decision::hold();
        } catch (...) {
            record(d, nullptr);
            throw;
        }
        switch (decision.kind) {
            case Decision::Kind::hold:
                record(d, &done);
                break;
            case Decision::Kind::finish:
                record(d, nullptr);
                done.finish(decision.outcome);
                break;
            case Decision::Kind::drop:
                record(d, nullptr);
                break;  // `done` goes out of scope unfinished
        }
    }

    void set_policy(Policy p) {
        std::lock_guard lock(mutex_);
        policy_ = std::move(p);
    }
    bool wait_deliveries(std::size_t n, std::chrono::milliseconds timeout = 5000ms) {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, timeout, [&] { return records_.size() >= n; });
    }
    std::vector<Record> records() const {
        std::lock_guard lock(mutex_);
        return records_;
    }
    std::size_t count() const {
        std::lock_guard lock(mutex_);
        return records_.size();
    }
    std::size_t max_held() const {
        std::lock_guard lock(mutex_);
        return max_held_;
    }
    std::vector<std::int64_t> held_ids() const {
        std::lock_guard lock(mutex_);
        std::vector<std::int64_t> ids;
        for (const auto& [id, c] : held_) ids.push_back(id);
        return ids;
    }
    // Removes a held completion and hands it to the test.
    DeliveryCompletion take(std::int64_t spool_id) {
        std::lock_guard lock(mutex_);
        auto it = held_.find(spool_id);
        if (it == held_.end()) throw std::runtime_error("spool " + std::to_string(spool_id) + " is not held");
        DeliveryCompletion c = it->second;
        held_.erase(it);
        return c;
    }
    void finish(std::int64_t spool_id, Outcome o) { take(spool_id).finish(std::move(o)); }

private:
    void record(const Delivery& d, const DeliveryCompletion* hold) {
        {
            std::lock_guard lock(mutex_);
            records_.push_back({d.spool_id, d.transmission.transmission_id, d.provider.provider_id,
                                d.transmission.try_done, d.destination, d.text ? d.text->data : std::string()});
            if (hold) {
                held_.emplace(d.spool_id, *hold);
                max_held_ = std::max(max_held_, held_.size());
            }
        }
        cv_.notify_all();
    }

    const bool redelivery_safe_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    Policy policy_;
    std::vector<Record> records_;
    std::map<std::int64_t, DeliveryCompletion> held_;
    std::size_t max_held_ = 0;
};

using Decision = TestGateway::Decision;

// Fails the first attempt of every transmission with `response`; delivers later ones.
inline TestGateway::Policy fail_first(std::string response) {
    return [response](const Delivery& d) {
        return d.transmission.try_done == 1 ? Decision::finish(Outcome::failed(response))
                                            : Decision::finish(Outcome::delivered("ok"));
    };
}

inline TestGateway::Policy deliver_all() {
    return [](const Delivery&) { return Decision::finish(Outcome::delivered("ok")); };
}

// A Core on a data directory that outlives it, so a test can stop and reopen it.
struct Env {
    test::TempDir dir;
    std::shared_ptr<TestGateway> gateway = std::make_shared<TestGateway>();
    std::chrono::seconds retry_delay{1};
    // Closing leaves held deliveries unfinished unless a test asks the Core to wait for them.
    std::chrono::milliseconds drain{0};
    std::unique_ptr<Core> core;
    Principal admin;
    std::optional<std::int64_t> program_id;

    Env() { open(); }

    Options options() const {
        Options o;
        o.data_dir = dir.path() / "data";
        o.admin_password = "admin-password";
        o.password_cost = PasswordCost::minimal;
        o.retry_delay = retry_delay;
        o.drain_timeout = drain;
        o.seed_loopback_providers = false;
        o.gateways = {gateway};
        return o;
    }
    void open() {
        core = std::make_unique<Core>(options());
        admin = core->auth().from_password("admin", "admin-password");
    }
    // Stops the Core; deliveries the gateway still holds are left unfinished.
    void close() { core.reset(); }
    void reopen(std::shared_ptr<TestGateway> g) {
        close();
        gateway = std::move(g);
        open();
    }
    std::filesystem::path db_path() const { return dir.path() / "data" / "ictcore.db"; }

    std::int64_t provider(const std::string& name, std::optional<std::string> settings = std::nullopt,
                          std::int64_t weight = 10, std::optional<std::string> prefix = std::nullopt) {
        Provider p;
        p.name = name;
        p.type = "test";
        p.service_flag = service::sms;
        p.username = "trunk";
        p.settings = std::move(settings);
        p.weight = weight;
        p.prefix = std::move(prefix);
        return core->providers().create(admin, p);
    }
    std::int64_t program() {
        if (!program_id) {
            Text text;
            text.name = "greeting";
            text.data = "hello from the engine test";
            Program p;
            p.name = "greeting program";
            p.text_id = core->texts().create(admin, text);
            program_id = core->programs().create(admin, "sendsms", p);
        }
        return *program_id;
    }
    std::int64_t contact(const std::string& phone) {
        Contact c;
        c.first_name = "Test";
        c.phone = phone;
        return core->contacts().create(admin, c);
    }
    std::int64_t transmission(std::int64_t try_allowed = 1, const std::string& phone = "15550001") {
        Transmission t;
        t.contact_id = contact(phone);
        t.program_id = program();
        t.try_allowed = try_allowed;
        return core->transmissions().create(admin, t);
    }
    Transmissions& tx() { return core->transmissions(); }
    std::int64_t send(std::int64_t id) { return tx().send(admin, id); }
    Transmission get(std::int64_t id) { return tx().get(admin, id); }
    std::string status(std::int64_t id) { return tx().status(admin, id); }
    Spool spool(std::int64_t spool_id) { return tx().spool(admin, spool_id); }
    bool wait_status(std::int64_t id, std::string_view want, std::chrono::milliseconds timeout = 5000ms) {
        const bool ok = eventually([&] { return status(id) == want; }, timeout);
        if (!ok) MESSAGE("transmission " << id << " is " << status(id) << ", expected " << want);
        return ok;
    }
    bool wait_spool(std::int64_t spool_id, std::string_view want, std::chrono::milliseconds timeout = 5000ms) {
        return eventually([&] { return spool(spool_id).status == want; }, timeout);
    }
};

}  // namespace ictcore::test

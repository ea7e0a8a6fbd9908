// The delivery engine (see engine.hpp). All engine state lives on one strand; the store's
// writer thread and gateways only post back to it.
#include "engine/engine_impl.hpp"
#include "store/campaign_queries.hpp"

namespace ictcore {

DeliveryCompletion::DeliveryCompletion(std::shared_ptr<State> state) : state_(std::move(state)) {}

void DeliveryCompletion::connected() const {
    if (state_->done.load()) return;
    auto engine = state_->engine.lock();
    if (!engine) return;
    const auto spool_id = state_->attempt->delivery.spool_id;
    const auto now = engine::unix_now();
    try {
        engine->state.store->write_async(
            [spool_id, now](store::Connection& c) { store::mark_spool_connected(c, spool_id, now); },
            [](std::exception_ptr) {});
    } catch (const std::exception& e) {
        spdlog::warn("spool {}: cannot record the connection: {}", spool_id, e.what());
    }
}

void DeliveryCompletion::finish(Outcome outcome) const {
    if (state_->done.exchange(true)) {
        spdlog::warn("spool {}: the gateway reported an outcome twice; the first one stands",
                     state_->attempt->delivery.spool_id);
        return;
    }
    auto engine = state_->engine.lock();
    if (!engine) return;
    engine->on_strand([attempt = state_->attempt, provider_id = state_->provider_id,
                       outcome = std::move(outcome)](engine::Engine::Impl& self) mutable {
        self.on_outcome(attempt, provider_id, std::move(outcome));
    });
}

bool DeliveryCompletion::finished() const { return state_->done.load(); }

DeliveryCompletion::State::~State() {
    if (done.load()) return;
    auto e = engine.lock();
    if (!e) return;
    e->on_strand([attempt = attempt, provider_id = provider_id](engine::Engine::Impl& self) {
        self.on_outcome(attempt, provider_id, Outcome::failed("the gateway dropped the delivery"));
    });
}

}  // namespace ictcore

namespace ictcore::engine {

Engine::Engine(detail::CoreState& state) : impl_(std::make_shared<Impl>(state)) {}

Engine::~Engine() {
    // Campaigns begin no more attempts: what they began but did not send stays queued in the
    // store and goes out on the next start.
    impl_->stopping = true;
    // Let deliveries in flight finish and their outcomes be committed, within a bound: an
    // outcome lost here would make a gateway that cannot deduplicate fail it as interrupted.
    const auto deadline = std::chrono::steady_clock::now() + impl_->state.options.drain_timeout;
    while (impl_->open_attempts.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (const int left = impl_->open_attempts.load(); left > 0) {
        spdlog::warn("engine: stopping with {} deliveries unfinished; they are recovered on the next start", left);
    }
    impl_->work.reset();
    if (impl_->own_io) {
        impl_->own_io->stop();
        if (impl_->thread.joinable()) impl_->thread.join();
    }
    // Let the writer finish every job queued so far (they reference the media store, which
    // goes before the store does); their completions find the engine stopped.
    try {
        impl_->state.store->write([](store::Connection&) {});
    } catch (const std::exception& e) {
        spdlog::warn("engine: final flush failed: {}", e.what());
    }
}

void Engine::register_gateway(std::shared_ptr<Gateway> gateway) {
    if (!gateway) throw Error(Errc::invalid, "no gateway given");
    gateway->attach(impl_->io);
    {
        std::lock_guard lock(impl_->gateways_mutex);
        impl_->gateways[std::string(gateway->type())] = std::move(gateway);
    }
    providers_changed();
}

std::shared_ptr<Gateway> Engine::gateway(std::string_view type) const { return impl_->gateway_of(type); }

std::vector<std::string> Engine::gateway_types() const {
    std::vector<std::string> types;
    for (const auto& [type, g] : impl_->gateways_copy()) types.push_back(type);
    return types;
}

void Engine::start() {
    auto& self = *impl_;
    // Recovery reads on this thread, then hands everything to the strand in order.
    auto recovered = self.recover();
    auto retries = self.state.store->read([](store::Connection& c) { return store::pending_retries(c); });
    auto schedules = self.state.store->read([](store::Connection& c) { return store::all_schedules(c); });
    // Running campaigns resume by themselves; attempts of the others are held back.
    auto campaigns = self.state.store->read([](store::Connection& c) { return store::running_campaigns(c); });
    for (const auto id : campaigns) set_campaign_running(id, true);
    self.on_strand([recovered = std::move(recovered), retries = std::move(retries), schedules = std::move(schedules),
                    campaigns = std::move(campaigns)](Impl& impl) mutable {
        impl.reload_providers(impl.read_providers());
        for (auto& [a, ending] : recovered.ended) impl.finish(a, std::move(ending));
        for (const auto& a : recovered.resume) impl.dispatch(a);
        for (const auto& [id, when] : retries) impl.timeline.emplace(when, Impl::Due{Impl::Due::Kind::retry, id});
        // A schedule missed while the server was down fires once now (its due time is past).
        for (const auto& row : schedules) {
            impl.timeline.emplace(row.next_run, Impl::Due{Impl::Due::Kind::schedule, row.schedule_id});
        }
        if (recovered.first_report_due) impl.arm_report_sweep(*recovered.first_report_due);
        impl.tick();
        for (const auto id : campaigns) impl.run_campaign(id);
    });
    if (self.own_io) {
        self.thread = std::thread([&io = *self.own_io] {
            for (;;) {
                try {
                    io.run();
                    return;
                } catch (const std::exception& e) {
                    spdlog::error("engine: unexpected error: {}", e.what());
                }
            }
        });
    }
}

void Engine::submit(Attempt attempt) {
    impl_->on_strand([a = std::make_shared<Attempt>(std::move(attempt))](Impl& self) { self.dispatch(a); });
}

void Engine::providers_changed() {
    // serves() answers at once, so a send right after a provider change sees the change. The
    // strand rereads when it gets to it: of two changes racing, the later rows win there.
    impl_->pool.set_served(ProviderPool::services_of(impl_->read_providers(), impl_->gateways_copy()));
    impl_->on_strand([](Impl& self) { self.reload_providers(self.read_providers()); });
}

bool Engine::serves(std::int64_t service) const { return impl_->pool.serves(service); }

void Engine::arm_schedule(std::int64_t schedule_id, std::int64_t when) {
    impl_->on_strand([schedule_id, when](Impl& self) {
        self.add_due(when, Impl::Due{Impl::Due::Kind::schedule, schedule_id});
    });
}

}  // namespace ictcore::engine

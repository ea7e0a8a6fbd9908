// The delivery engine (see engine.hpp). All engine state lives on one strand; the store's
// writer thread and gateways only post back to it.
#include "engine/engine.hpp"

#include "core_state.hpp"
#include "engine/provider_pool.hpp"
#include "store/delivery_queries.hpp"
#include "store/table.hpp"

#include <ictcore/error.hpp>
#include <ictcore/schedule_spec.hpp>
#include <ictcore/service_flag.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_timer.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace asio = boost::asio;

namespace ictcore {

struct DeliveryCompletion::State {
    std::weak_ptr<engine::Engine::Impl> engine;
    std::shared_ptr<engine::Attempt> attempt;
    std::int64_t provider_id = 0;
    std::atomic<bool> done{false};
    ~State();
};

}  // namespace ictcore

namespace ictcore::engine {

struct Engine::Impl : std::enable_shared_from_this<Engine::Impl> {
    explicit Impl(detail::CoreState& s)
        : state(s),
          own_io(s.options.io_context ? nullptr : std::make_unique<asio::io_context>(1)),
          io(s.options.io_context ? *s.options.io_context : *own_io),
          strand(asio::make_strand(io)),
          timer(strand),
          work(asio::make_work_guard(io)) {}

    detail::CoreState& state;
    std::unique_ptr<asio::io_context> own_io;
    asio::io_context& io;
    asio::strand<asio::io_context::executor_type> strand;
    asio::system_timer timer;
    asio::executor_work_guard<asio::io_context::executor_type> work;
    std::thread thread;

    mutable std::mutex gateways_mutex;
    std::map<std::string, std::shared_ptr<Gateway>> gateways;

    ProviderPool pool;                                                     // strand only
    std::map<std::int64_t, std::deque<std::shared_ptr<Attempt>>> waiting;  // by service; strand only

    // Timed events: automatic retries and schedules, by due time (Unix seconds). Strand only.
    struct Due {
        enum class Kind { retry, schedule } kind;
        std::int64_t id;
    };
    std::multimap<std::int64_t, Due> timeline;
    std::optional<std::int64_t> armed_for;

    std::int64_t retry_delay() const { return state.options.retry_delay.count(); }

    template <class F>
    void on_strand(F&& f) {
        asio::post(strand, [weak = weak_from_this(), f = std::forward<F>(f)]() mutable {
            if (auto self = weak.lock()) f(*self);
        });
    }

    // The engine's writes, coalesced: while one store job is being committed, the next steps
    // queue up here and go to the store together as one job, so the writer pays its per-job
    // costs once per batch rather than once per spool. Each step still runs in a savepoint of
    // its own, so one failing step does not undo its neighbours. Strand only.
    struct PendingWrite {
        std::function<void(store::Connection&)> job;
        std::function<void(Impl&, std::exception_ptr)> then;
    };
    std::vector<PendingWrite> pending_writes;
    bool write_in_flight = false;
    // Attempts dispatched whose outcome is not yet committed; a stop waits for them to settle.
    std::atomic<int> open_attempts{0};

    // A write whose completion continues on the strand.
    template <class Job, class Then>
    void write_then(Job&& job, Then&& then) {
        pending_writes.push_back({std::forward<Job>(job), std::forward<Then>(then)});
        if (!write_in_flight) flush_writes();
    }

    void flush_writes() {
        if (pending_writes.empty()) return;
        auto batch = std::make_shared<std::vector<PendingWrite>>(std::move(pending_writes));
        pending_writes.clear();
        auto errors = std::make_shared<std::vector<std::exception_ptr>>(batch->size());
        write_in_flight = true;
        auto run = [batch, errors](store::Connection& c) {
            auto step = [&c](const char* sql) { c.cached(sql).exec(); };
            for (std::size_t i = 0; i < batch->size(); ++i) {
                step("SAVEPOINT engine_step");
                try {
                    (*batch)[i].job(c);
                    step("RELEASE engine_step");
                } catch (...) {
                    (*errors)[i] = std::current_exception();
                    step("ROLLBACK TO engine_step");
                    step("RELEASE engine_step");
                }
            }
        };
        auto done = [weak = weak_from_this(), batch, errors](std::exception_ptr error) {
            auto self = weak.lock();
            if (!self) return;
            asio::post(self->strand, [weak, batch, errors, error] {
                auto s = weak.lock();
                if (!s) return;
                s->write_in_flight = false;
                for (std::size_t i = 0; i < batch->size(); ++i) (*batch)[i].then(*s, error ? error : (*errors)[i]);
                s->flush_writes();
            });
        };
        try {
            state.store->write_async(std::move(run), std::move(done));
        } catch (const std::exception& e) {
            write_in_flight = false;
            spdlog::error("engine: cannot queue a write: {}", e.what());
        }
    }

    static std::string describe(std::exception_ptr error) {
        try {
            std::rethrow_exception(error);
        } catch (const std::exception& e) {
            return e.what();
        } catch (...) {
            return "unknown error";
        }
    }

    // ---- providers -------------------------------------------------------------------

    std::vector<Provider> read_providers() const {
        return state.store->read([](store::Connection& c) { return store::all_providers(c); });
    }

    void reload_providers(const std::vector<Provider>& providers) {
        pool.reload(providers, gateways_copy());
        // Waiting attempts may have a provider now, or none at all any more.
        auto queues = std::move(waiting);
        waiting.clear();
        for (auto& [service, queue] : queues) {
            for (auto& a : queue) dispatch(a);
        }
    }

    // ---- delivering ----------------------------------------------------------------

    void dispatch(std::shared_ptr<Attempt> a, bool front = false) {
        if (!a->counted) {
            a->counted = true;
            ++open_attempts;
        }
        const auto service = a->delivery.transmission.service_flag;
        const auto choice = pool.choose(service, a->tried, a->pinned_provider);
        if (choice.pick == ProviderPool::Pick::busy) {
            auto& queue = waiting[service];
            if (front)
                queue.push_front(std::move(a));
            else
                queue.push_back(std::move(a));
            return;
        }
        if (choice.pick == ProviderPool::Pick::none) {
            std::string why = a->last_error;
            if (why.empty()) {
                why = a->pinned_provider ? fmt::format("interrupted by a restart; provider {} is no longer available",
                                                       *a->pinned_provider)
                                         : fmt::format("no active provider serves {}", service::name(service));
            }
            Ending ending;
            ending.response = std::move(why);
            finish(a, std::move(ending));
            return;
        }
        ProviderPool::Entry& entry = *choice.entry;
        pool.acquire(entry);
        a->tried.push_back(entry.provider.provider_id);
        a->delivery.provider = entry.provider;
        if (service != service::email) {
            a->delivery.destination = entry.provider.prefix.value_or("") + a->delivery.contact.phone;
        }
        auto gateway = entry.gateway;
        const auto provider_id = entry.provider.provider_id;
        const auto spool_id = a->delivery.spool_id;
        const auto now = unix_now();
        write_then([spool_id, provider_id,
                    now](store::Connection& c) { store::mark_spool_started(c, spool_id, provider_id, now); },
                   [a, gateway, provider_id](Impl& self, std::exception_ptr error) {
                       if (error) {
                           self.pool.release(provider_id);
                           self.wake(provider_id);
                           Ending ending;
                           ending.response = "not delivered: " + describe(error);
                           self.finish(a, std::move(ending));
                           return;
                       }
                       self.call_gateway(a, gateway, provider_id);
                   });
    }

    void call_gateway(const std::shared_ptr<Attempt>& a, const std::shared_ptr<Gateway>& gateway,
                      std::int64_t provider_id) {
        auto st = std::make_shared<DeliveryCompletion::State>();
        st->engine = weak_from_this();
        st->attempt = a;
        st->provider_id = provider_id;
        DeliveryCompletion done(st);
        st.reset();
        try {
            gateway->deliver(a->delivery, done);
        } catch (const std::exception& e) {
            done.finish(Outcome::provider_error(fmt::format("gateway {} failed: {}", gateway->type(), e.what())));
        }
    }

    void on_outcome(const std::shared_ptr<Attempt>& a, std::int64_t provider_id, Outcome outcome) {
        pool.release(provider_id);
        wake(provider_id);
        if (outcome.kind == Outcome::Kind::provider_error && !a->pinned_provider) {
            a->last_error = fmt::format("provider {}: {}", provider_id, outcome.response);
            dispatch(a);  // the next provider, within the same attempt
            return;
        }
        Ending ending;
        ending.delivered = outcome.kind == Outcome::Kind::delivered;
        ending.response = std::move(outcome.response);
        ending.results = std::move(outcome.results);
        ending.provider_id = provider_id;
        finish(a, std::move(ending));
    }

    void finish(const std::shared_ptr<Attempt>& a, Ending ending) {
        const auto now = unix_now();
        const auto delay = retry_delay();
        auto next_run = std::make_shared<std::optional<std::int64_t>>();
        write_then([a, ending = std::move(ending), now, delay,
                    next_run](store::Connection& c) { *next_run = end_attempt(c, a->delivery, ending, now, delay); },
                   [a, next_run](Impl& self, std::exception_ptr error) {
                       if (a->counted) --self.open_attempts;
                       if (error) {
                           spdlog::error("engine: recording the outcome of spool {} failed: {}", a->delivery.spool_id,
                                         describe(error));
                           return;
                       }
                       if (*next_run)
                           self.add_due(**next_run, {Due::Kind::retry, a->delivery.transmission.transmission_id});
                   });
    }

    // A provider's slot came free: let waiting attempts of its services go.
    void wake(std::int64_t provider_id) {
        const auto* entry = pool.find(provider_id);
        if (!entry) return;
        const auto services = entry->provider.service_flag;
        for (auto& [service, queue] : waiting) {
            if ((service & services) == 0) continue;
            while (!queue.empty()) {
                auto a = std::move(queue.front());
                queue.pop_front();
                const auto before = queue.size();
                dispatch(a, true);
                if (queue.size() > before) break;  // went back to wait: no slot left
            }
        }
    }

    // ---- timeline --------------------------------------------------------------------

    void add_due(std::int64_t when, Due due) {
        timeline.emplace(when, due);
        rearm();
    }

    void rearm() {
        if (timeline.empty()) {
            armed_for.reset();
            timer.cancel();
            return;
        }
        const auto first = timeline.begin()->first;
        if (armed_for && *armed_for == first) return;
        armed_for = first;
        timer.expires_at(std::chrono::system_clock::time_point(std::chrono::seconds(first)));
        timer.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
            if (ec) return;  // re-armed or stopping
            if (auto self = weak.lock()) self->tick();
        });
    }

    void tick() {
        armed_for.reset();
        const auto now = unix_now();
        while (!timeline.empty() && timeline.begin()->first <= now) {
            const auto [when, due] = *timeline.begin();
            timeline.erase(timeline.begin());
            if (due.kind == Due::Kind::retry)
                fire_retry(due.id, when);
            else
                fire_schedule(due.id, when);
        }
        rearm();
    }

    // Begins an attempt inside a write job; a transmission that can no longer be delivered
    // becomes invalid instead.
    static std::shared_ptr<Attempt> try_begin(store::Connection& c, const media::MediaStore& media,
                                              const Transmission& t, std::int64_t now) {
        try {
            return std::make_shared<Attempt>(begin_attempt(c, media, t, now));
        } catch (const Error& e) {
            if (e.code() != Errc::invalid) throw;
            store::set_transmission_outcome(c, t.transmission_id, transmission_status::invalid, e.what(), std::nullopt);
            spdlog::info("transmission {} is invalid: {}", t.transmission_id, e.what());
            return nullptr;
        }
    }

    void fire_retry(std::int64_t transmission_id, std::int64_t when) {
        auto begun = std::make_shared<std::shared_ptr<Attempt>>();
        const auto now = unix_now();
        write_then(
            [&media = state.media, transmission_id, when, now, begun](store::Connection& c) {
                auto t = store::Table<Transmission>::find(c, transmission_id, store::Scope{});
                if (!t || t->status != transmission_status::pending_retry || t->next_run != when) return;
                *begun = try_begin(c, media, *t, now);
            },
            [begun](Impl& self, std::exception_ptr error) {
                if (error) {
                    spdlog::error("engine: automatic retry failed: {}", describe(error));
                    return;
                }
                if (*begun) self.dispatch(*begun);
            });
    }

    void fire_schedule(std::int64_t schedule_id, std::int64_t when) {
        struct Fired {
            std::shared_ptr<Attempt> attempt;
            std::optional<std::int64_t> next;
        };
        auto fired = std::make_shared<Fired>();
        const auto now = unix_now();
        write_then(
            [&media = state.media, schedule_id, when, now, fired](store::Connection& c) {
                auto row = store::find_schedule(c, schedule_id);
                if (!row || row->next_run != when) return;
                const auto spec = store::spec_of(*row);
                fired->next = spec.recurring() ? next_fire(spec, now) : std::nullopt;
                if (fired->next)
                    store::set_schedule_next_run(c, schedule_id, *fired->next);
                else
                    store::delete_schedule(c, schedule_id);
                if (row->action != "send" || !row->transmission_id) return;
                auto t = store::Table<Transmission>::find(c, *row->transmission_id, store::Scope{});
                if (!t) return;
                if (t->status == transmission_status::completed && spec.recurring()) {
                    // A recurring delivery sends a fresh copy each time once the first is done.
                    t->transmission_id = clone_transmission(c, *t, now);
                    t = store::Table<Transmission>::find(c, t->transmission_id, store::Scope{});
                } else if (t->status == transmission_status::processing || t->status == transmission_status::invalid ||
                           t->status == transmission_status::completed) {
                    spdlog::info("schedule {}: transmission {} is {}; nothing to send", schedule_id, t->transmission_id,
                                 t->status);
                    return;
                }
                fired->attempt = try_begin(c, media, *t, now);
            },
            [fired, schedule_id](Impl& self, std::exception_ptr error) {
                if (error) {
                    spdlog::error("engine: schedule {} failed: {}", schedule_id, describe(error));
                    return;
                }
                if (fired->next) self.add_due(*fired->next, {Due::Kind::schedule, schedule_id});
                if (fired->attempt) self.dispatch(fired->attempt);
            });
    }

    // ---- recovery --------------------------------------------------------------------

    // Attempts a previous run left open: queued ones are delivered now; started ones again
    // through the same provider when its gateway deduplicates, else they fail as interrupted
    // rather than risk reaching the contact twice.
    struct Recovered {
        std::vector<std::shared_ptr<Attempt>> resume;
        std::vector<std::pair<std::shared_ptr<Attempt>, Ending>> ended;
    };
    Recovered recover() {
        Recovered out;
        auto& resume = out.resume;
        auto& ended = out.ended;
        state.store->read([&](store::Connection& c) {
            for (const auto& open : store::open_spools(c)) {
                auto t = store::Table<Transmission>::find(c, open.transmission_id, store::Scope{});
                if (!t) continue;
                auto a = std::make_shared<Attempt>();
                a->delivery.transmission = *t;
                a->delivery.spool_id = open.spool_id;
                try {
                    a->delivery = load_delivery(c, state.media, *t);
                    a->delivery.spool_id = open.spool_id;
                } catch (const Error& e) {
                    ended.push_back({a, Ending{false, e.what(), {}, open.provider_id, false, true}});
                    continue;
                }
                if (open.status == spool_status::queued) {
                    resume.push_back(a);
                    continue;
                }
                std::shared_ptr<Gateway> g;
                if (open.provider_id) {
                    if (auto p = store::Table<Provider>::find(c, *open.provider_id, store::Scope{})) {
                        g = gateway_of(p->type);
                        if (g && g->redelivery_safe(*p)) {
                            a->pinned_provider = open.provider_id;
                            resume.push_back(a);
                            continue;
                        }
                    }
                }
                ended.push_back({a, Ending{false,
                                           "interrupted: the server stopped during the delivery; not repeated "
                                           "automatically, as the contact may have received it",
                                           {},
                                           open.provider_id,
                                           false,
                                           false}});
            }
            return 0;
        });
        return out;
    }

    std::shared_ptr<Gateway> gateway_of(std::string_view type) const {
        std::lock_guard lock(gateways_mutex);
        auto it = gateways.find(std::string(type));
        return it == gateways.end() ? nullptr : it->second;
    }

    std::map<std::string, std::shared_ptr<Gateway>> gateways_copy() const {
        std::lock_guard lock(gateways_mutex);
        return gateways;
    }
};

}  // namespace ictcore::engine

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
    self.on_strand([recovered = std::move(recovered), retries = std::move(retries),
                    schedules = std::move(schedules)](Impl& impl) mutable {
        impl.reload_providers(impl.read_providers());
        for (auto& [a, ending] : recovered.ended) impl.finish(a, std::move(ending));
        for (const auto& a : recovered.resume) impl.dispatch(a);
        for (const auto& [id, when] : retries) impl.timeline.emplace(when, Impl::Due{Impl::Due::Kind::retry, id});
        // A schedule missed while the server was down fires once now (its due time is past).
        for (const auto& row : schedules) {
            impl.timeline.emplace(row.next_run, Impl::Due{Impl::Due::Kind::schedule, row.schedule_id});
        }
        impl.tick();
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

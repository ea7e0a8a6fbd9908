// Engine::Impl: the engine's state and steps, all on one strand (see engine.hpp). Shared by
// engine.cpp (deliveries, retries, schedules, recovery) and campaign_runner.cpp (campaigns).
// Internal to the engine.
#pragma once

#include "engine/engine.hpp"

#include "core_state.hpp"
#include "engine/provider_pool.hpp"
#include "store/delivery_queries.hpp"
#include "store/table.hpp"

#include <ictcore/delivery_reports.hpp>
#include <ictcore/error.hpp>
#include <ictcore/schedule_spec.hpp>
#include <ictcore/service_flag.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/system_timer.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

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

namespace asio = boost::asio;

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
        enum class Kind { retry, schedule, report_sweep } kind;
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

    // The engine's writes, coalesced: while the store is busy with earlier jobs, the next steps
    // queue up here and go to the store together as one job, so the writer pays its per-job
    // costs once per batch rather than once per spool. A step that fails is undone alone
    // (see flush_writes). Strand only.
    struct PendingWrite {
        std::function<void(store::Connection&)> job;
        std::function<void(Impl&, std::exception_ptr)> then;
    };
    std::vector<PendingWrite> pending_writes;
    // Two jobs in flight: the writer runs the next one (already queued) while the engine is
    // still handling the completion of the last, so it never waits for the strand.
    static constexpr int max_writes_in_flight = 2;
    int writes_in_flight = 0;
    // Attempts dispatched whose outcome is not yet committed; a stop waits for them to settle.
    std::atomic<int> open_attempts{0};

    // ---- campaigns (campaign_runner.cpp) -----------------------------------------------

    // One running campaign: its attempts begun but not yet sent (waiting for their paced turn)
    // and those in flight, bounded by a window so a campaign of any size holds little memory.
    struct CampaignRun {
        CampaignRun(std::int64_t campaign, std::uint64_t run, asio::strand<asio::io_context::executor_type>& strand)
            : campaign_id(campaign), id(run), timer(strand) {}
        std::int64_t campaign_id;
        std::uint64_t id;                       // tells this run's attempts from those of an earlier one
        std::chrono::microseconds interval{0};  // between two sends; 0: as fast as providers take them
        std::int64_t service = 0;
        std::int64_t in_flight = 0;  // dispatched by this run, outcome not yet recorded
        std::deque<std::shared_ptr<Attempt>> ready;
        bool fetching = false;   // a batch is being begun in the store
        bool exhausted = false;  // the last batch found fewer contacts than it asked for
        bool idle = false;       // the last batch began nothing; wait for an outcome before looking again
        asio::steady_timer timer;
        bool timer_armed = false;
        std::uint64_t timer_generation = 0;  // tells the current wait from superseded ones
        std::chrono::steady_clock::time_point next_send{};
    };
    std::map<std::int64_t, std::shared_ptr<CampaignRun>> runs;  // strand only
    std::atomic<bool> stopping{false};                          // the engine is being destroyed
    std::uint64_t last_run_id = 0;                              // strand only
    // Campaigns whose attempts may reach a gateway. Changed by start/stop on the caller's
    // thread, so a stop holds once it returns; read under the lock just before delivering.
    mutable std::mutex running_mutex;
    std::set<std::int64_t> running;
    // Progress noted during a batch of writes, reported once the batch is through. Strand only.
    // A campaign noted without its figures (an outcome was counted) is read once, at the end.
    std::map<std::int64_t, std::optional<CampaignProgress>> progress_noted;
    std::mutex listener_mutex;
    std::function<void(const CampaignProgress&)> progress_listener;

    bool campaign_running(std::int64_t campaign_id) const {
        std::lock_guard lock(running_mutex);
        return running.contains(campaign_id);
    }
    // An attempt of a campaign that may not be sent now: it is held back unless it may already
    // have reached a gateway in an earlier run (then it is delivered again to the same one).
    bool held_back(const Attempt& a) const {
        const auto& campaign = a.delivery.transmission.campaign_id;
        return campaign && !a.pinned_provider && !campaign_running(*campaign);
    }
    // What one batch job began for a run, and what it found.
    struct CampaignBatch {
        std::vector<std::shared_ptr<Attempt>> attempts;
        std::optional<CampaignProgress> progress;
        std::chrono::microseconds interval{0};
        std::int64_t service = 0;
        bool exhausted = false;
        bool ended = false;  // no longer running: completed, broken, paused or deleted
    };
    void begin_batch(store::Connection& c, std::int64_t campaign_id, std::int64_t want, std::int64_t now,
                     bool final_look, CampaignBatch& batch);
    void report_campaign(std::int64_t campaign_id);  // reads and reports its progress now
    void run_campaign(std::int64_t campaign_id);     // starts (or keeps) a run
    void halt_campaign(std::int64_t campaign_id);    // ends the run; held attempts go back to wait
    void pump(const std::shared_ptr<CampaignRun>& run);
    void fetch(const std::shared_ptr<CampaignRun>& run);
    void pace(const std::shared_ptr<CampaignRun>& run);
    // The run's one timer: a later arm or retime() supersedes an earlier wait.
    void arm_timer(const std::shared_ptr<CampaignRun>& run, std::chrono::steady_clock::time_point when,
                   void (*then)(Impl&, const std::shared_ptr<CampaignRun>&));
    // A new pace: applies from the next send.
    void retime(const std::shared_ptr<CampaignRun>& run, std::chrono::microseconds interval);
    void send_from(const std::shared_ptr<CampaignRun>& run, std::shared_ptr<Attempt> a);
    void campaign_attempt_ended(const Attempt& a);
    void campaign_broken(std::int64_t campaign_id, const std::string& why);
    // A start or stop schedule fired: the status change, in the write (returns what changed:
    // "running", "paused" or "" for nothing), then the run, on the strand.
    std::string fire_campaign_schedule(store::Connection& c, const std::string& action, std::int64_t campaign_id);
    void campaign_scheduled(std::int64_t campaign_id, const std::string& change);
    void put_back(std::vector<std::shared_ptr<Attempt>> attempts);
    void note_progress(const CampaignProgress& p) { progress_noted[p.campaign_id] = p; }
    void note_counted(std::int64_t campaign_id) { progress_noted.try_emplace(campaign_id); }
    void publish_progress();

    // ---- delivery reports (reports.cpp) -------------------------------------------------

    // An attempt the far end took and reports on later: its spool waits, durably, with a
    // deadline; the provider slot and the campaign window are free again.
    void await_report(const std::shared_ptr<Attempt>& a, std::int64_t provider_id, std::string response);
    // A report for `spool_id` (a provider of `gateway_type`): nullopt `ending` is an
    // intermediate report. `done` runs on the strand once it is committed.
    void end_reported(std::int64_t spool_id, std::string gateway_type, std::optional<Ending> ending,
                      std::function<void(DeliveryReports::Result, std::exception_ptr)> done);
    // Fails the attempts whose report is overdue, a bounded number per write, and arms the next sweep.
    void sweep_reports();
    void arm_report_sweep(std::int64_t when);
    std::optional<std::int64_t> report_sweep_at;  // strand only
    struct Reported {
        DeliveryReports::Result result = DeliveryReports::Result::ignored;
        Ended ended;
        std::int64_t transmission_id = 0;
        std::optional<std::int64_t> campaign_id;
    };
    static Reported end_awaiting(store::Connection& c, std::int64_t spool_id, std::string_view gateway_type,
                                 const std::optional<Ending>& ending, std::int64_t now, std::int64_t retry_delay);
    void after_reported(const Reported& r);

    // A write whose completion continues on the strand.
    template <class Job, class Then>
    void write_then(Job&& job, Then&& then) {
        pending_writes.push_back({std::forward<Job>(job), std::forward<Then>(then)});
        if (writes_in_flight < max_writes_in_flight) flush_writes();
    }

    void flush_writes() {
        if (pending_writes.empty()) return;
        auto batch = std::make_shared<std::vector<PendingWrite>>(std::move(pending_writes));
        pending_writes.clear();
        auto errors = std::make_shared<std::vector<std::exception_ptr>>(batch->size());
        ++writes_in_flight;
        auto run = [batch, errors](store::Connection& c) {
            auto step = [&c](const char* sql) { c.cached(sql).exec(); };
            // Optimistically all steps under one savepoint: steps almost never fail, and a
            // savepoint per step costs two statements each. When one does fail, the batch
            // is rolled back and run again with a savepoint per step, so that only the
            // failing step is undone. Jobs therefore reset their outputs when they start.
            step("SAVEPOINT engine_batch");
            try {
                for (auto& pending : *batch) pending.job(c);
                step("RELEASE engine_batch");
                return;
            } catch (...) {
                step("ROLLBACK TO engine_batch");
                step("RELEASE engine_batch");
            }
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
                --s->writes_in_flight;
                for (std::size_t i = 0; i < batch->size(); ++i) (*batch)[i].then(*s, error ? error : (*errors)[i]);
                s->publish_progress();
                s->flush_writes();
            });
        };
        try {
            state.store->write_async(std::move(run), std::move(done));
        } catch (const std::exception& e) {
            --writes_in_flight;
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
        const auto gateways = gateways_copy();
        pool.reload(providers, gateways);
        for (const auto& [type, gateway] : gateways) {
            std::vector<Provider> active;
            for (const auto& p : providers)
                if (p.type == type && p.active) active.push_back(p);
            try {
                gateway->providers_changed(active);
            } catch (const std::exception& e) {
                spdlog::error("engine: gateway {} could not take the provider change: {}", type, e.what());
            }
        }
        // Waiting attempts may have a provider now, or none at all any more.
        auto queues = std::move(waiting);
        waiting.clear();
        for (auto& [service, queue] : queues) {
            for (auto& a : queue) dispatch(a);
        }
    }

    // ---- delivering ----------------------------------------------------------------

    void dispatch(std::shared_ptr<Attempt> a, bool front = false) {
        if (held_back(*a)) {
            put_back({std::move(a)});
            return;
        }
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
            if (a->delivery.transmission.campaign_id && a->tried.empty() && !a->pinned_provider) {
                // Failing the campaign's contacts one by one helps no one: it waits for a provider.
                const auto campaign = *a->delivery.transmission.campaign_id;
                put_back({std::move(a)});
                campaign_broken(campaign, fmt::format("no active provider serves {}", service::name(service)));
                return;
            }
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
        // A campaign's attempt is handed over under the running lock, so a stop that has
        // returned has stopped it, and one that has not yet returned lets it go.
        std::unique_lock<std::mutex> gate;
        if (a->delivery.transmission.campaign_id && !a->pinned_provider) {
            gate = std::unique_lock<std::mutex>(running_mutex);
            if (!running.contains(*a->delivery.transmission.campaign_id)) {
                gate.unlock();
                pool.release(provider_id);
                put_back({a});
                wake(provider_id);
                return;
            }
        }
        auto st = std::make_shared<DeliveryCompletion::State>();
        st->engine = weak_from_this();
        st->attempt = a;
        st->provider_id = provider_id;
        DeliveryCompletion done(st);
        st.reset();
        a->delivery.report_url = state.report_url(gateway->type(), a->delivery.spool_id);
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
            // Logged here: when the next provider delivers, this failure leaves no other trace.
            spdlog::warn("engine: transmission {}: provider {} failed ({}); trying the next provider",
                         a->delivery.transmission.transmission_id, provider_id, outcome.response);
            dispatch(a);  // the next provider, within the same attempt
            return;
        }
        if (outcome.kind == Outcome::Kind::accepted) {
            await_report(a, provider_id, std::move(outcome.response));
            return;
        }
        finish(a, ending_of(std::move(outcome), provider_id));
    }

    static Ending ending_of(Outcome outcome, std::optional<std::int64_t> provider_id) {
        Ending ending;
        ending.delivered = outcome.kind == Outcome::Kind::delivered;
        ending.response = std::move(outcome.response);
        ending.results = std::move(outcome.results);
        ending.provider_id = provider_id;
        ending.allow_retry = outcome.kind != Outcome::Kind::rejected;
        return ending;
    }

    void finish(const std::shared_ptr<Attempt>& a, Ending ending) {
        const auto now = unix_now();
        const auto delay = retry_delay();
        auto ended = std::make_shared<Ended>();
        write_then(
            [a, ending = std::move(ending), now, delay, ended](store::Connection& c) {
                *ended = end_attempt(c, a->delivery, ending, now, delay);
            },
            [a, ended](Impl& self, std::exception_ptr error) {
                if (a->counted) --self.open_attempts;
                if (error) {
                    spdlog::error("engine: recording the outcome of spool {} failed: {}", a->delivery.spool_id,
                                  describe(error));
                } else {
                    if (ended->retry_at) {
                        self.add_due(*ended->retry_at, {Due::Kind::retry, a->delivery.transmission.transmission_id});
                    }
                    if (ended->campaign) self.note_counted(*ended->campaign);
                }
                if (a->delivery.transmission.campaign_id) self.campaign_attempt_ended(*a);
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
            else if (due.kind == Due::Kind::schedule)
                fire_schedule(due.id, when);
            else
                sweep_reports();
        }
        rearm();
    }

    // Begins an attempt inside a write job; a transmission that can no longer be delivered
    // becomes invalid instead.
    static std::shared_ptr<Attempt> try_begin(store::Connection& c, const media::MediaStore& media,
                                              const Transmission& t, std::int64_t now,
                                              std::optional<std::int64_t>& counted_in) {
        try {
            return std::make_shared<Attempt>(begin_attempt(c, media, t, now));
        } catch (const Error& e) {
            if (e.code() != Errc::invalid) throw;
            counted_in = invalidate(c, t, e.what());
            spdlog::info("transmission {} is invalid: {}", t.transmission_id, e.what());
            return nullptr;
        }
    }

    void fire_retry(std::int64_t transmission_id, std::int64_t when) {
        struct Fired {
            std::shared_ptr<Attempt> attempt;
            std::optional<std::int64_t> counted_in;
        };
        auto fired = std::make_shared<Fired>();
        const auto now = unix_now();
        write_then(
            [this, transmission_id, when, now, fired](store::Connection& c) {
                *fired = Fired{};
                auto t = store::Table<Transmission>::find(c, transmission_id, store::Scope{});
                if (!t || t->status != transmission_status::pending_retry || t->next_run != when) return;
                // A stopped campaign's retries wait for it to start again (which re-arms them).
                if (t->campaign_id && !campaign_running(*t->campaign_id)) return;
                fired->attempt = try_begin(c, state.media, *t, now, fired->counted_in);
            },
            [fired](Impl& self, std::exception_ptr error) {
                if (error) {
                    spdlog::error("engine: automatic retry failed: {}", describe(error));
                    return;
                }
                if (fired->counted_in) self.note_counted(*fired->counted_in);
                if (fired->attempt) self.dispatch(fired->attempt);
            });
    }

    void fire_schedule(std::int64_t schedule_id, std::int64_t when) {
        struct Fired {
            std::shared_ptr<Attempt> attempt;
            std::optional<std::int64_t> next;
            std::optional<std::int64_t> counted_in;
            std::optional<std::string> campaign_action;
            std::int64_t campaign_id = 0;
        };
        auto fired = std::make_shared<Fired>();
        const auto now = unix_now();
        write_then(
            [this, schedule_id, when, now, fired](store::Connection& c) {
                *fired = Fired{};
                auto row = store::find_schedule(c, schedule_id);
                if (!row || row->next_run != when) return;
                const auto spec = store::spec_of(*row);
                fired->next = spec.recurring() ? next_fire(spec, now) : std::nullopt;
                if (fired->next)
                    store::set_schedule_next_run(c, schedule_id, *fired->next);
                else
                    store::delete_schedule(c, schedule_id);
                if (row->campaign_id) {
                    fired->campaign_id = *row->campaign_id;
                    fired->campaign_action = fire_campaign_schedule(c, row->action, *row->campaign_id);
                    return;
                }
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
                fired->attempt = try_begin(c, state.media, *t, now, fired->counted_in);
            },
            [fired, schedule_id](Impl& self, std::exception_ptr error) {
                if (error) {
                    spdlog::error("engine: schedule {} failed: {}", schedule_id, describe(error));
                    return;
                }
                if (fired->next) self.add_due(*fired->next, {Due::Kind::schedule, schedule_id});
                if (fired->counted_in) self.note_counted(*fired->counted_in);
                if (fired->attempt) self.dispatch(fired->attempt);
                if (fired->campaign_action) self.campaign_scheduled(fired->campaign_id, *fired->campaign_action);
            });
    }

    // ---- recovery --------------------------------------------------------------------

    // Attempts a previous run left open: queued ones are delivered now; started ones again
    // through the same provider when its gateway deduplicates, else they fail as interrupted
    // rather than risk reaching the contact twice.
    struct Recovered {
        std::optional<std::int64_t> first_report_due;  // attempts awaiting a report wait on
        std::vector<std::shared_ptr<Attempt>> resume;
        std::vector<std::pair<std::shared_ptr<Attempt>, Ending>> ended;
    };
    Recovered recover() {
        Recovered out;
        auto& resume = out.resume;
        auto& ended = out.ended;
        state.store->read([&](store::Connection& c) {
            for (const auto& open : store::open_spools(c)) {
                if (open.report_due) {
                    if (!out.first_report_due || *open.report_due < *out.first_report_due) {
                        out.first_report_due = open.report_due;
                    }
                    continue;
                }
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

// The campaign runner: walks a running campaign's group in batches, begins one transmission
// per contact not yet reached, and releases them paced by delay/cpm into the engine's
// dispatch, keeping a bounded window in flight. The database is the truth: a campaign's
// status and counters live in its row, and its transmissions are unique per contact, so a
// restart, a stop or a crash can at worst delay a contact, never reach it twice.
#include "engine/campaign_control.hpp"
#include "engine/engine_impl.hpp"
#include "store/campaign_queries.hpp"

#include <ictcore/contact.hpp>
#include <ictcore/group.hpp>
#include <ictcore/program.hpp>

#include <algorithm>

namespace ictcore::engine {

namespace {

// In flight at once for an unpaced campaign whose providers take any number.
constexpr std::int64_t unbounded_window = 8192;
// Contacts begun per store job: large enough to amortise the job, small enough that other
// writers (outcomes, API calls) are not held up for long.
constexpr std::int64_t max_batch = 2048;
// A paced campaign prepares about this much sending time ahead.
constexpr std::chrono::milliseconds paced_lookahead{1000};

std::chrono::microseconds interval_of(const Campaign& c) {
    std::int64_t us = c.delay > 0 ? c.delay * 1000 : 0;
    if (c.cpm > 0) us = std::max<std::int64_t>(us, 60'000'000 / c.cpm);
    return std::chrono::microseconds(us);
}

// How many attempts a run keeps begun (ready or in flight) before it asks for more.
std::int64_t window_of(const Engine::Impl::CampaignRun& run, std::int64_t capacity) {
    if (run.interval.count() > 0) {
        return std::clamp<std::int64_t>(paced_lookahead / run.interval, 1, 256);
    }
    if (capacity == 0) return unbounded_window;
    return std::clamp<std::int64_t>(2 * capacity, 16, unbounded_window);
}

}  // namespace

std::optional<Refusal> begin_running(store::Connection& c, const store::CampaignRow& row, Engine& engine) {
    const Campaign& cp = row.campaign;
    if (cp.status == campaign_status::completed) {
        return Refusal{Errc::locked,
                       fmt::format("campaign {} is completed: create a new campaign to send again", cp.campaign_id)};
    }
    const store::Scope all{};
    std::optional<Refusal> refusal;
    const auto program = store::Table<Program>::find(c, cp.program_id, all);
    if (!program) {
        refusal = Refusal{Errc::invalid, fmt::format("program {} no longer exists", cp.program_id)};
    } else if (program->direction != "outbound") {
        refusal = Refusal{Errc::invalid, fmt::format("program {} ({}) handles received messages and cannot be sent",
                                                     cp.program_id, program->type)};
    } else if (!store::Table<Group>::exists(c, cp.group_id, all)) {
        refusal = Refusal{Errc::invalid, fmt::format("group {} no longer exists", cp.group_id)};
    } else if (!engine.serves(program->service_flag)) {
        refusal =
            Refusal{Errc::locked, fmt::format("no active provider serves {}", service::name(program->service_flag))};
    }
    if (refusal) {
        store::set_campaign_status(c, cp.campaign_id, campaign_status::broken, refusal->message);
        engine.set_campaign_running(cp.campaign_id, false);
        return refusal;
    }
    if (cp.status == campaign_status::running) return std::nullopt;
    store::set_campaign_status(c, cp.campaign_id, campaign_status::running, std::nullopt);
    store::recount_campaign(c, cp.campaign_id, cp.group_id, row.sent);
    engine.set_campaign_running(cp.campaign_id, true);  // last: nothing after it can fail
    return std::nullopt;
}

bool pause_running(store::Connection& c, std::int64_t campaign_id, Engine& engine) {
    const auto row = store::find_campaign_row(c, campaign_id);
    if (!row || row->campaign.status != campaign_status::running) return false;
    store::set_campaign_status(c, campaign_id, campaign_status::paused, std::nullopt);
    engine.set_campaign_running(campaign_id, false);
    return true;
}

// ---- the run, on the strand -------------------------------------------------------------

void Engine::Impl::run_campaign(std::int64_t campaign_id) {
    if (!campaign_running(campaign_id)) return;
    auto it = runs.find(campaign_id);
    if (it != runs.end()) {
        pump(it->second);
        return;
    }
    auto run = std::make_shared<CampaignRun>(campaign_id, ++last_run_id, strand);
    runs.emplace(campaign_id, run);
    // Its pace and service size the first batch as they size the others; retries its
    // transmissions awaited while it was stopped are due again.
    std::vector<std::pair<std::int64_t, std::int64_t>> retries;
    state.store->read([&](store::Connection& c) {
        if (const auto row = store::find_campaign_row(c, campaign_id)) {
            run->interval = interval_of(row->campaign);
            if (const auto p = store::Table<Program>::find(c, row->campaign.program_id, store::Scope{})) {
                run->service = p->service_flag;
            }
        }
        retries = store::campaign_retries(c, campaign_id);
        return 0;
    });
    for (const auto& [id, when] : retries) timeline.emplace(when, Due{Due::Kind::retry, id});
    if (!retries.empty()) tick();
    pump(run);
}

void Engine::Impl::halt_campaign(std::int64_t campaign_id) {
    auto it = runs.find(campaign_id);
    if (it != runs.end()) {
        auto run = it->second;
        runs.erase(it);
        run->timer.cancel();
        std::vector<std::shared_ptr<Attempt>> held(run->ready.begin(), run->ready.end());
        run->ready.clear();
        put_back(std::move(held));
    }
    // Attempts of the campaign waiting for a provider slot go back too.
    std::vector<std::shared_ptr<Attempt>> held;
    for (auto& [service, queue] : waiting) {
        std::erase_if(queue, [&](const std::shared_ptr<Attempt>& a) {
            if (!held_back(*a)) return false;
            held.push_back(a);
            return true;
        });
    }
    put_back(std::move(held));
}

void Engine::Impl::pump(const std::shared_ptr<CampaignRun>& run) {
    if (run->fetching || stopping || !campaign_running(run->campaign_id)) return;
    const auto begun = run->in_flight + static_cast<std::int64_t>(run->ready.size());
    if (run->exhausted) {
        // Everything reached: look again (for the end, or for contacts linked since) only
        // once nothing of this run is left and an outcome has come in since the last look.
        if (begun == 0 && !run->idle) fetch(run);
        return;
    }
    const auto window = window_of(*run, pool.capacity(run->service));
    const auto counted = run->interval.count() > 0 ? static_cast<std::int64_t>(run->ready.size()) : begun;
    if (counted * 2 <= window) fetch(run);
}

void Engine::Impl::fetch(const std::shared_ptr<CampaignRun>& run) {
    const auto window = window_of(*run, pool.capacity(run->service));
    const auto begun = run->interval.count() > 0 ? static_cast<std::int64_t>(run->ready.size())
                                                 : run->in_flight + static_cast<std::int64_t>(run->ready.size());
    const auto want = std::clamp<std::int64_t>(window - begun, 1, max_batch);
    run->fetching = true;
    auto batch = std::make_shared<CampaignBatch>();
    const auto now = unix_now();
    const bool final_look = run->exhausted;
    write_then([this, campaign_id = run->campaign_id, want, now, final_look,
                batch](store::Connection& c) { begin_batch(c, campaign_id, want, now, final_look, *batch); },
               [run, batch](Impl& self, std::exception_ptr error) {
                   run->fetching = false;
                   if (batch->progress) self.note_progress(*batch->progress);
                   const auto it = self.runs.find(run->campaign_id);
                   const bool current = it != self.runs.end() && it->second == run;
                   if (error) {
                       // Rolled back: nothing was begun. Try again shortly rather than spin.
                       spdlog::error("campaign {}: cannot begin transmissions: {}", run->campaign_id, describe(error));
                       if (!current) return;
                       self.arm_timer(run, std::chrono::steady_clock::now() + std::chrono::seconds(1),
                                      [](Impl& s, const std::shared_ptr<CampaignRun>& r) { s.pump(r); });
                       return;
                   }
                   if (!current || batch->ended) {
                       if (batch->ended) self.halt_campaign(run->campaign_id);
                       self.put_back(std::move(batch->attempts));
                       return;
                   }
                   run->service = batch->service;
                   run->exhausted = batch->exhausted;
                   run->idle = batch->attempts.empty();
                   for (auto& a : batch->attempts) run->ready.push_back(std::move(a));
                   if (batch->interval != run->interval)
                       self.retime(run, batch->interval);  // paces too
                   else
                       self.pace(run);
               });
}

void Engine::Impl::begin_batch(store::Connection& c, std::int64_t campaign_id, std::int64_t want, std::int64_t now,
                               bool final_look, CampaignBatch& batch) {
    batch = CampaignBatch{};  // a batch of writes may run a job twice (see flush_writes)
    const auto row = store::find_campaign_row(c, campaign_id);
    if (!row || row->campaign.status != campaign_status::running) {
        batch.ended = true;
        return;
    }
    const Campaign& cp = row->campaign;
    batch.interval = interval_of(cp);
    // The checks a start makes hold for the whole run: a program or group deleted, or the
    // last provider gone, breaks it.
    if (auto refusal = begin_running(c, *row, *state.engine)) {
        spdlog::warn("campaign {} is broken: {}", campaign_id, refusal->message);
        batch.ended = true;
        batch.progress = store::campaign_progress(c, campaign_id);
        return;
    }
    LoadCache cache;
    const auto program = find_cached(c, cp.program_id, store::Scope{}, &cache.programs);
    batch.service = program->service_flag;

    std::int64_t begun = 0;
    const auto keep = [&](std::shared_ptr<Attempt> a) {
        if (a) batch.attempts.push_back(std::move(a));
        ++begun;
    };
    // First the transmissions a stop put back, then contacts not reached yet.
    for (const auto& t : store::waiting_transmissions(c, campaign_id, want)) {
        std::optional<std::int64_t> counted_in;  // read below with the rest of the progress
        keep(try_begin(c, state.media, t, now, counted_in));
    }
    if (final_look && row->campaign.contact_done < row->sent) {
        batch.exhausted = true;  // outcomes still to come; nothing new is looked for before them
        batch.progress = store::campaign_progress(c, campaign_id);
        return;
    }
    std::int64_t created = 0;
    std::int64_t last = row->last_contact;
    const auto take = [&](std::int64_t after, std::int64_t limit) {
        const auto contacts = store::unreached_contacts(c, campaign_id, cp.group_id, after, limit);
        for (const auto& contact : contacts) {
            Transmission t;
            t.title = program->name;
            t.origin = program->type;
            t.contact_id = contact.contact_id;
            t.account_id = cp.account_id;
            t.service_flag = program->service_flag;
            t.program_id = cp.program_id;
            t.try_allowed = cp.try_allowed;
            t.campaign_id = campaign_id;
            t.time_created = now;
            t.created_by = cp.created_by;
            auto b = begin_campaign_attempt(c, state.media, std::move(t), contact, now, &cache);
            keep(b.attempt ? std::make_shared<Attempt>(std::move(*b.attempt)) : nullptr);
            last = contact.contact_id;
            ++created;
        }
        return static_cast<std::int64_t>(contacts.size());
    };
    std::int64_t remaining = want - begun;
    if (remaining > 0) {
        const auto from = row->last_contact;
        remaining -= take(from, remaining);
        // Contacts linked to the group behind the walk since it passed: one more pass from the start.
        if (remaining > 0 && from > 0) remaining -= take(0, remaining);
        batch.exhausted = remaining > 0;
    }
    if (created > 0) store::advance_campaign(c, campaign_id, created, last);
    // Nothing begun here, so the counters read at the start of this job still stand.
    if (batch.exhausted && begun == 0) {
        if (row->campaign.contact_done >= row->sent) {
            store::complete_campaign(c, campaign_id);
            state.engine->set_campaign_running(campaign_id, false);
            batch.ended = true;
            spdlog::info("campaign {} completed", campaign_id);
        }
    }
    batch.progress = store::campaign_progress(c, campaign_id);
}

void Engine::Impl::pace(const std::shared_ptr<CampaignRun>& run) {
    if (stopping) return;
    if (run->interval.count() == 0) {
        while (!run->ready.empty()) {
            auto a = std::move(run->ready.front());
            run->ready.pop_front();
            send_from(run, std::move(a));
        }
        pump(run);
        return;
    }
    if (run->timer_armed) return;
    const auto now = std::chrono::steady_clock::now();
    if (run->next_send.time_since_epoch().count() == 0) run->next_send = now;
    while (!run->ready.empty() && run->next_send <= now) {
        auto a = std::move(run->ready.front());
        run->ready.pop_front();
        send_from(run, std::move(a));
        // Steady pace: the next send is due one interval after the last one was due, but a run
        // that fell behind (a slow batch) does not burst to catch up.
        run->next_send = std::max(run->next_send + run->interval, now - run->interval);
    }
    pump(run);
    if (run->ready.empty()) return;
    arm_timer(run, run->next_send, [](Impl& self, const std::shared_ptr<CampaignRun>& r) { self.pace(r); });
}

void Engine::Impl::arm_timer(const std::shared_ptr<CampaignRun>& run, std::chrono::steady_clock::time_point when,
                             void (*then)(Impl&, const std::shared_ptr<CampaignRun>&)) {
    run->timer_armed = true;
    const auto generation = ++run->timer_generation;
    run->timer.expires_at(when);  // cancels an earlier wait, whose handler then sees a newer generation
    run->timer.async_wait([weak = weak_from_this(), run, generation, then](const boost::system::error_code& ec) {
        if (run->timer_generation != generation) return;
        run->timer_armed = false;
        if (ec) return;
        auto self = weak.lock();
        if (!self) return;
        const auto it = self->runs.find(run->campaign_id);
        if (it != self->runs.end() && it->second == run) then(*self, run);
    });
}

void Engine::Impl::retime(const std::shared_ptr<CampaignRun>& run, std::chrono::microseconds interval) {
    if (interval == run->interval) return;
    // The next send is due one new interval after the last one was due, not at the old time.
    if (run->next_send.time_since_epoch().count() != 0) run->next_send += interval - run->interval;
    run->interval = interval;
    if (run->timer_armed) {
        ++run->timer_generation;
        run->timer_armed = false;
        run->timer.cancel();
    }
    pace(run);
}

void Engine::Impl::send_from(const std::shared_ptr<CampaignRun>& run, std::shared_ptr<Attempt> a) {
    ++run->in_flight;
    a->campaign_run = run->id;
    dispatch(std::move(a));
}

void Engine::Impl::campaign_attempt_ended(const Attempt& a) {
    const auto it = runs.find(*a.delivery.transmission.campaign_id);
    if (it == runs.end()) return;
    auto run = it->second;
    if (a.campaign_run == run->id && run->in_flight > 0) --run->in_flight;
    run->idle = false;
    if (run->interval.count() > 0 && !run->ready.empty()) return;  // the pace timer pumps
    pump(run);
}

void Engine::Impl::campaign_broken(std::int64_t campaign_id, const std::string& why) {
    if (!campaign_running(campaign_id)) return;
    {
        std::lock_guard lock(running_mutex);
        running.erase(campaign_id);
    }
    halt_campaign(campaign_id);
    spdlog::warn("campaign {} is broken: {}", campaign_id, why);
    auto progress = std::make_shared<std::optional<CampaignProgress>>();
    write_then(
        [campaign_id, why, progress](store::Connection& c) {
            progress->reset();
            const auto row = store::find_campaign_row(c, campaign_id);
            if (!row || row->campaign.status != campaign_status::running) return;
            store::set_campaign_status(c, campaign_id, campaign_status::broken, why);
            *progress = store::campaign_progress(c, campaign_id);
        },
        [progress](Impl& self, std::exception_ptr) {
            if (*progress) self.note_progress(**progress);
        });
}

void Engine::Impl::put_back(std::vector<std::shared_ptr<Attempt>> attempts) {
    if (attempts.empty()) return;
    for (const auto& a : attempts) {
        if (a->counted) {
            a->counted = false;
            --open_attempts;
        }
        if (const auto it = runs.find(*a->delivery.transmission.campaign_id);
            it != runs.end() && it->second->id == a->campaign_run && it->second->in_flight > 0) {
            --it->second->in_flight;
        }
    }
    auto held = std::make_shared<std::vector<std::shared_ptr<Attempt>>>(std::move(attempts));
    write_then(
        [held](store::Connection& c) {
            for (const auto& a : *held) {
                store::put_back_attempt(c, a->delivery.spool_id, a->delivery.transmission.transmission_id);
            }
        },
        [held](Impl& self, std::exception_ptr error) {
            if (error) {
                spdlog::error("engine: cannot put back {} attempts: {}", held->size(), describe(error));
                return;
            }
            // A run started again meanwhile may already have looked for waiting transmissions
            // and found none: these wait now, so it looks again.
            std::set<std::int64_t> campaigns;
            for (const auto& a : *held) campaigns.insert(*a->delivery.transmission.campaign_id);
            for (const auto id : campaigns) {
                if (const auto it = self.runs.find(id); it != self.runs.end()) {
                    it->second->idle = false;
                    self.pump(it->second);
                }
            }
        });
}

std::string Engine::Impl::fire_campaign_schedule(store::Connection& c, const std::string& action,
                                                 std::int64_t campaign_id) {
    if (action == "campaign_stop") return pause_running(c, campaign_id, *state.engine) ? "paused" : "";
    const auto row = store::find_campaign_row(c, campaign_id);
    if (!row || row->campaign.status == campaign_status::running) return "";
    if (auto refusal = begin_running(c, *row, *state.engine)) {
        spdlog::warn("campaign {}: the scheduled start failed: {}", campaign_id, refusal->message);
        return "broken";
    }
    return "running";
}

void Engine::Impl::campaign_scheduled(std::int64_t campaign_id, const std::string& change) {
    if (change.empty()) return;
    spdlog::info("campaign {}: scheduled {}", campaign_id, change == "running" ? "start" : change);
    if (change == "running")
        run_campaign(campaign_id);
    else
        halt_campaign(campaign_id);
    report_campaign(campaign_id);
}

void Engine::Impl::report_campaign(std::int64_t campaign_id) {
    auto p =
        state.store->read([campaign_id](store::Connection& c) { return store::campaign_progress(c, campaign_id); });
    if (p) note_progress(*p);
    publish_progress();
}

void Engine::Impl::publish_progress() {
    if (progress_noted.empty()) return;
    auto noted = std::move(progress_noted);
    progress_noted.clear();
    // Called under the lock, so that once on_progress() has replaced the listener the old one
    // is neither running nor called again.
    std::lock_guard lock(listener_mutex);
    if (!progress_listener) return;
    std::vector<CampaignProgress> reports;
    state.store->read([&](store::Connection& c) {
        for (auto& [id, p] : noted) {
            if (!p) p = store::campaign_progress(c, id);
            if (p) reports.push_back(*p);
        }
        return 0;
    });
    for (const auto& p : reports) {
        try {
            progress_listener(p);
        } catch (const std::exception& e) {
            spdlog::warn("campaign progress listener failed: {}", e.what());
        }
    }
}

// ---- Engine's campaign calls ------------------------------------------------------------

void Engine::set_campaign_running(std::int64_t campaign_id, bool running) {
    std::lock_guard lock(impl_->running_mutex);
    if (running)
        impl_->running.insert(campaign_id);
    else
        impl_->running.erase(campaign_id);
}

void Engine::campaign_started(std::int64_t campaign_id) {
    impl_->on_strand([campaign_id](Impl& self) {
        self.run_campaign(campaign_id);
        self.report_campaign(campaign_id);
    });
}

void Engine::campaign_stopped(std::int64_t campaign_id) {
    impl_->on_strand([campaign_id](Impl& self) {
        self.halt_campaign(campaign_id);
        self.report_campaign(campaign_id);
    });
}

void Engine::campaign_changed(std::int64_t campaign_id) {
    impl_->on_strand([campaign_id](Impl& self) {
        // A new delay or cpm applies from the next send, not from the next batch.
        if (const auto it = self.runs.find(campaign_id); it != self.runs.end()) {
            auto run = it->second;
            const auto row = self.state.store->read(
                [campaign_id](store::Connection& c) { return store::find_campaign_row(c, campaign_id); });
            if (row) self.retime(run, interval_of(row->campaign));
        }
        self.report_campaign(campaign_id);
    });
}

void Engine::set_progress_listener(std::function<void(const CampaignProgress&)> listener) {
    std::lock_guard lock(impl_->listener_mutex);
    impl_->progress_listener = std::move(listener);
}

}  // namespace ictcore::engine

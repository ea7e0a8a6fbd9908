// Delivery reports in the engine: an attempt a gateway ended Outcome::accepted waits in the
// store (spool `connected`, report_due set) until the far end's report ends it, from the live
// run or after a restart alike, or until its deadline passes. No per-attempt state is kept in
// memory, so a campaign of a million SMS awaiting reports costs nothing here.
#include "engine/engine_impl.hpp"

namespace ictcore::engine {

void Engine::Impl::await_report(const std::shared_ptr<Attempt>& a, std::int64_t provider_id, std::string response) {
    std::chrono::seconds wait = std::chrono::hours(48);
    if (const auto* entry = pool.find(provider_id); entry && entry->gateway) {
        wait = entry->gateway->report_timeout(entry->provider);
    }
    const auto now = unix_now();
    const auto due = now + wait.count();
    const auto spool_id = a->delivery.spool_id;
    write_then([spool_id, response = std::move(response), now,
                due](store::Connection& c) { store::await_report(c, spool_id, response, now, due); },
               [a, due](Impl& self, std::exception_ptr error) {
                   if (a->counted) {
                       a->counted = false;
                       --self.open_attempts;
                   }
                   if (error) {
                       spdlog::error("engine: recording that spool {} awaits its report failed: {}",
                                     a->delivery.spool_id, describe(error));
                   } else {
                       self.arm_report_sweep(due);
                   }
                   // The message is with the far end: the campaign's window has room again.
                   if (a->delivery.transmission.campaign_id) self.campaign_attempt_ended(*a);
               });
}

Engine::Impl::Reported Engine::Impl::end_awaiting(store::Connection& c, std::int64_t spool_id,
                                                  std::string_view gateway_type, const std::optional<Ending>& ending,
                                                  std::int64_t now, std::int64_t retry_delay) {
    Reported out;
    const auto waiting = store::awaiting_report(c, spool_id);
    if (!waiting || (!gateway_type.empty() && waiting->provider_type != gateway_type)) return out;
    if (!ending) {
        out.result = DeliveryReports::Result::intermediate;
        return out;
    }
    const auto t = store::Table<Transmission>::find(c, waiting->transmission_id, store::Scope{});
    if (!t) return out;
    // The far end had it: an attempt reported before its acceptance was recorded is connected
    // too (that later write then finds it ended and changes nothing).
    if (waiting->status == spool_status::started) store::mark_spool_connected(c, spool_id, now);
    Delivery d;
    d.spool_id = spool_id;
    d.transmission = *t;
    out.ended = end_attempt(c, d, *ending, now, retry_delay);
    out.transmission_id = t->transmission_id;
    out.campaign_id = t->campaign_id;
    out.result = DeliveryReports::Result::recorded;
    return out;
}

void Engine::Impl::after_reported(const Reported& r) {
    if (r.result != DeliveryReports::Result::recorded) return;
    if (r.ended.retry_at) add_due(*r.ended.retry_at, {Due::Kind::retry, r.transmission_id});
    if (r.ended.campaign) note_counted(*r.ended.campaign);
    if (r.campaign_id) {
        if (const auto it = runs.find(*r.campaign_id); it != runs.end()) {
            it->second->idle = false;
            pump(it->second);
        }
    }
}

void Engine::Impl::end_reported(std::int64_t spool_id, std::string gateway_type, std::optional<Ending> ending,
                                std::function<void(DeliveryReports::Result, std::exception_ptr)> done) {
    const auto now = unix_now();
    const auto delay = retry_delay();
    auto out = std::make_shared<Reported>();
    write_then([spool_id, gateway_type = std::move(gateway_type), ending = std::move(ending), now, delay,
                out](store::Connection& c) { *out = end_awaiting(c, spool_id, gateway_type, ending, now, delay); },
               [out, done = std::move(done)](Impl& self, std::exception_ptr error) {
                   if (!error) self.after_reported(*out);
                   if (done) done(error ? DeliveryReports::Result::ignored : out->result, error);
               });
}

void Engine::Impl::arm_report_sweep(std::int64_t when) {
    if (report_sweep_at && *report_sweep_at <= when) return;
    report_sweep_at = when;
    add_due(when, {Due::Kind::report_sweep, 0});
}

void Engine::Impl::sweep_reports() {
    report_sweep_at.reset();
    constexpr std::int64_t per_write = 1000;
    const auto now = unix_now();
    const auto delay = retry_delay();
    struct Swept {
        std::vector<Reported> ended;
        std::optional<std::int64_t> next;
    };
    auto swept = std::make_shared<Swept>();
    write_then(
        [now, delay, swept](store::Connection& c) {
            *swept = Swept{};
            Ending ending;
            ending.response = "no delivery report arrived in time; not retried, as the message may have arrived";
            ending.allow_retry = false;
            for (const auto spool_id : store::overdue_reports(c, now, per_write)) {
                swept->ended.push_back(end_awaiting(c, spool_id, {}, ending, now, delay));
            }
            swept->next = store::next_report_due(c);
        },
        [swept](Impl& self, std::exception_ptr error) {
            if (error) {
                spdlog::error("engine: failing overdue delivery reports failed: {}", describe(error));
                return;
            }
            if (!swept->ended.empty()) spdlog::warn("{} deliveries had no report in time", swept->ended.size());
            for (const auto& r : swept->ended) self.after_reported(r);
            if (swept->next) self.arm_report_sweep(*swept->next);
        });
}

}  // namespace ictcore::engine

namespace ictcore::engine {

void Engine::report(std::int64_t spool_id, std::string gateway_type, std::optional<Outcome> outcome,
                    std::function<void(DeliveryReports::Result, std::exception_ptr)> done) {
    std::optional<Ending> ending;
    if (outcome) ending = Impl::ending_of(std::move(*outcome), std::nullopt);
    impl_->on_strand([spool_id, gateway_type = std::move(gateway_type), ending = std::move(ending),
                      done = std::move(done)](Impl& self) mutable {
        self.end_reported(spool_id, std::move(gateway_type), std::move(ending), std::move(done));
    });
}

}  // namespace ictcore::engine

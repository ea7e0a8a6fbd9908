// Campaigns: creation and edits with ownership checks, and the status changes (start, stop,
// schedules, delete) — each committed, together with the engine's running set, before the
// engine acts on it.
#include <ictcore/account.hpp>
#include <ictcore/campaigns.hpp>
#include <ictcore/group.hpp>
#include <ictcore/program.hpp>

#include "engine/campaign_control.hpp"
#include "model/validation_impl.hpp"
#include "service/service_support.hpp"
#include "store/campaign_queries.hpp"
#include "store/delivery_queries.hpp"
#include "store/queries.hpp"

namespace ictcore {

namespace {

namespace status = campaign_status;

void check_values(const Campaign& value) {
    if (value.program_id <= 0) throw Error(Errc::invalid, "program_id is required");
    if (value.group_id <= 0) throw Error(Errc::invalid, "group_id is required");
    if (value.account_id < 0) throw Error(Errc::invalid, "account_id must be an account id");
    if (value.delay < 0 || value.delay > 86'400'000) {
        throw Error(Errc::invalid, "delay must be from 0 to 86400000 milliseconds");
    }
    if (value.cpm < 0 || value.cpm > 6'000'000) throw Error(Errc::invalid, "cpm must be from 0 (unpaced) to 6000000");
    if (value.try_allowed < 1 || value.try_allowed > 100) {
        throw Error(Errc::invalid, "try_allowed must be from 1 to 100");
    }
}

// The program, group and account must be visible to the caller; fills the default account.
void check_references(store::Connection& c, const Principal& who, const store::Scope& scope, Campaign& value) {
    const auto program = store::Table<Program>::find(c, value.program_id, scope);
    if (!program) throw Error(Errc::invalid, fmt::format("program {} not found", value.program_id));
    if (program->direction != "outbound") {
        throw Error(Errc::invalid, fmt::format("program {} ({}) handles received messages; a campaign cannot send it",
                                               program->program_id, program->type));
    }
    if (!store::Table<Group>::exists(c, value.group_id, scope)) {
        throw Error(Errc::invalid, fmt::format("group {} not found", value.group_id));
    }
    if (value.account_id == 0) {
        const auto account = store::default_account_id(c, who.user_id());
        if (!account) throw Error(Errc::invalid, "account_id is required: you have no active account");
        value.account_id = *account;
    } else if (!store::Table<Account>::exists(c, value.account_id, scope)) {
        throw Error(Errc::invalid, fmt::format("account {} not found", value.account_id));
    }
}

// The campaign with the runner's columns, when the caller may see it; else Error(not_found).
store::CampaignRow visible_row(store::Connection& c, std::int64_t id, const store::Scope& scope) {
    auto row = store::find_campaign_row(c, id);
    if (!row || (scope.owner && row->campaign.created_by != *scope.owner)) service::not_found<Campaign>(id);
    return std::move(*row);
}

}  // namespace

std::int64_t Campaigns::create(const Principal& who, Campaign value) {
    who.require("campaign_create");
    check_values(value);
    model::validate_fields(value, model::ValidationMode::create);
    service::set_owner(value, who.user_id());
    value.status = std::string(status::fresh);
    value.reason.reset();
    value.contact_done = value.completed = value.failed = 0;
    value.time_created = engine::unix_now();
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->write([&](store::Connection& c) {
        check_references(c, who, scope, value);
        value.contact_total = store::group_size(c, value.group_id);
        return store::Table<Campaign>::insert(c, value);
    });
}

Campaign Campaigns::update(const Principal& who, std::int64_t id, const std::function<void(Campaign&)>& change) {
    who.require("campaign_update");
    const auto scope = detail::CoreState::scope_of(who);
    auto updated = state_.store->write([&](store::Connection& c) {
        const auto row = visible_row(c, id, scope);
        const Campaign& before = row.campaign;
        Campaign after = before;
        change(after);
        service::keep_protected(after, before);
        check_values(after);
        model::validate_fields(after, model::ValidationMode::update);
        const bool retargeted = after.program_id != before.program_id || after.group_id != before.group_id ||
                                after.account_id != before.account_id;
        if (retargeted) {
            if (before.status == status::running || before.status == status::completed) {
                throw Error(Errc::locked, fmt::format("campaign {} is {}: its program, group and account cannot change",
                                                      id, before.status));
            }
            check_references(c, who, scope, after);
            if (after.group_id != before.group_id) {
                after.contact_total = row.sent + store::count_unreached(c, id, after.group_id);
            }
        }
        store::Table<Campaign>::update(c, after);
        return service::find_or_throw<Campaign>(c, id, scope);
    });
    state_.engine->campaign_changed(id);
    return updated;
}

void Campaigns::remove(const Principal& who, std::int64_t id) {
    who.require("campaign_delete");
    const auto scope = detail::CoreState::scope_of(who);
    state_.store->write([&](store::Connection& c) {
        service::find_or_throw<Campaign>(c, id, scope);
        store::delete_campaign_schedules(c, id, std::nullopt);
        store::detach_campaign_transmissions(c, id);
        store::Table<Campaign>::erase(c, id, scope);
        state_.engine->set_campaign_running(id, false);  // last: nothing after it can fail
    });
    state_.engine->campaign_stopped(id);
}

void Campaigns::start(const Principal& who, std::int64_t id) {
    who.require("campaign_start");
    const auto scope = detail::CoreState::scope_of(who);
    const auto refusal = state_.store->write([&](store::Connection& c) {
        const auto row = visible_row(c, id, scope);
        return engine::begin_running(c, row, *state_.engine);
    });
    if (refusal) {
        state_.engine->campaign_changed(id);
        throw Error(refusal->code, refusal->message);
    }
    state_.engine->campaign_started(id);
}

void Campaigns::stop(const Principal& who, std::int64_t id) {
    who.require("campaign_stop");
    const auto scope = detail::CoreState::scope_of(who);
    state_.store->write([&](store::Connection& c) {
        const Campaign cp = service::find_or_throw<Campaign>(c, id, scope);
        if (cp.status == status::paused) return;
        if (!engine::pause_running(c, id, *state_.engine)) {
            throw Error(Errc::locked, fmt::format("campaign {} is {}: it is not running", id, cp.status));
        }
    });
    state_.engine->campaign_stopped(id);
}

std::int64_t Campaigns::schedule_start(const Principal& who, std::int64_t id, const ScheduleSpec& spec) {
    return add_schedule(who, id, spec, "campaign_start");
}

std::int64_t Campaigns::schedule_stop(const Principal& who, std::int64_t id, const ScheduleSpec& spec) {
    return add_schedule(who, id, spec, "campaign_stop");
}

std::int64_t Campaigns::add_schedule(const Principal& who, std::int64_t id, const ScheduleSpec& spec,
                                     std::string_view action) {
    who.require("campaign_schedule");
    const auto scope = detail::CoreState::scope_of(who);
    const auto when = service::first_fire(spec);
    const auto schedule_id = state_.store->write([&](store::Connection& c) {
        const Campaign cp = service::find_or_throw<Campaign>(c, id, scope);
        if (cp.status == status::completed) {
            throw Error(Errc::locked, fmt::format("campaign {} is completed: there is nothing to schedule", id));
        }
        store::delete_campaign_schedules(c, id, action);
        auto row = store::schedule_row(std::string(action), spec, when, cp.created_by);
        row.campaign_id = id;
        return store::insert_schedule(c, row);
    });
    state_.engine->arm_schedule(schedule_id, when);
    return schedule_id;
}

void Campaigns::unschedule(const Principal& who, std::int64_t id) {
    who.require("campaign_schedule");
    const auto scope = detail::CoreState::scope_of(who);
    state_.store->write([&](store::Connection& c) {
        service::find_or_throw<Campaign>(c, id, scope);
        if (store::delete_campaign_schedules(c, id, std::nullopt) == 0) {
            throw Error(Errc::not_found, fmt::format("campaign {} has no schedule", id));
        }
    });
}

void Campaigns::on_progress(ProgressListener listener) { state_.engine->set_progress_listener(std::move(listener)); }

}  // namespace ictcore

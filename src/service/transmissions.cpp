// Transmissions: creation with the program's defaults, and the actions that begin attempts
// (send, retry, schedules). Each action commits its state change before the engine hears of it.
#include <ictcore/account.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/program.hpp>
#include <ictcore/service_flag.hpp>
#include <ictcore/transmissions.hpp>

#include "engine/attempt.hpp"
#include "model/validation_impl.hpp"
#include "service/message_media.hpp"
#include "service/service_support.hpp"
#include "store/delivery_queries.hpp"
#include "store/inbound_queries.hpp"
#include "store/queries.hpp"

namespace ictcore {

namespace {

namespace status = transmission_status;

void require_state(const Transmission& t, std::string_view action) {
    if (t.campaign_id) {
        throw Error(Errc::locked, fmt::format("transmission {} belongs to campaign {}: only the campaign sends it",
                                              t.transmission_id, *t.campaign_id));
    }
    if (t.status == status::processing || t.status == status::completed || t.status == status::invalid) {
        throw Error(Errc::locked,
                    fmt::format("transmission {} is {}: it cannot be {}", t.transmission_id, t.status, action));
    }
}

template <class Entity>
std::vector<Entity> collect(Cursor<Entity> cursor) {
    std::vector<Entity> rows;
    Entity row;
    while (cursor.next(row)) rows.push_back(row);
    return rows;
}

}  // namespace

namespace {

// Checks what can be checked without the database and sets what the caller may not choose.
void prepare(const Principal& who, Transmission& value) {
    if (value.contact_id <= 0) throw Error(Errc::invalid, "contact_id is required");
    if (value.program_id <= 0) throw Error(Errc::invalid, "program_id is required");
    if (value.try_allowed < 1 || value.try_allowed > 100)
        throw Error(Errc::invalid, "try_allowed must be from 1 to 100");
    if (value.direction.empty()) value.direction = "outbound";
    if (value.direction != "outbound") {
        throw Error(Errc::invalid, "direction must be outbound: inbound transmissions are created on receipt");
    }
    model::validate_fields(value, model::ValidationMode::create);
    service::set_owner(value, who.user_id());
    value.status = std::string(status::pending);
    value.try_done = 0;
    value.time_created = engine::unix_now();
}

// Fills the program's defaults and the caller's account, checking that the program, contact
// and account are the caller's, and stores the row. Inside a write transaction.
std::int64_t insert(store::Connection& c, const Principal& who, const store::Scope& scope, Transmission& value,
                    engine::LoadCache* cache = nullptr) {
    const auto program = engine::find_cached(c, value.program_id, scope, cache ? &cache->programs : nullptr);
    if (!program) throw Error(Errc::invalid, fmt::format("program {} not found", value.program_id));
    if (program->direction != "outbound") {
        throw Error(Errc::invalid, fmt::format("program {} ({}) handles received messages; it cannot be sent",
                                               program->program_id, program->type));
    }
    if (!store::Table<Contact>::exists(c, value.contact_id, scope)) {
        throw Error(Errc::invalid, fmt::format("contact {} not found", value.contact_id));
    }
    if (value.title.empty()) value.title = program->name;
    if (value.origin.empty()) value.origin = program->type;
    if (value.service_flag == 0) value.service_flag = program->service_flag;
    if (value.service_flag != program->service_flag) {
        throw Error(Errc::invalid,
                    fmt::format("service_flag {} does not match program {} ({}, service_flag {})", value.service_flag,
                                program->program_id, program->type, program->service_flag));
    }
    if (value.account_id == 0) {
        const auto account = store::default_account_id(c, who.user_id());
        if (!account) throw Error(Errc::invalid, "account_id is required: you have no active account");
        value.account_id = *account;
    } else if (!store::Table<Account>::exists(c, value.account_id, scope)) {
        throw Error(Errc::invalid, fmt::format("account {} not found", value.account_id));
    }
    return store::Table<Transmission>::insert(c, value);
}

// Runs `f` for a row of a bulk call, naming the row in the error it throws.
template <class F>
auto for_row(std::size_t index, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const Error& e) {
        throw Error(e.code(), fmt::format("row {}: {}", index, e.what()));
    }
}

}  // namespace

std::int64_t Transmissions::create(const Principal& who, Transmission value) {
    who.require("transmission_create");
    prepare(who, value);
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->write([&](store::Connection& c) { return insert(c, who, scope, value); });
}

std::vector<std::int64_t> Transmissions::create_many(const Principal& who, std::vector<Transmission> values) {
    who.require("transmission_create");
    for (std::size_t i = 0; i < values.size(); ++i) for_row(i, [&] { prepare(who, values[i]); });
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->write([&](store::Connection& c) {
        std::vector<std::int64_t> ids;
        ids.reserve(values.size());
        engine::LoadCache cache;
        for (std::size_t i = 0; i < values.size(); ++i) {
            ids.push_back(for_row(i, [&] { return insert(c, who, scope, values[i], &cache); }));
        }
        return ids;
    });
}

namespace {

// Begins an attempt, for the caller, on each transmission: state and provider checks, then
// the committed spools — all or none.
std::vector<engine::Attempt> begin_for(detail::CoreState& state, const Principal& who,
                                       const std::vector<std::int64_t>& ids, std::string_view action) {
    const auto scope = detail::CoreState::scope_of(who);
    return state.store->write([&](store::Connection& c) {
        std::vector<engine::Attempt> attempts;
        attempts.reserve(ids.size());
        const auto now = engine::unix_now();
        engine::LoadCache cache;
        for (const auto id : ids) {
            Transmission t = service::find_or_throw<Transmission>(c, id, scope);
            require_state(t, action);
            if (!state.engine->serves(t.service_flag)) {
                throw Error(Errc::locked, fmt::format("no active provider serves {}", service::name(t.service_flag)));
            }
            attempts.push_back(engine::begin_attempt(c, state.media, std::move(t), now, &cache));
        }
        return attempts;
    });
}

}  // namespace

std::int64_t Transmissions::send(const Principal& who, std::int64_t id) { return start(who, id, "send", "sent"); }

std::int64_t Transmissions::retry(const Principal& who, std::int64_t id) { return start(who, id, "retry", "retried"); }

std::int64_t Transmissions::start(const Principal& who, std::int64_t id, std::string_view action,
                                  std::string_view done) {
    who.require(fmt::format("transmission_{}", action));
    auto attempts = begin_for(state_, who, {id}, done);
    const auto spool_id = attempts.front().delivery.spool_id;
    state_.engine->submit(std::move(attempts.front()));
    return spool_id;
}

std::vector<std::int64_t> Transmissions::send_many(const Principal& who, const std::vector<std::int64_t>& ids) {
    who.require("transmission_send");
    auto attempts = begin_for(state_, who, ids, "sent");
    std::vector<std::int64_t> spools;
    spools.reserve(attempts.size());
    for (auto& a : attempts) {
        spools.push_back(a.delivery.spool_id);
        state_.engine->submit(std::move(a));
    }
    return spools;
}

std::int64_t Transmissions::schedule(const Principal& who, std::int64_t id, const ScheduleSpec& spec) {
    who.require("transmission_schedule");
    const auto scope = detail::CoreState::scope_of(who);
    const auto when = service::first_fire(spec);
    const auto schedule_id = state_.store->write([&](store::Connection& c) {
        const Transmission t = service::find_or_throw<Transmission>(c, id, scope);
        // A recurring schedule may hang on a finished transmission: each firing sends a copy
        // (but a campaign's own transmissions are sent by the campaign alone).
        if (!spec.recurring() || t.campaign_id) require_state(t, "scheduled");
        if (t.status == status::invalid) require_state(t, "scheduled");
        store::delete_transmission_schedules(c, id);
        auto row = store::schedule_row("send", spec, when, t.created_by);
        row.transmission_id = id;
        return store::insert_schedule(c, row);
    });
    state_.engine->arm_schedule(schedule_id, when);
    return schedule_id;
}

void Transmissions::unschedule(const Principal& who, std::int64_t id) {
    who.require("transmission_schedule");
    const auto scope = detail::CoreState::scope_of(who);
    state_.store->write([&](store::Connection& c) {
        service::find_or_throw<Transmission>(c, id, scope);
        if (store::delete_transmission_schedules(c, id) == 0) {
            throw Error(Errc::not_found, fmt::format("transmission {} has no schedule", id));
        }
    });
}

std::int64_t Transmissions::clone(const Principal& who, std::int64_t id) {
    who.require("transmission_create");
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->write([&](store::Connection& c) {
        const Transmission t = service::find_or_throw<Transmission>(c, id, scope);
        return engine::clone_transmission(c, t, engine::unix_now());
    });
}

void Transmissions::remove(const Principal& who, std::int64_t id) {
    who.require("transmission_delete");
    const auto scope = detail::CoreState::scope_of(who);
    const auto received = state_.store->write([&](store::Connection& c) {
        const Transmission t = service::find_or_throw<Transmission>(c, id, scope);
        // Its campaign would otherwise reach the contact again.
        if (t.campaign_id) {
            throw Error(Errc::locked, fmt::format("transmission {} belongs to campaign {}: delete the campaign instead",
                                                  id, *t.campaign_id));
        }
        auto spools = store::inbound_spools_of_transmission(c, id);
        store::Table<Transmission>::erase(c, id, scope);
        return spools;
    });
    // Attachments of a received e-mail go with it, once its rows are gone.
    for (const auto spool_id : received) state_.media.remove_all(service::inbound_dir, spool_id);
}

std::string Transmissions::status(const Principal& who, std::int64_t id) { return get(who, id).status; }

std::vector<Spool> Transmissions::detail(const Principal& who, std::int64_t id) {
    get(who, id);
    who.require("spool_read");
    ListQuery q;
    q.filters.emplace_back("transmission_id", std::to_string(id));
    return collect(store::Table<Spool>::list(state_.store->borrow(), q, detail::CoreState::scope_of(who)));
}

std::vector<SpoolResult> Transmissions::result(const Principal& who, std::int64_t id) {
    get(who, id);
    who.require("spool_read");
    const store::Join join{"JOIN spool ON spool.spool_id = spool_result.spool_id AND spool.transmission_id = ?", id};
    return collect(
        store::Table<SpoolResult>::list(state_.store->borrow(), ListQuery{}, detail::CoreState::scope_of(who), join));
}

Spool Transmissions::spool(const Principal& who, std::int64_t spool_id) {
    who.require("spool_read");
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->read([&](store::Connection& c) { return service::find_or_throw<Spool>(c, spool_id, scope); });
}

std::vector<SpoolResult> Transmissions::spool_result(const Principal& who, std::int64_t spool_id) {
    spool(who, spool_id);
    ListQuery q;
    q.filters.emplace_back("spool_id", std::to_string(spool_id));
    return collect(store::Table<SpoolResult>::list(state_.store->borrow(), q, detail::CoreState::scope_of(who)));
}

}  // namespace ictcore

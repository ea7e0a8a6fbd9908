// Helpers shared by the services: permission names, ownership, not-found errors.
#pragma once

#include "core_state.hpp"

#include <ictcore/error.hpp>
#include <ictcore/field.hpp>
#include <ictcore/schedule_spec.hpp>

#include <fmt/format.h>

namespace ictcore::service {

template <class Entity>
std::string permission(std::string_view action) {
    return fmt::format("{}_{}", Describe<Entity>::entity, action);
}

template <class Entity>
[[noreturn]] void not_found(std::int64_t id) {
    throw Error(Errc::not_found, fmt::format("{} {} not found", Describe<Entity>::entity, id));
}

template <class Entity>
void set_owner(Entity& value, std::int64_t user_id) {
    for_each_field<Entity>([&](const auto& f) {
        using M = std::decay_t<decltype(value.*(f.member))>;
        if constexpr (std::is_same_v<M, std::int64_t> || std::is_same_v<M, std::optional<std::int64_t>>) {
            if (f.has(field::owner)) value.*(f.member) = user_id;
        }
    });
}

// Copies the fields a caller may not change (key, owner, computed) from `from` to `to`.
template <class Entity>
void keep_protected(Entity& to, const Entity& from) {
    for_each_field<Entity>([&](const auto& f) {
        if (!f.is_input()) to.*(f.member) = from.*(f.member);
    });
}

// When a schedule made now first fires; Error(invalid) when it never does.
inline std::int64_t first_fire(const ScheduleSpec& spec) {
    const auto when = spec.recurring() ? next_fire(spec, unix_now()) : std::optional<std::int64_t>(spec.at);
    if (!when) throw Error(Errc::invalid, "the schedule never fires");
    return *when;
}

template <class Entity>
Entity find_or_throw(store::Connection& c, std::int64_t id, const store::Scope& scope) {
    auto found = store::Table<Entity>::find(c, id, scope);
    if (!found) not_found<Entity>(id);
    return std::move(*found);
}

}  // namespace ictcore::service

// Users: password hashing, role and permission grants, and the rule that a user may read
// and update itself. Grants are limited to what the granting user holds, so no one can hand
// out more than they have.
#include <ictcore/users.hpp>

#include "model/validation_impl.hpp"
#include "service/message_media.hpp"
#include "service/service_support.hpp"
#include "store/queries.hpp"

namespace ictcore {

namespace {

void check_username(const User& u) {
    if (!model::valid_username(u.username)) {
        throw Error(Errc::invalid, "username must be 1 to 64 letters, digits or . _ - @");
    }
}

void check_password(std::string_view password) {
    if (password.size() < 8) throw Error(Errc::invalid, "passwd must be at least 8 characters");
}

// Non-admins may grant only permissions they hold themselves.
void require_grantable(const Principal& who, const std::vector<std::string>& names) {
    if (who.admin()) return;
    for (const auto& name : names) {
        if (!who.can(name)) throw Error(Errc::forbidden, "cannot grant " + name + ", which you do not hold");
    }
}

}  // namespace

std::int64_t Users::create(const Principal& who, User value, std::optional<std::int64_t> role_id) {
    who.require("user_create");
    model::validate_fields(value, model::ValidationMode::create);
    check_username(value);
    check_password(value.passwd);
    value.passwd = state_.hasher.hash(value.passwd);
    service::set_owner(value, who.user_id());
    const auto id = state_.store->write([&](store::Connection& c) {
        const auto role = role_id ? role_id : store::role_id_by_name(c, "user");
        if (!role || !store::role_name(c, *role)) throw Error(Errc::invalid, "role_id does not name a role");
        if (store::role_name(c, *role) == "admin" && !who.admin()) {
            throw Error(Errc::forbidden, "only an admin can create an admin");
        }
        require_grantable(who, store::role_permission_names(c, *role));
        const auto user_id = store::insert_user(c, value);
        store::grant_role(c, user_id, *role);
        // Every user gets a sending identity named and addressed like itself.
        store::insert_default_account(c, user_id, value.username, value.first_name, value.last_name, value.phone,
                                      value.email);
        return user_id;
    });
    return id;
}

User Users::get(const Principal& who, std::int64_t id) {
    if (id != who.user_id()) return EntityService<User>::get(who, id);
    return state_.store->read([&](store::Connection& c) { return service::find_or_throw<User>(c, id, {}); });
}

User Users::update(const Principal& who, std::int64_t id, const std::function<void(User&)>& change) {
    const bool self = id == who.user_id();
    if (!self) who.require("user_update");
    const auto scope = self ? store::Scope{} : detail::CoreState::scope_of(who);
    // Hash a new password before entering the write transaction: argon2id is slow on purpose
    // and must not hold up every other writer.
    User probe;
    change(probe);
    std::optional<std::string> new_hash;
    if (!probe.passwd.empty()) {
        check_password(probe.passwd);
        new_hash = state_.hasher.hash(probe.passwd);
    }
    auto updated = state_.store->write([&](store::Connection& c) {
        const User before = service::find_or_throw<User>(c, id, scope);
        User after = before;
        change(after);
        service::keep_protected(after, before);
        if (self && after.active != before.active && !who.can("user_update")) {
            throw Error(Errc::forbidden, "a user cannot change its own active flag");
        }
        if (self && after.active == 0) throw Error(Errc::invalid, "a user cannot disable itself");
        model::validate_fields(after, model::ValidationMode::update);
        check_username(after);
        if (!after.passwd.empty()) {
            if (!new_hash || after.passwd != probe.passwd) throw Error(Errc::internal, "password changed twice");
            after.passwd = *new_hash;
        }
        store::Table<User>::update(c, after);
        return service::find_or_throw<User>(c, id, scope);
    });
    state_.principals.clear();
    return updated;
}

void Users::remove(const Principal& who, std::int64_t id) {
    who.require("user_delete");
    if (id == who.user_id()) throw Error(Errc::invalid, "a user cannot delete itself");
    const auto scope = detail::CoreState::scope_of(who);
    // The user's rows go by cascade in the same transaction; their media files once it commits.
    const auto media = state_.store->write([&](store::Connection& c) {
        auto files = service::owned_media(c, id);
        if (!store::Table<User>::erase(c, id, scope)) service::not_found<User>(id);
        return files;
    });
    for (const auto& [kind, message_id] : media) state_.media.remove_all(kind, message_id);
    state_.principals.clear();
}

namespace {

template <class Grant>
User change_grant(detail::CoreState& state, const Principal& who, std::int64_t user_id, Grant grant) {
    who.require("user_update");
    const auto scope = detail::CoreState::scope_of(who);
    auto user = state.store->write([&](store::Connection& c) {
        auto u = service::find_or_throw<User>(c, user_id, scope);
        grant(c);
        return u;
    });
    state.principals.clear();
    return user;
}

std::string existing_role(store::Connection& c, std::int64_t role_id) {
    auto name = store::role_name(c, role_id);
    if (!name) throw Error(Errc::not_found, fmt::format("role {} not found", role_id));
    return *name;
}

std::string existing_permission(store::Connection& c, std::int64_t permission_id) {
    auto name = store::permission_name(c, permission_id);
    if (!name) throw Error(Errc::not_found, fmt::format("permission {} not found", permission_id));
    return *name;
}

}  // namespace

User Users::add_role(const Principal& who, std::int64_t user_id, std::int64_t role_id) {
    return change_grant(state_, who, user_id, [&](store::Connection& c) {
        if (existing_role(c, role_id) == "admin" && !who.admin()) {
            throw Error(Errc::forbidden, "only an admin can grant the admin role");
        }
        require_grantable(who, store::role_permission_names(c, role_id));
        store::grant_role(c, user_id, role_id);
    });
}

User Users::remove_role(const Principal& who, std::int64_t user_id, std::int64_t role_id) {
    return change_grant(state_, who, user_id, [&](store::Connection& c) {
        existing_role(c, role_id);
        if (user_id == who.user_id() && existing_role(c, role_id) == "admin") {
            throw Error(Errc::invalid, "an admin cannot remove its own admin role");
        }
        store::revoke_role(c, user_id, role_id);
    });
}

User Users::add_permission(const Principal& who, std::int64_t user_id, std::int64_t permission_id) {
    return change_grant(state_, who, user_id, [&](store::Connection& c) {
        require_grantable(who, {existing_permission(c, permission_id)});
        store::grant_permission(c, user_id, permission_id);
    });
}

User Users::remove_permission(const Principal& who, std::int64_t user_id, std::int64_t permission_id) {
    return change_grant(state_, who, user_id, [&](store::Connection& c) {
        existing_permission(c, permission_id);
        store::revoke_permission(c, user_id, permission_id);
    });
}

std::vector<Role> Users::roles(const Principal& who) {
    who.require("role_read");
    return store::Table<Role>::list(state_.store->borrow(), {}, {}).all();
}

std::vector<Permission> Users::permissions(const Principal& who) {
    who.require("permission_read");
    return store::Table<Permission>::list(state_.store->borrow(), {}, {}).all();
}

}  // namespace ictcore

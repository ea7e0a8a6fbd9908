// Accounts: secrets hashed before they are stored, the account type, ownership moves and
// program subscriptions on top of the generic entity service.
#include <ictcore/accounts.hpp>

#include "model/validation_impl.hpp"
#include "service/service_support.hpp"
#include "store/queries.hpp"

#include <ictcore/program.hpp>
#include <ictcore/user.hpp>

#include <algorithm>
#include <array>

namespace ictcore {

namespace {

void check_type(const Account& a) {
    static constexpr std::array<std::string_view, 4> types{"account", "extension", "did", "eaddress"};
    if (std::find(types.begin(), types.end(), a.type) == types.end()) {
        throw Error(Errc::invalid, "type must be one of account, extension, did, eaddress");
    }
}

void check_passwd(std::string_view passwd) {
    if (passwd.size() < 8) throw Error(Errc::invalid, "passwd must be at least 8 characters");
}

void check_pin(std::string_view pin) {
    if (pin.size() < 4 || pin.size() > 12 || pin.find_first_not_of("0123456789") != std::string_view::npos) {
        throw Error(Errc::invalid, "passwd_pin must be 4 to 12 digits");
    }
}

bool has_text(const std::optional<std::string>& v) { return v && !v->empty(); }

// The argon2id hashes of the secrets `value` carries (nullopt for a secret it does not set),
// after checking them. Called outside any write transaction: hashing is slow on purpose.
struct Hashes {
    std::optional<std::string> passwd;
    std::optional<std::string> passwd_pin;
};

Hashes hash_secrets(auth::PasswordHasher& hasher, const Account& value) {
    Hashes h;
    if (has_text(value.passwd)) check_passwd(*value.passwd);
    if (has_text(value.passwd_pin)) check_pin(*value.passwd_pin);
    if (has_text(value.passwd)) h.passwd = hasher.hash(*value.passwd);
    if (has_text(value.passwd_pin)) h.passwd_pin = hasher.hash(*value.passwd_pin);
    return h;
}

void require_user(store::Connection& c, std::int64_t user_id, Errc code) {
    if (!store::Table<User>::exists(c, user_id, {})) {
        throw Error(code, fmt::format("user {} not found", user_id));
    }
}

}  // namespace

std::int64_t Accounts::create(const Principal& who, Account value, std::optional<std::int64_t> for_user) {
    who.require("account_create");
    if (for_user && *for_user != who.user_id() && !who.admin()) {
        throw Error(Errc::forbidden, "only an admin can create an account for another user");
    }
    model::validate_fields(value, model::ValidationMode::create);
    check_type(value);
    const Hashes hashes = hash_secrets(state_.hasher, value);
    value.passwd = hashes.passwd;
    value.passwd_pin = hashes.passwd_pin;
    service::set_owner(value, who.user_id());
    if (for_user) value.user_id = *for_user;
    return state_.store->write([&](store::Connection& c) {
        if (for_user) require_user(c, *for_user, Errc::invalid);
        return store::Table<Account>::insert(c, value);
    });
}

Account Accounts::update(const Principal& who, std::int64_t id, const std::function<void(Account&)>& change) {
    who.require("account_update");
    const auto scope = detail::CoreState::scope_of(who);
    // Check and hash new secrets before entering the write transaction (see Users::update).
    Account probe;
    change(probe);
    const Hashes hashes = hash_secrets(state_.hasher, probe);
    return state_.store->write([&](store::Connection& c) {
        const Account before = service::find_or_throw<Account>(c, id, scope);
        Account after = before;
        change(after);
        service::keep_protected(after, before);
        model::validate_fields(after, model::ValidationMode::update);
        check_type(after);
        // Secrets are never read back, so `before` holds none: unset ones keep the stored hash.
        after.passwd = hashes.passwd;
        after.passwd_pin = hashes.passwd_pin;
        store::Table<Account>::update(c, after);
        return service::find_or_throw<Account>(c, id, scope);
    });
}

std::optional<Account> Accounts::default_for(const Principal& who) {
    return state_.store->read([&](store::Connection& c) -> std::optional<Account> {
        const auto id = store::default_account_id(c, who.user_id());
        if (!id) return std::nullopt;
        return store::Table<Account>::find(c, *id, {});
    });
}

namespace {

template <class Change>
Account change_subscription(detail::CoreState& state, const Principal& who, std::int64_t account_id,
                            std::optional<std::int64_t> program_id, Change change) {
    who.require("account_update");
    const auto scope = detail::CoreState::scope_of(who);
    return state.store->write([&](store::Connection& c) {
        auto account = service::find_or_throw<Account>(c, account_id, scope);
        if (program_id && !store::Table<Program>::exists(c, *program_id, scope)) {
            service::not_found<Program>(*program_id);
        }
        change(c);
        return account;
    });
}

}  // namespace

Account Accounts::subscribe(const Principal& who, std::int64_t account_id, std::int64_t program_id) {
    return change_subscription(state_, who, account_id, program_id,
                               [&](store::Connection& c) { store::link_account_program(c, account_id, program_id); });
}

Account Accounts::unsubscribe(const Principal& who, std::int64_t account_id, std::int64_t program_id) {
    return change_subscription(state_, who, account_id, program_id,
                               [&](store::Connection& c) { store::unlink_account_program(c, account_id, program_id); });
}

Account Accounts::unsubscribe_all(const Principal& who, std::int64_t account_id) {
    return change_subscription(state_, who, account_id, std::nullopt,
                               [&](store::Connection& c) { store::unlink_account_programs(c, account_id); });
}

std::vector<std::int64_t> Accounts::programs(const Principal& who, std::int64_t account_id) {
    who.require("account_read");
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->read([&](store::Connection& c) {
        if (!store::Table<Account>::exists(c, account_id, scope)) service::not_found<Account>(account_id);
        return store::account_program_ids(c, account_id, scope.owner);
    });
}

Account Accounts::assign(const Principal& who, std::int64_t account_id, std::optional<std::int64_t> user_id) {
    who.require("account_update");
    if (!who.admin() && user_id != who.user_id()) {
        throw Error(Errc::forbidden, user_id ? "only an admin can move an account to another user"
                                             : "only an admin can free an account");
    }
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->write([&](store::Connection& c) {
        if (!store::Table<Account>::exists(c, account_id, scope)) service::not_found<Account>(account_id);
        if (user_id) require_user(c, *user_id, Errc::not_found);
        store::set_account_user(c, account_id, user_id);
        return service::find_or_throw<Account>(c, account_id, scope);
    });
}

}  // namespace ictcore

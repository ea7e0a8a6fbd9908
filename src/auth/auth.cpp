// Auth service: login, token and Basic verification, principal loading with a cache.
#include "core_state.hpp"
#include "store/queries.hpp"

#include <ictcore/error.hpp>

namespace ictcore {

namespace {
[[noreturn]] void bad_credentials() { throw Error(Errc::unauthenticated, "invalid username or password"); }
}  // namespace

Principal Auth::principal(std::int64_t user_id) {
    if (auto cached = state_.principals.find(user_id)) return *cached;
    auto row = state_.store->read([&](store::Connection& c) { return store::principal_row(c, user_id); });
    if (!row || !row->active) throw Error(Errc::unauthenticated, "the user does not exist or is disabled");
    auto p = std::make_shared<const Principal>(user_id, row->username, row->admin, std::move(row->permissions));
    state_.principals.put(user_id, p);
    return *p;
}

Token Auth::login(std::string_view username, std::string_view password, std::string_view client) {
    if (username.empty() || password.empty()) throw Error(Errc::unauthenticated, "username and password are required");
    const Principal who = from_password(username, password, client);
    Token t;
    t.user_id = who.user_id();
    t.expires_in = state_.options.token_lifetime;
    t.token = state_.signer.issue(who.user_id(), state_.options.token_lifetime);
    return t;
}

Principal Auth::from_token(std::string_view token) {
    const std::string key(token);
    if (auto id = state_.principals.find_token(key)) return principal(*id);
    const auto verified = state_.signer.verify(token);
    state_.principals.put_token(key, verified.user_id, verified.expires);
    return principal(verified.user_id);
}

Principal Auth::from_password(std::string_view username, std::string_view password, std::string_view client) {
    if (username.size() > 256 || password.size() > 1024) bad_credentials();
    // Checked before anything else, the cache included: a guess must not be told apart by speed.
    state_.login_throttle.check(username, client);
    std::string key(username);
    key += '\0';
    key += password;
    const std::string digest = state_.signer.keyed_digest(key);
    if (auto id = state_.principals.find_basic(digest)) return principal(*id);

    auto creds = state_.store->read([&](store::Connection& c) { return store::credentials_by_username(c, username); });
    if (!creds) {
        state_.hasher.verify_dummy(password);
        state_.login_throttle.failed(username, client);
        bad_credentials();
    }
    if (!state_.hasher.verify(creds->password_hash, password) || !creds->active) {
        state_.login_throttle.failed(username, client);
        bad_credentials();
    }
    state_.login_throttle.succeeded(username);
    state_.principals.put_basic(digest, creds->user_id);
    return principal(creds->user_id);
}

}  // namespace ictcore

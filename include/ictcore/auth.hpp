// Auth: passwords to tokens, and tokens or Basic credentials to a Principal.
#pragma once

#include <ictcore/principal.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace ictcore {

namespace detail {
struct CoreState;
}

struct Token {
    std::string token;
    std::int64_t user_id = 0;
    std::chrono::seconds expires_in{0};
};

class Auth {
public:
    explicit Auth(detail::CoreState& state) : state_(state) {}

    // Checks the password of an active user and issues a signed token (HS256 JWT). `client`
    // (the caller's address, when known) counts towards the failed-login throttle as well as
    // the username: past a few failures each must wait longer before it may try again
    // (Error(too_many_requests) with retry_after), even with the right password.
    Token login(std::string_view username, std::string_view password, std::string_view client = {});
    // Verifies signature, algorithm, `nbf` and `exp`; throws Error(unauthenticated).
    Principal from_token(std::string_view token);
    Principal from_password(std::string_view username, std::string_view password, std::string_view client = {});
    // For embedding programs that have authenticated the user themselves.
    Principal principal(std::int64_t user_id);

private:
    detail::CoreState& state_;
};

}  // namespace ictcore

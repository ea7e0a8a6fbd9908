// Account: a sending identity of a user — the username, phone and e-mail address deliveries
// go out as. Every user gets one at creation; an account can be moved to another user or
// freed (no user: only admins see it). Programs can be subscribed to accounts.
#pragma once

#include <ictcore/field.hpp>

namespace ictcore {

struct Account {
    std::int64_t account_id = 0;
    std::string type = "account";
    std::string username;
    std::optional<std::string> passwd;      // input only; stored as an argon2id hash
    std::optional<std::string> passwd_pin;  // input only; stored as an argon2id hash
    std::optional<std::string> first_name;
    std::optional<std::string> last_name;
    std::optional<std::string> phone;
    std::optional<std::string> email;
    std::optional<std::string> address;
    std::int64_t active = 1;
    std::optional<std::int64_t> user_id;  // the owner; none when the account is free
};

template <>
struct Describe<Account> {
    static constexpr std::string_view entity = "account";
    static constexpr std::string_view table = "account";
    static constexpr std::string_view id = "account_id";
    using A = Account;
    static constexpr auto fields =
        std::make_tuple(Field<A, std::int64_t>{"account_id", &A::account_id, field::key},
                        Field<A, std::string>{"type", &A::type, field::none, -1, 32},
                        Field<A, std::string>{"username", &A::username, field::required, -1, 128},
                        Field<A, std::optional<std::string>>{"passwd", &A::passwd, field::secret, -1, 1024},
                        Field<A, std::optional<std::string>>{"passwd_pin", &A::passwd_pin, field::secret, -1, 1024},
                        Field<A, std::optional<std::string>>{"first_name", &A::first_name},
                        Field<A, std::optional<std::string>>{"last_name", &A::last_name},
                        Field<A, std::optional<std::string>>{"phone", &A::phone, field::phone, -1, 32},
                        Field<A, std::optional<std::string>>{"email", &A::email, field::email},
                        Field<A, std::optional<std::string>>{"address", &A::address, field::none, -1, 1024},
                        Field<A, std::int64_t>{"active", &A::active, field::boolean},
                        Field<A, std::optional<std::int64_t>>{"user_id", &A::user_id, field::owner});
};

}  // namespace ictcore

// User, Role and Permission: who may call the API and what they may do.
// Permission names are `<resource>_<action>`; holding a prefix grants every longer name.
#pragma once

#include <ictcore/field.hpp>

namespace ictcore {

struct User {
    std::int64_t user_id = 0;
    std::string username;
    std::string passwd;  // plain text on input only; the store keeps an argon2id hash
    std::optional<std::string> first_name;
    std::optional<std::string> last_name;
    std::optional<std::string> phone;
    std::optional<std::string> email;
    std::optional<std::string> address;
    std::optional<std::string> company;
    std::optional<std::int64_t> country_id;
    std::optional<std::int64_t> timezone_id;
    std::int64_t active = 1;
    std::int64_t created_by = 0;
};

template <>
struct Describe<User> {
    static constexpr std::string_view entity = "user";
    static constexpr std::string_view table = "usr";
    static constexpr std::string_view id = "user_id";
    using U = User;
    static constexpr auto fields =
        std::make_tuple(Field<U, std::int64_t>{"user_id", &U::user_id, field::key},
                        Field<U, std::string>{"username", &U::username, field::required | field::unique, -1, 64},
                        Field<U, std::string>{"passwd", &U::passwd, field::required | field::secret, -1, 1024},
                        Field<U, std::optional<std::string>>{"first_name", &U::first_name},
                        Field<U, std::optional<std::string>>{"last_name", &U::last_name},
                        Field<U, std::optional<std::string>>{"phone", &U::phone, field::phone, -1, 32},
                        Field<U, std::optional<std::string>>{"email", &U::email, field::email},
                        Field<U, std::optional<std::string>>{"address", &U::address, field::none, -1, 1024},
                        Field<U, std::optional<std::string>>{"company", &U::company},
                        Field<U, std::optional<std::int64_t>>{"country_id", &U::country_id},
                        Field<U, std::optional<std::int64_t>>{"timezone_id", &U::timezone_id},
                        Field<U, std::int64_t>{"active", &U::active, field::boolean},
                        Field<U, std::int64_t>{"created_by", &U::created_by, field::owner});
};

struct Role {
    std::int64_t role_id = 0;
    std::string name;
    std::optional<std::string> description;
};

template <>
struct Describe<Role> {
    static constexpr std::string_view entity = "role";
    static constexpr std::string_view table = "role";
    static constexpr std::string_view id = "role_id";
    static constexpr auto fields =
        std::make_tuple(Field<Role, std::int64_t>{"role_id", &Role::role_id, field::key},
                        Field<Role, std::string>{"name", &Role::name, field::required | field::unique, -1, 64},
                        Field<Role, std::optional<std::string>>{"description", &Role::description});
};

struct Permission {
    std::int64_t permission_id = 0;
    std::string name;
    std::optional<std::string> description;
};

template <>
struct Describe<Permission> {
    static constexpr std::string_view entity = "permission";
    static constexpr std::string_view table = "permission";
    static constexpr std::string_view id = "permission_id";
    static constexpr auto fields = std::make_tuple(
        Field<Permission, std::int64_t>{"permission_id", &Permission::permission_id, field::key},
        Field<Permission, std::string>{"name", &Permission::name, field::required | field::unique, -1, 64},
        Field<Permission, std::optional<std::string>>{"description", &Permission::description});
};

}  // namespace ictcore

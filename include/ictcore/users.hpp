// Users: accounts that log in, their roles and directly granted permissions.
#pragma once

#include <ictcore/entity_service.hpp>
#include <ictcore/user.hpp>

#include <optional>
#include <vector>

namespace ictcore {

class Users : public EntityService<User> {
public:
    using EntityService::EntityService;

    // Creates the user with `role_id` (default: role `user`); the password is hashed.
    std::int64_t create(const Principal& who, User value, std::optional<std::int64_t> role_id = std::nullopt);
    // A user may always read and update itself (but not its `active` flag).
    User get(const Principal& who, std::int64_t id);
    User update(const Principal& who, std::int64_t id, const std::function<void(User&)>& change);
    void remove(const Principal& who, std::int64_t id);

    User add_role(const Principal& who, std::int64_t user_id, std::int64_t role_id);
    User remove_role(const Principal& who, std::int64_t user_id, std::int64_t role_id);
    User add_permission(const Principal& who, std::int64_t user_id, std::int64_t permission_id);
    User remove_permission(const Principal& who, std::int64_t user_id, std::int64_t permission_id);

    std::vector<Role> roles(const Principal& who);
    std::vector<Permission> permissions(const Principal& who);
};

}  // namespace ictcore

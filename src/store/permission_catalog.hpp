// The permission names the library checks, and the roles seeded on a new database.
// Names are `<resource>_<action>`; a held prefix (`contact`) grants every longer name.
#pragma once

#include <string_view>
#include <vector>

namespace ictcore::store {

struct PermissionSeed {
    std::string_view name;
    std::string_view description;
};

struct RoleSeed {
    std::string_view name;
    std::string_view description;
    std::vector<std::string_view> permissions;
};

const std::vector<PermissionSeed>& permission_catalog();
const std::vector<RoleSeed>& seeded_roles();

}  // namespace ictcore::store

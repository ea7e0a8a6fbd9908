// Permission checks with the prefix rule.
#include <ictcore/error.hpp>
#include <ictcore/principal.hpp>

#include <string>

namespace ictcore {

Principal::Principal(std::int64_t user_id, std::string username, bool admin, std::vector<std::string> permissions)
    : user_id_(user_id),
      username_(std::move(username)),
      admin_(admin),
      permissions_(std::make_shared<const std::vector<std::string>>(std::move(permissions))) {}

const std::vector<std::string>& Principal::permissions() const noexcept {
    static const std::vector<std::string> none;
    return permissions_ ? *permissions_ : none;
}

bool Principal::can(std::string_view name) const noexcept {
    for (const auto& held : permissions()) {
        if (name == held) return true;
        if (name.size() > held.size() && name.substr(0, held.size()) == held && name[held.size()] == '_') return true;
    }
    return false;
}

void Principal::require(std::string_view name) const {
    if (!can(name)) throw Error(Errc::forbidden, "permission " + std::string(name) + " is required");
}

}  // namespace ictcore

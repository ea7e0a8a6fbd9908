// Principal: the authenticated caller every service call acts for.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore {

class Principal {
public:
    Principal() = default;
    Principal(std::int64_t user_id, std::string username, bool admin, std::vector<std::string> permissions);

    std::int64_t user_id() const noexcept { return user_id_; }
    const std::string& username() const noexcept { return username_; }
    // Admins see and change every user's rows; everyone else only their own.
    bool admin() const noexcept { return admin_; }
    const std::vector<std::string>& permissions() const noexcept;

    // True when a held permission equals `name` or is a `_`-separated prefix of it
    // (`contact` grants `contact_read`).
    bool can(std::string_view name) const noexcept;
    // Throws Error(forbidden) unless can(name).
    void require(std::string_view name) const;

private:
    std::int64_t user_id_ = 0;
    std::string username_;
    bool admin_ = false;
    // Shared: a Principal is copied on every request and its permissions never change.
    std::shared_ptr<const std::vector<std::string>> permissions_;
};

}  // namespace ictcore

// Accounts: the sending identities of users. Admins manage them (the seeded `user` role may
// only read its own); every new user gets a default account.
#pragma once

#include <ictcore/account.hpp>
#include <ictcore/entity_service.hpp>

#include <optional>
#include <vector>

namespace ictcore {

class Accounts : public EntityService<Account> {
public:
    using EntityService::EntityService;

    // `passwd` and `passwd_pin` are hashed before they are stored. The account belongs to
    // `for_user` when given (an admin may name any existing user; anyone else only itself),
    // else to the caller. `value.user_id` is ignored: it is an owner field.
    std::int64_t create(const Principal& who, Account value, std::optional<std::int64_t> for_user = std::nullopt);
    Account update(const Principal& who, std::int64_t id, const std::function<void(Account&)>& change);

    // The caller's default account: its first active account (lowest id); nullopt when it has
    // none. Needs no permission: it is the caller's own sending identity.
    std::optional<Account> default_for(const Principal& who);

    // Subscribes the account to a program (idempotent); both must be visible to the caller.
    Account subscribe(const Principal& who, std::int64_t account_id, std::int64_t program_id);
    Account unsubscribe(const Principal& who, std::int64_t account_id, std::int64_t program_id);
    Account unsubscribe_all(const Principal& who, std::int64_t account_id);
    // Programs the account is subscribed to (for non-admins, only their own programs).
    std::vector<std::int64_t> programs(const Principal& who, std::int64_t account_id);
    // Moves the account to another user, or frees it (no user) when `user_id` is nullopt.
    // Only admins may move an account to another user or free it (403 for anyone else).
    Account assign(const Principal& who, std::int64_t account_id, std::optional<std::int64_t> user_id);
};

}  // namespace ictcore

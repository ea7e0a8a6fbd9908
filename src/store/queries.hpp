// Statements that are not plain entity CRUD: credentials, principals, role and permission
// grants, group membership and statistics.
#pragma once

#include "store/connection.hpp"
#include "store/table.hpp"

#include <ictcore/statistics.hpp>
#include <ictcore/user.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore::store {

// False on a new database, before the first start has created `admin`.
bool any_user(Connection& c);

struct Credentials {
    std::int64_t user_id = 0;
    std::string password_hash;
    bool active = false;
};
std::optional<Credentials> credentials_by_username(Connection& c, std::string_view username);
void set_password_hash(Connection& c, std::int64_t user_id, const std::string& hash);

struct PrincipalRow {
    std::string username;
    bool active = false;
    bool admin = false;
    std::vector<std::string> permissions;
};
std::optional<PrincipalRow> principal_row(Connection& c, std::int64_t user_id);

// Stores a new user under an id never issued before (not even to a deleted user): tokens name
// users by id. Returns the id.
std::int64_t insert_user(Connection& c, const User& user);

std::optional<std::int64_t> role_id_by_name(Connection& c, std::string_view name);
std::optional<std::string> role_name(Connection& c, std::int64_t role_id);
std::vector<std::string> role_permission_names(Connection& c, std::int64_t role_id);
std::optional<std::string> permission_name(Connection& c, std::int64_t permission_id);
void grant_role(Connection& c, std::int64_t user_id, std::int64_t role_id);
void revoke_role(Connection& c, std::int64_t user_id, std::int64_t role_id);
void grant_permission(Connection& c, std::int64_t user_id, std::int64_t permission_id);
void revoke_permission(Connection& c, std::int64_t user_id, std::int64_t permission_id);

void link_contact(Connection& c, std::int64_t contact_id, std::int64_t group_id);
// Highest contact id so far (0 when none).
std::int64_t last_contact_id(Connection& c);
// Links every contact with an id above `after` to the group: in a write transaction those are
// exactly the contacts inserted since last_contact_id() returned `after`, because SQLite gives
// a new row the highest id plus one.
void link_contacts_after(Connection& c, std::int64_t group_id, std::int64_t after);
void unlink_contact(Connection& c, std::int64_t contact_id, std::int64_t group_id);
// The join that restricts a contact listing to one group's members.
Join group_members(std::int64_t group_id);

// Accounts: program subscriptions (idempotent), ownership moves and the default account.
void link_account_program(Connection& c, std::int64_t account_id, std::int64_t program_id);
void unlink_account_program(Connection& c, std::int64_t account_id, std::int64_t program_id);
void unlink_account_programs(Connection& c, std::int64_t account_id);
// Programs the account is subscribed to, in id order; with an owner, only that owner's programs.
std::vector<std::int64_t> account_program_ids(Connection& c, std::int64_t account_id,
                                              std::optional<std::int64_t> program_owner);
// Sets (or, with nullopt, clears) the owning user of an account.
void set_account_user(Connection& c, std::int64_t account_id, std::optional<std::int64_t> user_id);
// The user's first active account (lowest id), if any.
std::optional<std::int64_t> default_account_id(Connection& c, std::int64_t user_id);
// Stores the account every new user gets: named and addressed like the user, active, owned
// by it. Returns the account id.
std::int64_t insert_default_account(Connection& c, std::int64_t user_id, const std::string& username,
                                    const std::optional<std::string>& first_name,
                                    const std::optional<std::string>& last_name,
                                    const std::optional<std::string>& phone, const std::optional<std::string>& email);

StatisticsReport statistics(Connection& c, const Scope& scope);

}  // namespace ictcore::store

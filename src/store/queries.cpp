// SQL for credentials, grants, membership and statistics (see queries.hpp).
#include "store/queries.hpp"

#include <ictcore/account.hpp>
#include <ictcore/contact.hpp>

namespace ictcore::store {

bool any_user(Connection& c) {
    auto& st = c.cached("SELECT EXISTS (SELECT 1 FROM usr)");
    st.executeStep();
    return st.getColumn(0).getInt() != 0;
}

std::optional<Credentials> credentials_by_username(Connection& c, std::string_view username) {
    auto& st = c.cached("SELECT user_id, passwd, active FROM usr WHERE username = ?");
    st.bind(1, std::string(username));
    if (!st.executeStep()) return std::nullopt;
    return Credentials{st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getInt() != 0};
}

void set_password_hash(Connection& c, std::int64_t user_id, const std::string& hash) {
    auto& st = c.cached("UPDATE usr SET passwd = ? WHERE user_id = ?");
    st.bind(1, hash);
    st.bind(2, user_id);
    st.exec();
}

std::optional<PrincipalRow> principal_row(Connection& c, std::int64_t user_id) {
    PrincipalRow row;
    {
        auto& st = c.cached(
            "SELECT username, active, EXISTS (SELECT 1 FROM user_role ur JOIN role r ON r.role_id = ur.role_id "
            "WHERE ur.user_id = usr.user_id AND r.name = 'admin') FROM usr WHERE user_id = ?");
        st.bind(1, user_id);
        if (!st.executeStep()) return std::nullopt;
        row.username = st.getColumn(0).getString();
        row.active = st.getColumn(1).getInt() != 0;
        row.admin = st.getColumn(2).getInt() != 0;
    }
    auto& st = c.cached(
        "SELECT p.name FROM permission p JOIN role_permission rp ON rp.permission_id = p.permission_id "
        "JOIN user_role ur ON ur.role_id = rp.role_id WHERE ur.user_id = ?1 "
        "UNION SELECT p.name FROM permission p JOIN user_permission up ON up.permission_id = p.permission_id "
        "WHERE up.user_id = ?1");
    st.bind(1, user_id);
    while (st.executeStep()) row.permissions.push_back(st.getColumn(0).getString());
    return row;
}

std::int64_t insert_user(Connection& c, const User& user) {
    auto id = Table<User>::insert(c, user);
    auto& last_st = c.cached("SELECT last FROM usr_id_issued");
    const auto last = last_st.executeStep() ? last_st.getColumn(0).getInt64() : 0;
    last_st.reset();
    if (id <= last) {
        // SQLite reused a deleted user's id. Nothing refers to the new row yet, so it can move.
        auto& move = c.cached("UPDATE usr SET user_id = ? WHERE user_id = ?");
        move.bind(1, last + 1);
        move.bind(2, id);
        move.exec();
        id = last + 1;
    }
    auto& issued = c.cached("UPDATE usr_id_issued SET last = ?");
    issued.bind(1, id);
    issued.exec();
    return id;
}

std::optional<std::int64_t> role_id_by_name(Connection& c, std::string_view name) {
    auto& st = c.cached("SELECT role_id FROM role WHERE name = ?");
    st.bind(1, std::string(name));
    if (!st.executeStep()) return std::nullopt;
    return st.getColumn(0).getInt64();
}

std::optional<std::string> role_name(Connection& c, std::int64_t role_id) {
    auto& st = c.cached("SELECT name FROM role WHERE role_id = ?");
    st.bind(1, role_id);
    if (!st.executeStep()) return std::nullopt;
    return st.getColumn(0).getString();
}

std::vector<std::string> role_permission_names(Connection& c, std::int64_t role_id) {
    auto& st = c.cached(
        "SELECT p.name FROM permission p JOIN role_permission rp ON rp.permission_id = p.permission_id "
        "WHERE rp.role_id = ?");
    st.bind(1, role_id);
    std::vector<std::string> names;
    while (st.executeStep()) names.push_back(st.getColumn(0).getString());
    return names;
}

std::optional<std::string> permission_name(Connection& c, std::int64_t permission_id) {
    auto& st = c.cached("SELECT name FROM permission WHERE permission_id = ?");
    st.bind(1, permission_id);
    if (!st.executeStep()) return std::nullopt;
    return st.getColumn(0).getString();
}

namespace {
void exec_pair(Connection& c, const char* sql, std::int64_t a, std::int64_t b) {
    auto& st = c.cached(sql);
    st.bind(1, a);
    st.bind(2, b);
    st.exec();
}
}  // namespace

void grant_role(Connection& c, std::int64_t user_id, std::int64_t role_id) {
    exec_pair(c, "INSERT OR IGNORE INTO user_role (user_id, role_id) VALUES (?, ?)", user_id, role_id);
}
void revoke_role(Connection& c, std::int64_t user_id, std::int64_t role_id) {
    exec_pair(c, "DELETE FROM user_role WHERE user_id = ? AND role_id = ?", user_id, role_id);
}
void grant_permission(Connection& c, std::int64_t user_id, std::int64_t permission_id) {
    exec_pair(c, "INSERT OR IGNORE INTO user_permission (user_id, permission_id) VALUES (?, ?)", user_id,
              permission_id);
}
void revoke_permission(Connection& c, std::int64_t user_id, std::int64_t permission_id) {
    exec_pair(c, "DELETE FROM user_permission WHERE user_id = ? AND permission_id = ?", user_id, permission_id);
}

void link_contact(Connection& c, std::int64_t contact_id, std::int64_t group_id) {
    exec_pair(c, "INSERT OR IGNORE INTO group_contact (contact_id, group_id) VALUES (?, ?)", contact_id, group_id);
}
void unlink_contact(Connection& c, std::int64_t contact_id, std::int64_t group_id) {
    exec_pair(c, "DELETE FROM group_contact WHERE contact_id = ? AND group_id = ?", contact_id, group_id);
}

std::int64_t last_contact_id(Connection& c) {
    auto& st = c.cached("SELECT COALESCE(MAX(contact_id), 0) FROM contact");
    st.executeStep();
    return st.getColumn(0).getInt64();
}

void link_contacts_after(Connection& c, std::int64_t group_id, std::int64_t after) {
    exec_pair(c,
              "INSERT OR IGNORE INTO group_contact (group_id, contact_id) SELECT ?, contact_id FROM contact "
              "WHERE contact_id > ?",
              group_id, after);
}

Join group_members(std::int64_t group_id) {
    return Join{"JOIN group_contact gc ON gc.contact_id = contact.contact_id AND gc.group_id = ?", group_id};
}

void link_account_program(Connection& c, std::int64_t account_id, std::int64_t program_id) {
    exec_pair(c, "INSERT OR IGNORE INTO account_program (account_id, program_id) VALUES (?, ?)", account_id,
              program_id);
}
void unlink_account_program(Connection& c, std::int64_t account_id, std::int64_t program_id) {
    exec_pair(c, "DELETE FROM account_program WHERE account_id = ? AND program_id = ?", account_id, program_id);
}
void unlink_account_programs(Connection& c, std::int64_t account_id) {
    auto& st = c.cached("DELETE FROM account_program WHERE account_id = ?");
    st.bind(1, account_id);
    st.exec();
}

std::vector<std::int64_t> account_program_ids(Connection& c, std::int64_t account_id,
                                              std::optional<std::int64_t> program_owner) {
    auto& st = c.cached(program_owner ? "SELECT ap.program_id FROM account_program ap JOIN program p "
                                        "ON p.program_id = ap.program_id WHERE ap.account_id = ? AND p.created_by = ? "
                                        "ORDER BY 1"
                                      : "SELECT program_id FROM account_program WHERE account_id = ? ORDER BY 1");
    st.bind(1, account_id);
    if (program_owner) st.bind(2, *program_owner);
    std::vector<std::int64_t> ids;
    while (st.executeStep()) ids.push_back(st.getColumn(0).getInt64());
    st.reset();
    return ids;
}

void set_account_user(Connection& c, std::int64_t account_id, std::optional<std::int64_t> user_id) {
    auto& st = c.cached("UPDATE account SET user_id = ? WHERE account_id = ?");
    if (user_id)
        st.bind(1, *user_id);
    else
        st.bind(1);
    st.bind(2, account_id);
    st.exec();
}

std::optional<std::int64_t> default_account_id(Connection& c, std::int64_t user_id) {
    auto& st = c.cached("SELECT account_id FROM account WHERE user_id = ? AND active = 1 ORDER BY account_id LIMIT 1");
    st.bind(1, user_id);
    std::optional<std::int64_t> id;
    if (st.executeStep()) id = st.getColumn(0).getInt64();
    st.reset();
    return id;
}

std::int64_t insert_default_account(Connection& c, std::int64_t user_id, const std::string& username,
                                    const std::optional<std::string>& first_name,
                                    const std::optional<std::string>& last_name,
                                    const std::optional<std::string>& phone, const std::optional<std::string>& email) {
    Account account;
    account.type = "account";
    account.username = username;
    account.first_name = first_name;
    account.last_name = last_name;
    account.phone = phone;
    account.email = email;
    account.active = 1;
    account.user_id = user_id;
    return Table<Account>::insert(c, account);
}

StatisticsReport statistics(Connection& c, const Scope& scope) {
    const std::string owner = scope.owner ? "created_by = ?1" : "1";
    auto& st = c.cached(
        fmt::format("SELECT (SELECT COUNT(*) FROM contact_group WHERE {0}), "
                    "(SELECT COUNT(*) FROM contact WHERE {0}), "
                    "(SELECT COUNT(*) FROM transmission WHERE {0}), "
                    "(SELECT COUNT(*) FROM transmission WHERE {0} AND status IN ('processing', 'pending_retry')), "
                    "(SELECT COUNT(*) FROM spool WHERE {0}), "
                    "(SELECT COUNT(*) FROM spool WHERE {0} AND status = 'completed'), "
                    "(SELECT COUNT(*) FROM spool WHERE {0} AND status = 'failed'), "
                    "(SELECT COUNT(*) FROM campaign WHERE {0}), "
                    "(SELECT COUNT(*) FROM campaign WHERE {0} AND status = 'running')",
                    owner));
    if (scope.owner) st.bind(1, *scope.owner);
    st.executeStep();
    StatisticsReport r;
    r.group_total = st.getColumn(0).getInt64();
    r.contact_total = st.getColumn(1).getInt64();
    r.transmission_total = st.getColumn(2).getInt64();
    r.transmission_active = st.getColumn(3).getInt64();
    r.spool_total = st.getColumn(4).getInt64();
    r.spool_success = st.getColumn(5).getInt64();
    r.spool_failed = st.getColumn(6).getInt64();
    r.campaign_total = st.getColumn(7).getInt64();
    r.campaign_active = st.getColumn(8).getInt64();
    return r;
}

}  // namespace ictcore::store

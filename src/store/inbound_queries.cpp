// SQL of the Inbound service (see inbound_queries.hpp).
#include "store/inbound_queries.hpp"

namespace ictcore::store {

namespace {

std::vector<OwnedAccount> read_accounts(SQLite::Statement& st) {
    std::vector<OwnedAccount> rows;
    while (st.executeStep()) {
        OwnedAccount a;
        a.account_id = st.getColumn(0).getInt64();
        a.user_id = st.getColumn(1).getInt64();
        a.phone = st.getColumn(2).isNull() ? std::string() : st.getColumn(2).getString();
        a.email = st.getColumn(3).isNull() ? std::string() : st.getColumn(3).getString();
        rows.push_back(std::move(a));
    }
    st.reset();
    return rows;
}

std::optional<std::int64_t> first_id(SQLite::Statement& st) {
    std::optional<std::int64_t> id;
    if (st.executeStep()) id = st.getColumn(0).getInt64();
    st.reset();
    return id;
}

}  // namespace

std::vector<OwnedAccount> active_accounts_with_phone(Connection& c) {
    auto& st = c.cached(
        "SELECT account_id, user_id, phone, email FROM account WHERE active = 1 AND user_id IS NOT NULL "
        "AND phone IS NOT NULL AND phone <> '' ORDER BY account_id");
    return read_accounts(st);
}

std::vector<OwnedAccount> active_accounts_by_email(Connection& c, std::string_view email) {
    auto& st = c.cached(
        "SELECT account_id, user_id, phone, email FROM account WHERE active = 1 AND user_id IS NOT NULL "
        "AND email = ? COLLATE NOCASE ORDER BY account_id");
    st.bind(1, std::string(email));
    return read_accounts(st);
}

std::vector<InboundProgram> inbound_programs(Connection& c, std::int64_t account_id, std::int64_t owner) {
    auto& st = c.cached(
        "SELECT p.program_id, p.type, (p.account_id IS NOT NULL AND p.account_id = ?1) OR EXISTS "
        "(SELECT 1 FROM account_program ap WHERE ap.account_id = ?1 AND ap.program_id = p.program_id) "
        "FROM program p WHERE p.created_by = ?2 AND p.direction = 'inbound' ORDER BY p.program_id");
    st.bind(1, account_id);
    st.bind(2, owner);
    std::vector<InboundProgram> rows;
    while (st.executeStep()) {
        rows.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getInt() != 0});
    }
    st.reset();
    return rows;
}

std::optional<std::int64_t> contact_by_phone_digits(Connection& c, std::int64_t owner, std::string_view digits) {
    // The same normalisation as the caller's, in SQL, so the owner's contacts are not all
    // loaded to compare them.
    auto& st = c.cached(
        "SELECT contact_id FROM (SELECT contact_id, REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, ' ', ''), "
        "'-', ''), '.', ''), '(', ''), ')', ''), '+', '') AS digits FROM contact WHERE created_by = ?1) "
        "WHERE digits = ?2 OR digits = '00' || ?2 ORDER BY contact_id LIMIT 1");
    st.bind(1, owner);
    st.bind(2, std::string(digits));
    return first_id(st);
}

std::optional<std::int64_t> contact_by_phone(Connection& c, std::int64_t owner, std::string_view phone) {
    auto& st =
        c.cached("SELECT contact_id FROM contact WHERE created_by = ? AND phone = ? ORDER BY contact_id LIMIT 1");
    st.bind(1, owner);
    st.bind(2, std::string(phone));
    return first_id(st);
}

std::optional<std::int64_t> contact_by_email(Connection& c, std::int64_t owner, std::string_view email) {
    auto& st = c.cached(
        "SELECT contact_id FROM contact WHERE created_by = ? AND email = ? COLLATE NOCASE ORDER BY contact_id LIMIT 1");
    st.bind(1, owner);
    st.bind(2, std::string(email));
    return first_id(st);
}

namespace {

std::vector<std::int64_t> ids(SQLite::Statement& st) {
    std::vector<std::int64_t> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
    return out;
}

}  // namespace

std::vector<std::int64_t> inbound_spools_of_transmission(Connection& c, std::int64_t transmission_id) {
    auto& st = c.cached(
        "SELECT s.spool_id FROM spool s JOIN transmission t ON t.transmission_id = s.transmission_id "
        "WHERE t.transmission_id = ? AND t.direction = 'inbound'");
    st.bind(1, transmission_id);
    return ids(st);
}

std::vector<std::int64_t> inbound_spools_of_owner(Connection& c, std::int64_t owner) {
    auto& st = c.cached(
        "SELECT s.spool_id FROM spool s JOIN transmission t ON t.transmission_id = s.transmission_id "
        "WHERE t.created_by = ? AND t.direction = 'inbound'");
    st.bind(1, owner);
    return ids(st);
}

}  // namespace ictcore::store

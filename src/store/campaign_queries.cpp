// SQL of the campaign runner (see campaign_queries.hpp).
#include "store/campaign_queries.hpp"

#include "store/table.hpp"

namespace ictcore::store {

namespace {

CampaignProgress read_progress(SQLite::Statement& st) {
    CampaignProgress p;
    p.campaign_id = st.getColumn(0).getInt64();
    p.status = st.getColumn(1).getString();
    if (!st.getColumn(2).isNull()) p.reason = st.getColumn(2).getString();
    p.contact_total = st.getColumn(3).getInt64();
    p.contact_done = st.getColumn(4).getInt64();
    p.completed = st.getColumn(5).getInt64();
    p.failed = st.getColumn(6).getInt64();
    return p;
}

constexpr const char* progress_columns = "campaign_id, status, reason, contact_total, contact_done, completed, failed";

}  // namespace

std::optional<CampaignRow> find_campaign_row(Connection& c, std::int64_t campaign_id) {
    static const std::string sql = "SELECT " + Table<Campaign>::select_list() +
                                   ", campaign.sent, campaign.last_contact FROM campaign WHERE campaign_id = ?";
    auto& st = c.cached(sql);
    st.bind(1, campaign_id);
    if (!st.executeStep()) return std::nullopt;
    CampaignRow row;
    Table<Campaign>::read_row(st, row.campaign);
    const int n = st.getColumnCount();
    row.sent = st.getColumn(n - 2).getInt64();
    row.last_contact = st.getColumn(n - 1).getInt64();
    return row;
}

std::vector<std::int64_t> running_campaigns(Connection& c) {
    auto& st = c.cached("SELECT campaign_id FROM campaign WHERE status = 'running' ORDER BY campaign_id");
    std::vector<std::int64_t> ids;
    while (st.executeStep()) ids.push_back(st.getColumn(0).getInt64());
    return ids;
}

void set_campaign_status(Connection& c, std::int64_t campaign_id, std::string_view status,
                         const std::optional<std::string>& reason) {
    auto& st = c.cached("UPDATE campaign SET status = ?, reason = ? WHERE campaign_id = ?");
    st.bind(1, std::string(status));
    if (reason)
        st.bind(2, *reason);
    else
        st.bind(2);
    st.bind(3, campaign_id);
    st.exec();
}

void complete_campaign(Connection& c, std::int64_t campaign_id) {
    auto& st =
        c.cached("UPDATE campaign SET status = 'completed', reason = NULL, contact_total = sent WHERE campaign_id = ?");
    st.bind(1, campaign_id);
    st.exec();
}

std::int64_t count_unreached(Connection& c, std::int64_t campaign_id, std::int64_t group_id) {
    auto& st = c.cached(
        "SELECT COUNT(*) FROM group_contact gc WHERE gc.group_id = ? AND NOT EXISTS "
        "(SELECT 1 FROM transmission t WHERE t.campaign_id = ? AND t.contact_id = gc.contact_id)");
    st.bind(1, group_id);
    st.bind(2, campaign_id);
    st.executeStep();
    return st.getColumn(0).getInt64();
}

std::vector<Contact> unreached_contacts(Connection& c, std::int64_t campaign_id, std::int64_t group_id,
                                        std::int64_t after, std::int64_t limit) {
    static const std::string sql = "SELECT " + Table<Contact>::select_list() +
                                   " FROM group_contact gc JOIN contact ON contact.contact_id = gc.contact_id"
                                   " WHERE gc.group_id = ? AND gc.contact_id > ? AND NOT EXISTS"
                                   " (SELECT 1 FROM transmission t WHERE t.campaign_id = ? AND"
                                   " t.contact_id = gc.contact_id) ORDER BY gc.contact_id LIMIT ?";
    auto& st = c.cached(sql);
    st.bind(1, group_id);
    st.bind(2, after);
    st.bind(3, campaign_id);
    st.bind(4, limit);
    std::vector<Contact> out;
    while (st.executeStep()) {
        Contact contact;
        Table<Contact>::read_row(st, contact);
        out.push_back(std::move(contact));
    }
    return out;
}

std::vector<Transmission> waiting_transmissions(Connection& c, std::int64_t campaign_id, std::int64_t limit) {
    static const std::string sql = "SELECT " + Table<Transmission>::select_list() +
                                   " FROM transmission WHERE campaign_id = ? AND status = 'pending'"
                                   " ORDER BY transmission_id LIMIT ?";
    auto& st = c.cached(sql);
    st.bind(1, campaign_id);
    st.bind(2, limit);
    std::vector<Transmission> out;
    while (st.executeStep()) {
        Transmission t;
        Table<Transmission>::read_row(st, t);
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<std::pair<std::int64_t, std::int64_t>> campaign_retries(Connection& c, std::int64_t campaign_id) {
    auto& st = c.cached(
        "SELECT transmission_id, next_run FROM transmission WHERE status = 'pending_retry' AND campaign_id = ?");
    st.bind(1, campaign_id);
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    while (st.executeStep()) {
        out.emplace_back(st.getColumn(0).getInt64(), st.getColumn(1).isNull() ? 0 : st.getColumn(1).getInt64());
    }
    return out;
}

void advance_campaign(Connection& c, std::int64_t campaign_id, std::int64_t created, std::int64_t last_contact) {
    auto& st = c.cached(
        "UPDATE campaign SET sent = sent + ?1, last_contact = ?2, contact_total = MAX(contact_total, sent + ?1) "
        "WHERE campaign_id = ?3");
    st.bind(1, created);
    st.bind(2, last_contact);
    st.bind(3, campaign_id);
    st.exec();
}

std::int64_t group_size(Connection& c, std::int64_t group_id) {
    auto& st = c.cached("SELECT COUNT(*) FROM group_contact WHERE group_id = ?");
    st.bind(1, group_id);
    st.executeStep();
    return st.getColumn(0).getInt64();
}

void recount_campaign(Connection& c, std::int64_t campaign_id, std::int64_t group_id, std::int64_t sent) {
    // Nothing sent yet: every member is unreached, and counting them needs no lookups.
    const auto unreached = sent == 0 ? group_size(c, group_id) : count_unreached(c, campaign_id, group_id);
    auto& st = c.cached("UPDATE campaign SET contact_total = sent + ? WHERE campaign_id = ?");
    st.bind(1, unreached);
    st.bind(2, campaign_id);
    st.exec();
}

void count_campaign_outcome(Connection& c, std::int64_t campaign_id, std::string_view transmission_status) {
    // No RETURNING here: it costs a temporary table per execution, on every outcome.
    auto& st = c.cached(
        "UPDATE campaign SET contact_done = contact_done + 1, completed = completed + ?1, failed = failed + ?2 "
        "WHERE campaign_id = ?3");
    const bool ok = transmission_status == "completed";
    st.bind(1, ok ? 1 : 0);
    st.bind(2, ok ? 0 : 1);
    st.bind(3, campaign_id);
    st.exec();
}

std::optional<CampaignProgress> campaign_progress(Connection& c, std::int64_t campaign_id) {
    static const std::string sql = fmt::format("SELECT {} FROM campaign WHERE campaign_id = ?", progress_columns);
    auto& st = c.cached(sql);
    st.bind(1, campaign_id);
    if (!st.executeStep()) return std::nullopt;
    return read_progress(st);
}

void put_back_attempt(Connection& c, std::int64_t spool_id, std::int64_t transmission_id) {
    auto& spool = c.cached("DELETE FROM spool WHERE spool_id = ? AND time_end IS NULL");
    spool.bind(1, spool_id);
    if (spool.exec() == 0) return;  // ended meanwhile, or deleted with its transmission
    auto& gone = c.cached(
        "DELETE FROM transmission WHERE transmission_id = ?1 AND (campaign_id IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM campaign WHERE campaign.campaign_id = transmission.campaign_id)) AND NOT EXISTS "
        "(SELECT 1 FROM spool WHERE spool.transmission_id = ?1)");
    gone.bind(1, transmission_id);
    if (gone.exec() > 0) return;
    auto& st = c.cached(
        "UPDATE transmission SET status = 'pending', try_done = MAX(try_done - 1, 0), next_run = NULL "
        "WHERE transmission_id = ?");
    st.bind(1, transmission_id);
    st.exec();
}

void detach_campaign_transmissions(Connection& c, std::int64_t campaign_id) {
    auto& unsent = c.cached(
        "DELETE FROM transmission WHERE campaign_id = ?1 AND status = 'pending' AND NOT EXISTS "
        "(SELECT 1 FROM spool WHERE spool.transmission_id = transmission.transmission_id)");
    unsent.bind(1, campaign_id);
    unsent.exec();
    auto& rest = c.cached("UPDATE transmission SET campaign_id = NULL WHERE campaign_id = ?");
    rest.bind(1, campaign_id);
    rest.exec();
}

int delete_campaign_schedules(Connection& c, std::int64_t campaign_id, std::optional<std::string_view> action) {
    if (action) {
        auto& st = c.cached("DELETE FROM schedule WHERE campaign_id = ? AND action = ?");
        st.bind(1, campaign_id);
        st.bind(2, std::string(*action));
        return st.exec();
    }
    auto& st = c.cached("DELETE FROM schedule WHERE campaign_id = ?");
    st.bind(1, campaign_id);
    return st.exec();
}

}  // namespace ictcore::store

// SQL of the delivery engine (see delivery_queries.hpp).
#include "store/delivery_queries.hpp"

#include "store/table.hpp"

namespace ictcore::store {

namespace {
void bind_optional(SQLite::Statement& st, int i, const std::optional<std::int64_t>& v) {
    if (v)
        st.bind(i, *v);
    else
        st.bind(i);
}
void bind_optional(SQLite::Statement& st, int i, const std::optional<std::string>& v) {
    if (v)
        st.bind(i, *v);
    else
        st.bind(i);
}
std::optional<std::int64_t> optional_int(const SQLite::Column& c) {
    return c.isNull() ? std::nullopt : std::optional<std::int64_t>(c.getInt64());
}
std::string text(const SQLite::Column& c) { return c.isNull() ? std::string() : c.getString(); }
}  // namespace

std::vector<Provider> all_providers(Connection& c) {
    static const std::string sql =
        "SELECT " + Table<Provider>::select_list() + ", provider.password FROM provider ORDER BY provider_id";
    auto& st = c.cached(sql);
    const int password_column = st.getColumnCount() - 1;
    std::vector<Provider> out;
    while (st.executeStep()) {
        Provider p;
        Table<Provider>::read_row(st, p);
        column::read(st.getColumn(password_column), p.password);
        out.push_back(std::move(p));
    }
    return out;
}

void mark_spool_started(Connection& c, std::int64_t spool_id, std::int64_t provider_id, std::int64_t now) {
    auto& st = c.cached("UPDATE spool SET status = 'started', time_start = ?, provider_id = ? WHERE spool_id = ?");
    st.bind(1, now);
    st.bind(2, provider_id);
    st.bind(3, spool_id);
    st.exec();
}

void mark_spool_connected(Connection& c, std::int64_t spool_id, std::int64_t now) {
    auto& st =
        c.cached("UPDATE spool SET status = 'connected', time_connect = ? WHERE spool_id = ? AND status = 'started'");
    st.bind(1, now);
    st.bind(2, spool_id);
    st.exec();
}

bool finish_spool(Connection& c, std::int64_t spool_id, std::string_view status, const std::string& response,
                  std::optional<std::int64_t> provider_id, std::int64_t now) {
    auto& st = c.cached(
        "UPDATE spool SET status = ?, response = ?, time_end = ?, provider_id = COALESCE(?, provider_id), "
        "report_due = NULL WHERE spool_id = ? AND time_end IS NULL");
    st.bind(1, std::string(status));
    st.bind(2, response);
    st.bind(3, now);
    bind_optional(st, 4, provider_id);
    st.bind(5, spool_id);
    return st.exec() > 0;
}

void set_transmission_processing(Connection& c, std::int64_t transmission_id, std::int64_t try_done, std::int64_t now) {
    auto& st = c.cached(
        "UPDATE transmission SET status = 'processing', try_done = ?, last_run = ?, next_run = NULL, "
        "response = NULL WHERE transmission_id = ?");
    st.bind(1, try_done);
    st.bind(2, now);
    st.bind(3, transmission_id);
    st.exec();
}

void set_transmission_outcome(Connection& c, std::int64_t transmission_id, std::string_view status,
                              const std::optional<std::string>& response, std::optional<std::int64_t> next_run) {
    auto& st = c.cached("UPDATE transmission SET status = ?, response = ?, next_run = ? WHERE transmission_id = ?");
    st.bind(1, std::string(status));
    bind_optional(st, 2, response);
    bind_optional(st, 3, next_run);
    st.bind(4, transmission_id);
    st.exec();
}

std::vector<OpenSpool> open_spools(Connection& c) {
    auto& st = c.cached(
        "SELECT spool_id, transmission_id, status, provider_id, report_due FROM spool "
        "WHERE time_end IS NULL ORDER BY spool_id");
    std::vector<OpenSpool> out;
    while (st.executeStep()) {
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getString(),
                       optional_int(st.getColumn(3)), optional_int(st.getColumn(4))});
    }
    return out;
}

void await_report(Connection& c, std::int64_t spool_id, const std::string& response, std::int64_t now,
                  std::int64_t due) {
    auto& st = c.cached(
        "UPDATE spool SET status = 'connected', time_connect = COALESCE(time_connect, ?), response = ?, "
        "report_due = ? WHERE spool_id = ? AND time_end IS NULL");
    st.bind(1, now);
    st.bind(2, response);
    st.bind(3, due);
    st.bind(4, spool_id);
    st.exec();
}

std::optional<AwaitingReport> awaiting_report(Connection& c, std::int64_t spool_id) {
    auto& st = c.cached(
        "SELECT s.transmission_id, COALESCE(p.type, ''), s.status FROM spool s LEFT JOIN provider p "
        "ON p.provider_id = s.provider_id WHERE s.spool_id = ? AND s.time_end IS NULL "
        "AND s.status IN ('started', 'connected')");
    st.bind(1, spool_id);
    if (!st.executeStep()) return std::nullopt;
    return AwaitingReport{st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getString()};
}

std::vector<std::int64_t> overdue_reports(Connection& c, std::int64_t now, std::int64_t limit) {
    auto& st = c.cached(
        "SELECT spool_id FROM spool WHERE report_due IS NOT NULL AND report_due <= ? ORDER BY report_due LIMIT ?");
    st.bind(1, now);
    st.bind(2, limit);
    std::vector<std::int64_t> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
    return out;
}

std::optional<std::int64_t> next_report_due(Connection& c) {
    auto& st = c.cached("SELECT MIN(report_due) FROM spool WHERE report_due IS NOT NULL");
    if (!st.executeStep()) return std::nullopt;
    return optional_int(st.getColumn(0));
}

std::vector<std::pair<std::int64_t, std::int64_t>> pending_retries(Connection& c) {
    auto& st =
        c.cached("SELECT transmission_id, next_run FROM transmission WHERE status = 'pending_retry' ORDER BY next_run");
    std::vector<std::pair<std::int64_t, std::int64_t>> out;
    while (st.executeStep()) {
        const auto next = optional_int(st.getColumn(1));
        out.emplace_back(st.getColumn(0).getInt64(), next.value_or(0));
    }
    return out;
}

namespace {
constexpr const char* schedule_columns =
    "schedule_id, action, transmission_id, campaign_id, kind, at, year, month, day, weekday, hour, minute, "
    "next_run, created_by";

ScheduleRow read_schedule(SQLite::Statement& st) {
    ScheduleRow r;
    r.schedule_id = st.getColumn(0).getInt64();
    r.action = st.getColumn(1).getString();
    r.transmission_id = optional_int(st.getColumn(2));
    r.campaign_id = optional_int(st.getColumn(3));
    r.kind = st.getColumn(4).getString();
    r.at = optional_int(st.getColumn(5));
    r.year = text(st.getColumn(6));
    r.month = text(st.getColumn(7));
    r.day = text(st.getColumn(8));
    r.weekday = text(st.getColumn(9));
    r.hour = text(st.getColumn(10));
    r.minute = text(st.getColumn(11));
    r.next_run = st.getColumn(12).getInt64();
    r.created_by = st.getColumn(13).getInt64();
    return r;
}
}  // namespace

ScheduleSpec spec_of(const ScheduleRow& row) {
    ScheduleSpec spec;
    spec.kind = row.kind == "once" ? ScheduleSpec::Kind::once : ScheduleSpec::Kind::cron;
    spec.at = row.at.value_or(row.next_run);
    spec.year = row.year;
    spec.month = row.month;
    spec.day = row.day;
    spec.weekday = row.weekday;
    spec.hour = row.hour;
    spec.minute = row.minute;
    return spec;
}

void set_spec(ScheduleRow& row, const ScheduleSpec& spec) {
    row.kind = spec.recurring() ? "cron" : "once";
    row.at = spec.recurring() ? std::nullopt : std::optional<std::int64_t>(spec.at);
    row.year = spec.year;
    row.month = spec.month;
    row.day = spec.day;
    row.weekday = spec.weekday;
    row.hour = spec.hour;
    row.minute = spec.minute;
}

std::int64_t insert_schedule(Connection& c, const ScheduleRow& r) {
    auto& st = c.cached(
        "INSERT INTO schedule (action, transmission_id, campaign_id, kind, at, year, month, day, weekday, hour, "
        "minute, next_run, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    st.bind(1, r.action);
    bind_optional(st, 2, r.transmission_id);
    bind_optional(st, 3, r.campaign_id);
    st.bind(4, r.kind);
    bind_optional(st, 5, r.at);
    st.bind(6, r.year);
    st.bind(7, r.month);
    st.bind(8, r.day);
    st.bind(9, r.weekday);
    st.bind(10, r.hour);
    st.bind(11, r.minute);
    st.bind(12, r.next_run);
    st.bind(13, r.created_by);
    st.exec();
    return c.db().getLastInsertRowid();
}

ScheduleRow schedule_row(std::string action, const ScheduleSpec& spec, std::int64_t next_run, std::int64_t owner) {
    ScheduleRow row;
    row.action = std::move(action);
    set_spec(row, spec);
    row.next_run = next_run;
    row.created_by = owner;
    return row;
}

std::optional<ScheduleRow> find_schedule(Connection& c, std::int64_t schedule_id) {
    auto& st = c.cached(std::string("SELECT ") + schedule_columns + " FROM schedule WHERE schedule_id = ?");
    st.bind(1, schedule_id);
    if (!st.executeStep()) return std::nullopt;
    return read_schedule(st);
}

std::vector<ScheduleRow> all_schedules(Connection& c) {
    auto& st = c.cached(std::string("SELECT ") + schedule_columns + " FROM schedule ORDER BY next_run");
    std::vector<ScheduleRow> out;
    while (st.executeStep()) out.push_back(read_schedule(st));
    return out;
}

void set_schedule_next_run(Connection& c, std::int64_t schedule_id, std::int64_t next_run) {
    auto& st = c.cached("UPDATE schedule SET next_run = ? WHERE schedule_id = ?");
    st.bind(1, next_run);
    st.bind(2, schedule_id);
    st.exec();
}

bool delete_schedule(Connection& c, std::int64_t schedule_id) {
    auto& st = c.cached("DELETE FROM schedule WHERE schedule_id = ?");
    st.bind(1, schedule_id);
    return st.exec() > 0;
}

int delete_transmission_schedules(Connection& c, std::int64_t transmission_id) {
    auto& st = c.cached("DELETE FROM schedule WHERE transmission_id = ?");
    st.bind(1, transmission_id);
    return st.exec();
}

}  // namespace ictcore::store

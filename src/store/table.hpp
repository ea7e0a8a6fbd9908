// Table<E>: the SQL for one described entity, generated from Describe<E> — select lists,
// inserts, updates, filtered listings — so no statement repeats a field list by hand.
#pragma once

#include "store/connection.hpp"
#include "store/store.hpp"

#include <ictcore/error.hpp>
#include <ictcore/field.hpp>
#include <ictcore/query.hpp>

#include <SQLiteCpp/Exception.h>
#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ictcore::store {

// Which rows a caller may touch: one owner's, or all (admins).
struct Scope {
    std::optional<std::int64_t> owner;
};

// SQL expression of a computed field of `table` (table_sql.cpp holds them all).
std::string computed_sql(std::string_view table, std::string_view field_name);

// An extra join restricting a listing (e.g. a group's members).
struct Join {
    std::string sql;  // with one `?` placeholder
    std::int64_t value = 0;
};

using BindValue = std::variant<std::int64_t, std::string>;

inline void bind_all(SQLite::Statement& st, const std::vector<BindValue>& values, int first = 1) {
    int i = first;
    for (const auto& v : values) std::visit([&](const auto& x) { st.bind(i++, x); }, v);
}

namespace column {
inline void bind(SQLite::Statement& st, int i, const std::int64_t& v) { st.bind(i, v); }
inline void bind(SQLite::Statement& st, int i, const std::string& v) { st.bind(i, v); }
inline void bind(SQLite::Statement& st, int i, const double& v) { st.bind(i, v); }
template <class T>
void bind(SQLite::Statement& st, int i, const std::optional<T>& v) {
    if (v)
        bind(st, i, *v);
    else
        st.bind(i);
}
inline void read(const SQLite::Column& c, std::int64_t& v) { v = c.isNull() ? 0 : c.getInt64(); }
inline void read(const SQLite::Column& c, std::string& v) { v = c.isNull() ? std::string() : c.getString(); }
inline void read(const SQLite::Column& c, double& v) { v = c.isNull() ? 0.0 : c.getDouble(); }
inline void read(const SQLite::Column& c, std::optional<std::int64_t>& v) {
    v = c.isNull() ? std::nullopt : std::optional<std::int64_t>(c.getInt64());
}
inline void read(const SQLite::Column& c, std::optional<std::string>& v) {
    v = c.isNull() ? std::nullopt : std::optional<std::string>(c.getString());
}
template <class T>
constexpr bool is_integer = std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::optional<std::int64_t>>;
}  // namespace column

std::optional<std::int64_t> parse_int64(std::string_view text);
std::string escape_like(std::string_view text);
// Turns a SQLite constraint failure into Error(invalid) naming `what`; rethrows anything else.
[[noreturn]] void rethrow_constraint(const SQLite::Exception& e, std::string_view what);

template <class Entity>
class Table {
    using D = Describe<Entity>;

public:
    static std::string_view name() { return D::table; }

    // `table.col, …, (expr) AS name` for every readable field, in description order.
    static const std::string& select_list() {
        static const std::string list = [] {
            std::string out;
            for_each_field<Entity>([&](const auto& f) {
                if (!f.is_output()) return;
                if (!out.empty()) out += ", ";
                if (f.has(field::computed)) {
                    out += fmt::format("({}) AS {}", computed_sql(D::table, f.name), f.name);
                } else {
                    out += fmt::format("{}.{}", D::table, f.name);
                }
            });
            return out;
        }();
        return list;
    }

    static void read_row(SQLite::Statement& st, Entity& e) {
        int i = 0;
        for_each_field<Entity>([&](const auto& f) {
            if (!f.is_output()) return;
            column::read(st.getColumn(i++), e.*(f.member));
        });
    }

    static const std::string& owner_column() {
        static const std::string name = [] {
            std::string out;
            for_each_field<Entity>([&](const auto& f) {
                if (f.has(field::owner)) out = fmt::format("{}.{}", D::table, f.name);
            });
            return out;
        }();
        return name;
    }

    static std::string scope_condition(const Scope& scope, std::vector<BindValue>& binds) {
        const auto& owner = owner_column();
        if (!scope.owner || owner.empty()) return "1";
        binds.emplace_back(*scope.owner);
        return owner + " = ?";
    }

    static std::optional<Entity> find(Connection& c, std::int64_t id, const Scope& scope) {
        static const auto sql = by_id_sql(fmt::format("SELECT {} FROM {}", select_list(), D::table));
        auto& st = bind_by_id(c, sql, id, scope);
        if (!st.executeStep()) return std::nullopt;
        Entity e;
        read_row(st, e);
        return e;
    }

    static bool exists(Connection& c, std::int64_t id, const Scope& scope) {
        static const auto sql = by_id_sql(fmt::format("SELECT 1 FROM {}", D::table));
        return bind_by_id(c, sql, id, scope).executeStep();
    }

    // Stores a validated entity (its owner already set) and returns the new id.
    static std::int64_t insert(Connection& c, const Entity& e) {
        insert_rows(c, &e, 1);
        return c.db().getLastInsertRowid();
    }

    // Stores many validated entities with one multi-row statement per call: bulk imports pay
    // the per-statement cost once per batch instead of once per row.
    static void insert_rows(Connection& c, const Entity* rows, std::size_t count) {
        auto& st = c.cached(insert_sql(count));
        int i = 1;
        for (std::size_t r = 0; r < count; ++r) {
            for_each_field<Entity>([&](const auto& f) {
                if (!f.is_column() || f.has(field::key)) return;
                column::bind(st, i++, rows[r].*(f.member));
            });
        }
        try {
            st.exec();
        } catch (const SQLite::Exception& ex) {
            rethrow_constraint(ex, D::entity);
        }
    }

    // Writes every column of `e` but its key and owner back to its row (derived read-only
    // columns included). Secret columns are written only when set, since reads never load them.
    static void update(Connection& c, const Entity& e) {
        std::string sets;
        std::vector<std::function<void(SQLite::Statement&, int)>> binders;
        for_each_field<Entity>([&](const auto& f) {
            if (!f.is_column() || f.has(field::key | field::owner)) return;
            if (f.has(field::secret) && column_empty(e.*(f.member))) return;
            sets += fmt::format("{}{} = ?", sets.empty() ? "" : ", ", f.name);
            binders.push_back([&e, &f](SQLite::Statement& st, int i) { column::bind(st, i, e.*(f.member)); });
        });
        std::int64_t id = 0;
        for_each_field<Entity>([&](const auto& f) {
            if constexpr (column::is_integer<std::decay_t<decltype(e.*(f.member))>>) {
                if (f.has(field::key)) id = value_of(e.*(f.member));
            }
        });
        auto& st = c.cached(fmt::format("UPDATE {} SET {} WHERE {} = ?", D::table, sets, D::id));
        int i = 1;
        for (auto& b : binders) b(st, i++);
        st.bind(i, id);
        try {
            st.exec();
        } catch (const SQLite::Exception& ex) {
            rethrow_constraint(ex, D::entity);
        }
    }

    // Ids of every row `owner` owns, in id order.
    static std::vector<std::int64_t> ids_of_owner(Connection& c, std::int64_t owner) {
        static const auto sql =
            fmt::format("SELECT {}.{} FROM {} WHERE {} = ? ORDER BY 1", D::table, D::id, D::table, owner_column());
        auto& st = c.cached(sql);
        st.bind(1, owner);
        std::vector<std::int64_t> ids;
        while (st.executeStep()) ids.push_back(st.getColumn(0).getInt64());
        return ids;
    }

    static bool erase(Connection& c, std::int64_t id, const Scope& scope) {
        static const auto sql = by_id_sql(fmt::format("DELETE FROM {}", D::table));
        return bind_by_id(c, sql, id, scope).exec() > 0;
    }

    // A streaming listing: counts the matches, then steps through them as the cursor is read.
    static Cursor<Entity> list(ReadLease lease, const ListQuery& q, const Scope& scope,
                               const std::optional<Join>& join = std::nullopt) {
        std::vector<BindValue> binds;
        std::string from = std::string(D::table);
        if (join) {
            from += " " + join->sql;
            binds.emplace_back(join->value);
        }
        std::string where = scope_condition(scope, binds);
        add_filters(q, where, binds);

        auto& count = lease->cached(fmt::format("SELECT COUNT(*) FROM {} WHERE {}", from, where));
        bind_all(count, binds);
        count.executeStep();
        const std::int64_t total = count.getColumn(0).getInt64();
        count.reset();

        std::string sql =
            fmt::format("SELECT {} FROM {} WHERE {} ORDER BY {}", select_list(), from, where, order_by(q.sort));
        if (q.limit || q.offset) {
            sql += " LIMIT ? OFFSET ?";
            binds.emplace_back(q.limit.value_or(-1));
            binds.emplace_back(q.offset.value_or(0));
        }
        struct State {
            ReadLease lease;
            std::unique_ptr<SQLite::Statement> statement;
        };
        auto state = std::make_shared<State>(State{std::move(lease), nullptr});
        state->statement = std::make_unique<SQLite::Statement>(state->lease->db(), sql);
        bind_all(*state->statement, binds);
        return Cursor<Entity>(
            [state](Entity& out) {
                if (!state->statement || !state->statement->executeStep()) {
                    state->statement.reset();
                    return false;
                }
                read_row(*state->statement, out);
                return true;
            },
            total);
    }

private:
    static std::string insert_sql(std::size_t rows) {
        static const auto head_and_row = [] {
            std::string cols, marks;
            for_each_field<Entity>([&](const auto& f) {
                if (!f.is_column() || f.has(field::key)) return;
                cols += (cols.empty() ? "" : ", ") + std::string(f.name);
                marks += marks.empty() ? "?" : ", ?";
            });
            return std::pair{fmt::format("INSERT INTO {} ({}) VALUES ", D::table, cols), "(" + marks + ")"};
        }();
        std::string sql = head_and_row.first;
        for (std::size_t r = 0; r < rows; ++r) {
            if (r) sql += ", ";
            sql += head_and_row.second;
        }
        return sql;
    }

    // The statement for one row by id, unscoped and restricted to an owner: built once.
    struct ByIdSql {
        std::string all;
        std::string owned;
    };
    static ByIdSql by_id_sql(const std::string& head) {
        const auto all = fmt::format("{} WHERE {}.{} = ?", head, D::table, D::id);
        const auto owner = owner_column();
        return {all, owner.empty() ? all : fmt::format("{} AND {} = ?", all, owner)};
    }
    static SQLite::Statement& bind_by_id(Connection& c, const ByIdSql& sql, std::int64_t id, const Scope& scope) {
        const bool scoped = scope.owner && !owner_column().empty();
        auto& st = c.cached(scoped ? sql.owned : sql.all);
        st.bind(1, id);
        if (scoped) st.bind(2, *scope.owner);
        return st;
    }

    static bool column_empty(const std::string& v) { return v.empty(); }
    static bool column_empty(const std::optional<std::string>& v) { return !v || v->empty(); }
    static bool column_empty(const std::int64_t&) { return false; }
    static bool column_empty(const double&) { return false; }
    static bool column_empty(const std::optional<std::int64_t>& v) { return !v; }
    static std::int64_t value_of(const std::int64_t& v) { return v; }
    static std::int64_t value_of(const std::optional<std::int64_t>& v) { return v.value_or(0); }

    static void add_filters(const ListQuery& q, std::string& where, std::vector<BindValue>& binds) {
        for (const auto& [key, value] : q.filters) {
            for_each_field<Entity>([&](const auto& f) {
                if (f.name != key || !f.is_output() || f.has(field::computed)) return;
                const auto col = fmt::format("{}.{}", D::table, f.name);
                using T = std::decay_t<decltype(std::declval<Entity>().*(f.member))>;
                if constexpr (std::is_same_v<T, double>) {
                    where += fmt::format(" AND {} = ?", col);
                    binds.emplace_back(std::string(value));
                } else if constexpr (column::is_integer<T>) {
                    auto n = parse_int64(value);
                    if (!n) throw Error(Errc::invalid, fmt::format("filter {} must be an integer", key));
                    where += fmt::format(" AND {} = ?", col);
                    binds.emplace_back(*n);
                } else if (f.has(field::exact)) {
                    where += fmt::format(" AND {} = ?", col);
                    binds.emplace_back(std::string(value));
                } else if (f.has(field::phone)) {
                    where += fmt::format(" AND {} LIKE '%' || ? ESCAPE '\\'", col);
                    binds.emplace_back(escape_like(value));
                } else {
                    where += fmt::format(" AND {} LIKE '%' || ? || '%' ESCAPE '\\'", col);
                    binds.emplace_back(escape_like(value));
                }
            });
        }
    }

    static std::string order_by(const std::string& sort) {
        const std::string id_col = fmt::format("{}.{}", D::table, D::id);
        if (sort.empty()) return id_col;
        const bool descending = sort.front() == '-';
        const std::string_view key = descending ? std::string_view(sort).substr(1) : std::string_view(sort);
        std::string expr;
        for_each_field<Entity>([&](const auto& f) {
            if (f.name != key || !f.is_output()) return;
            expr = f.has(field::computed) ? std::string(f.name) : fmt::format("{}.{}", D::table, f.name);
        });
        if (expr.empty()) throw Error(Errc::invalid, fmt::format("cannot sort by '{}'", key));
        const char* dir = descending ? "DESC" : "ASC";
        return fmt::format("{} {}, {} {}", expr, dir, id_col, dir);
    }
};

}  // namespace ictcore::store

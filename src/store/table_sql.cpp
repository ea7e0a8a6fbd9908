// Helpers of the generated SQL, and the expressions behind computed fields.
#include "store/table.hpp"

#include <sqlite3.h>

namespace ictcore::store {

std::optional<std::int64_t> parse_int64(std::string_view text) {
    std::int64_t value = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
    return value;
}

std::string escape_like(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
        out += ch;
    }
    return out;
}

namespace {
// SQLite names the clashing columns as "UNIQUE constraint failed: table.column[, ...]".
std::string clashing_columns(std::string_view message) {
    const auto colon = message.find(": ");
    if (colon == std::string_view::npos) return "value";
    std::string out;
    for (auto rest = message.substr(colon + 2); !rest.empty();) {
        const auto comma = rest.find(", ");
        auto item = rest.substr(0, comma);
        if (const auto dot = item.find('.'); dot != std::string_view::npos) item.remove_prefix(dot + 1);
        out += (out.empty() ? "" : " and ") + std::string(item);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 2);
    }
    return out;
}
}  // namespace

void rethrow_constraint(const SQLite::Exception& e, std::string_view what) {
    switch (e.getExtendedErrorCode()) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
            throw Error(Errc::invalid,
                        fmt::format("a {} with this {} already exists", what, clashing_columns(e.what())));
        case SQLITE_CONSTRAINT_FOREIGNKEY:
            throw Error(Errc::invalid, fmt::format("{} refers to a row that does not exist", what));
        case SQLITE_CONSTRAINT_NOTNULL:
            throw Error(Errc::invalid, fmt::format("{} is missing a required value", what));
        default:
            throw;
    }
}

std::string computed_sql(std::string_view table, std::string_view field_name) {
    if (table == "contact_group" && field_name == "contact_total") {
        return "SELECT COUNT(*) FROM group_contact gc WHERE gc.group_id = contact_group.group_id";
    }
    if (table == "campaign" && field_name == "pending") {
        return "MAX(campaign.contact_total - campaign.contact_done, 0)";
    }
    throw Error(Errc::internal, fmt::format("no SQL for computed field {}.{}", table, field_name));
}

}  // namespace ictcore::store

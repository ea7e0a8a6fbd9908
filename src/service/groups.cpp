// Groups: members listing and CSV import/export. The CSV columns come from the csv_column
// of each Contact field, so the format follows the description.
#include <ictcore/groups.hpp>

#include "csv/csv_reader.hpp"
#include "csv/csv_writer.hpp"
#include "model/validation_impl.hpp"
#include "service/service_support.hpp"
#include "store/queries.hpp"

#include <algorithm>
#include <cctype>

namespace ictcore {

namespace {

// Rows per multi-row INSERT during an import.
constexpr std::size_t import_batch = 128;

// Reads and writes one Contact field as CSV text.
struct CsvColumn {
    std::string_view name;
    std::function<void(Contact&, std::string&&)> set;
    std::function<std::string_view(const Contact&)> get;
};

void assign(std::string& member, std::string&& v) { member = std::move(v); }
void assign(std::optional<std::string>& member, std::string&& v) {
    if (v.empty())
        member.reset();
    else
        member = std::move(v);
}
std::string_view view(const std::string& v) { return v; }
std::string_view view(const std::optional<std::string>& v) { return v ? std::string_view(*v) : std::string_view(); }

const std::vector<CsvColumn>& csv_columns() {
    static const std::vector<CsvColumn> columns = [] {
        std::vector<std::pair<int, CsvColumn>> found;
        for_each_field<Contact>([&](const auto& f) {
            using T = std::decay_t<decltype(std::declval<Contact&>().*(f.member))>;
            if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::optional<std::string>>) {
                if (f.csv_column < 0) return;
                CsvColumn col{f.name, [&f](Contact& c, std::string&& v) { assign(c.*(f.member), std::move(v)); },
                              [&f](const Contact& c) { return view(c.*(f.member)); }};
                found.emplace_back(f.csv_column, std::move(col));
            }
        });
        std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        std::vector<CsvColumn> out;
        for (auto& [_, col] : found) out.push_back(std::move(col));
        return out;
    }();
    return columns;
}

std::string lower_trimmed(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t");
    std::string out(s.substr(first, last - first + 1));
    for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return out;
}

const CsvColumn* column_named(std::string_view name) {
    for (const auto& col : csv_columns()) {
        if (col.name == name) return &col;
    }
    return nullptr;
}

bool blank(const std::vector<std::string>& fields) {
    return std::all_of(fields.begin(), fields.end(),
                       [](const std::string& f) { return f.find_first_not_of(" \t\r") == std::string::npos; });
}

}  // namespace

Cursor<Contact> Groups::contacts(const Principal& who, std::int64_t group_id, const ListQuery& query) {
    who.require("group_read");
    who.require("contact_read");
    const auto scope = detail::CoreState::scope_of(who);
    auto lease = state_.store->borrow();
    if (!store::Table<Group>::exists(*lease, group_id, scope)) service::not_found<Group>(group_id);
    return store::Table<Contact>::list(std::move(lease), query, scope, store::group_members(group_id));
}

ImportReport Groups::import_csv(const Principal& who, std::int64_t group_id, std::string_view text) {
    who.require("group_update");
    who.require("contact_create");
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        throw Error(Errc::length_required, "the CSV body is empty");
    }
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->write([&](store::Connection& c) {
        if (!store::Table<Group>::exists(c, group_id, scope)) service::not_found<Group>(group_id);
        ImportReport report;
        const std::int64_t last_before = store::last_contact_id(c);
        std::vector<Contact> batch;
        batch.reserve(import_batch);
        auto flush = [&] {
            store::Table<Contact>::insert_rows(c, batch.data(), batch.size());
            batch.clear();
        };
        std::vector<const CsvColumn*> layout;
        for (const auto& col : csv_columns()) layout.push_back(&col);
        bool first = true;

        auto reject = [&](std::int64_t line, std::string reason) {
            ++report.rejected;
            if (report.rejections.size() < ImportReport::max_listed_rejections) {
                report.rejections.push_back({line, std::move(reason)});
            }
        };

        csv::read_records(text, [&](std::int64_t line, std::vector<std::string>& fields) {
            if (blank(fields)) return;
            if (first) {
                first = false;
                if (column_named(lower_trimmed(fields[0]))) {  // a header row names the columns
                    layout.clear();
                    for (const auto& name : fields) {
                        const CsvColumn* col = column_named(lower_trimmed(name));
                        if (!col) {
                            throw Error(Errc::invalid,
                                        fmt::format("unknown CSV column '{}' in the header on line {}", name, line));
                        }
                        layout.push_back(col);
                    }
                    return;
                }
            }
            if (fields.size() > layout.size()) {
                reject(line, fmt::format("{} columns, at most {} expected", fields.size(), layout.size()));
                return;
            }
            Contact contact;
            for (std::size_t i = 0; i < fields.size(); ++i) layout[i]->set(contact, std::move(fields[i]));
            try {
                model::validate_fields(contact, model::ValidationMode::csv_import);
            } catch (const Error& e) {
                reject(line, e.what());
                return;
            }
            contact.created_by = who.user_id();
            batch.push_back(std::move(contact));
            if (batch.size() == import_batch) flush();
            ++report.imported;
        });
        if (!batch.empty()) flush();
        store::link_contacts_after(c, group_id, last_before);
        return report;
    });
}

Cursor<std::string> Groups::export_csv(const Principal& who, std::int64_t group_id) {
    auto rows = std::make_shared<Cursor<Contact>>(contacts(who, group_id, ListQuery{}));
    const auto total = rows->total();
    return Cursor<std::string>(
        [rows](std::string& chunk) {
            chunk.clear();
            Contact contact;
            while (chunk.size() < 64 * 1024 && rows->next(contact)) {
                bool first = true;
                for (const auto& col : csv_columns()) {
                    if (!first) chunk += ',';
                    first = false;
                    csv::append_field(chunk, col.get(contact));
                }
                chunk += "\r\n";
            }
            return !chunk.empty();
        },
        total);
}

std::string Groups::sample_csv() {
    std::string out;
    for (const auto& col : csv_columns()) {
        if (!out.empty()) out += ',';
        out += col.name;
    }
    out +=
        "\r\n"
        "+923001234567,Ali,Khan,ali@example.com,\"House 1, Street 2, Lahore\",gold,,,first customer\r\n"
        "+14155550123,Jane,Doe,jane@example.com,,,,,\r\n";
    return out;
}

}  // namespace ictcore

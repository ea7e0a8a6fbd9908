// Feeds libcsv one physical line at a time so the start line of every record is known.
#include "csv/csv_reader.hpp"

#include <ictcore/error.hpp>

#include <csv.h>
#include <fmt/format.h>

#include <cstring>

namespace ictcore::csv {

namespace {

struct ParseState {
    const RecordHandler* on_record;
    std::vector<std::string> fields;
    std::int64_t record_line = 0;
    bool between_records = true;
};

void on_field(void* data, std::size_t size, void* user) {
    auto* s = static_cast<ParseState*>(user);
    s->fields.emplace_back(static_cast<const char*>(data), size);
}

void on_row_end(int /*terminator*/, void* user) {
    auto* s = static_cast<ParseState*>(user);
    (*s->on_record)(s->record_line, s->fields);
    s->fields.clear();
    s->between_records = true;
}

struct Parser {
    csv_parser p;
    Parser() {
        if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) throw Error(Errc::internal, "csv parser init failed");
    }
    ~Parser() { csv_free(&p); }
};

}  // namespace

void read_records(std::string_view text, const RecordHandler& on_record) {
    if (text.size() >= 3 && std::memcmp(text.data(), "\xEF\xBB\xBF", 3) == 0) text.remove_prefix(3);
    Parser parser;
    ParseState state{&on_record, {}, 0, true};
    std::int64_t line = 0;
    std::size_t pos = 0;
    while (pos < text.size()) {
        ++line;
        const std::size_t nl = text.find('\n', pos);
        const std::size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
        const std::string_view chunk = text.substr(pos, end - pos);
        pos = end;
        if (state.between_records) {
            const auto content = chunk.find_first_not_of("\r\n");
            if (content == std::string_view::npos) continue;  // blank line
            state.record_line = line;
            state.between_records = false;
        }
        if (csv_parse(&parser.p, chunk.data(), chunk.size(), on_field, on_row_end, &state) != chunk.size()) {
            throw Error(Errc::invalid,
                        fmt::format("malformed CSV at line {}: {}", line, csv_strerror(csv_error(&parser.p))));
        }
    }
    if (csv_fini(&parser.p, on_field, on_row_end, &state) != 0) {
        throw Error(Errc::invalid,
                    fmt::format("malformed CSV at line {}: {}", state.record_line, csv_strerror(csv_error(&parser.p))));
    }
}

}  // namespace ictcore::csv

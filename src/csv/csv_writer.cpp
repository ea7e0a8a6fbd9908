// Quoting through libcsv's csv_write, which doubles embedded quotes.
#include "csv/csv_writer.hpp"

#include <csv.h>

namespace ictcore::csv {

void append_field(std::string& line, std::string_view field) {
    const bool needs_quotes = field.find_first_of(",\"\r\n") != std::string_view::npos ||
                              (!field.empty() && (field.front() == ' ' || field.back() == ' ' ||
                                                  field.front() == '\t' || field.back() == '\t'));
    if (!needs_quotes) {
        line.append(field);
        return;
    }
    const std::size_t start = line.size();
    line.resize(start + field.size() * 2 + 2);
    const std::size_t written = csv_write(line.data() + start, line.size() - start, field.data(), field.size());
    line.resize(start + written);
}

}  // namespace ictcore::csv

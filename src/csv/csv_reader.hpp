// CsvReader: RFC 4180 records (libcsv, strict mode) with the physical line each record
// starts on, for import reports.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore::csv {

using RecordHandler = std::function<void(std::int64_t line, std::vector<std::string>& fields)>;

// Calls `on_record` for each record, skipping blank lines. Throws Error(invalid) naming the
// line when the quoting is malformed.
void read_records(std::string_view text, const RecordHandler& on_record);

}  // namespace ictcore::csv

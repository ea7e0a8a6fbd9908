// CSV output: RFC 4180 quoting, applied only where a field needs it.
#pragma once

#include <string>
#include <string_view>

namespace ictcore::csv {

// Appends `field` to `line`, quoted when it holds a comma, quote, line break or edge space.
void append_field(std::string& line, std::string_view field);

}  // namespace ictcore::csv

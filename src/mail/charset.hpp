// Charset conversion for received mail: header words and body parts arrive in whatever
// charset the sender used; everything ictcore stores is UTF-8.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ictcore::mail {

// `bytes` in `charset` (any name glibc's iconv knows, case-insensitive) as UTF-8. Invalid
// sequences become U+FFFD. nullopt when the charset is unknown.
std::optional<std::string> to_utf8(std::string_view bytes, std::string_view charset);

// `bytes` with every invalid UTF-8 sequence replaced by U+FFFD: text from the wire is never
// trusted to be what it claims, and JSON needs valid UTF-8.
std::string valid_utf8(std::string_view bytes);

// Body text in `charset` (empty: US-ASCII), as UTF-8; an unknown charset is read as UTF-8 when
// that is valid, else as ISO-8859-1, so no byte is lost silently.
std::string text_to_utf8(std::string_view bytes, std::string_view charset);

}  // namespace ictcore::mail

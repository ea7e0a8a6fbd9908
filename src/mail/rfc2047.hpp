// RFC 2047 header decoding: "=?UTF-8?B?…?=" and "=?ISO-8859-1?Q?…?=" words in Subject, display
// names and file names, which mimetic leaves encoded.
#pragma once

#include <string>
#include <string_view>

namespace ictcore::mail {

// The header value as UTF-8 text: folded lines unfolded, encoded-words decoded (B and Q, any
// charset iconv knows, an RFC 2231 language suffix ignored), the white space between adjacent
// encoded-words dropped and their bytes joined before conversion (a multi-byte character may be
// split across words). A malformed word or an unknown charset is kept as written; 8-bit text
// outside encoded-words is taken as UTF-8 (RFC 6532) with invalid bytes replaced.
std::string decode_header_text(std::string_view raw);

}  // namespace ictcore::mail

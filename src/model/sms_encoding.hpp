// SMS encoding analysis: GSM 03.38 7-bit or UCS-2, and the number of segments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ictcore::model {

struct SmsShape {
    std::int64_t length = 0;  // characters (Unicode code points)
    std::string encoding;     // "gsm7" or "ucs2"
    std::int64_t parts = 0;   // SMS segments needed
};

// Throws Error(invalid) when `utf8` is not valid UTF-8.
SmsShape sms_shape(std::string_view utf8);

}  // namespace ictcore::model

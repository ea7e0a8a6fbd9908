// GSM 03.38 default alphabet and extension table, as Unicode code points, and segmenting.
#include "model/sms_encoding.hpp"

#include <ictcore/error.hpp>

#include <algorithm>
#include <array>
#include <vector>

namespace ictcore::model {

namespace {

// The non-ASCII characters of the GSM 03.38 default alphabet, sorted.
constexpr std::array<char32_t, 39> gsm_basic_non_ascii = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7, 0x00C9, 0x00D1, 0x00D6,
    0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6, 0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6,
    0x00F8, 0x00F9, 0x00FC, 0x0393, 0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
};

// Characters of the extension table: sent as ESC + code, two septets each.
constexpr std::u32string_view gsm_extension = U"\f^{}\\[~]|\u20AC";

enum class Gsm { basic, extension, none };

Gsm gsm_class(char32_t c) {
    if (gsm_extension.find(c) != std::u32string_view::npos) return Gsm::extension;
    if (c == '\n' || c == '\r') return Gsm::basic;
    if (c >= 0x20 && c < 0x7F) return c == '`' ? Gsm::none : Gsm::basic;
    return std::binary_search(gsm_basic_non_ascii.begin(), gsm_basic_non_ascii.end(), c) ? Gsm::basic : Gsm::none;
}

[[noreturn]] void bad_utf8() { throw Error(Errc::invalid, "data is not valid UTF-8"); }

std::vector<char32_t> decode(std::string_view s) {
    std::vector<char32_t> out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        int n = 0;
        char32_t c = 0;
        if (b0 < 0x80) {
            c = b0;
        } else if ((b0 & 0xE0) == 0xC0) {
            n = 1;
            c = b0 & 0x1F;
        } else if ((b0 & 0xF0) == 0xE0) {
            n = 2;
            c = b0 & 0x0F;
        } else if ((b0 & 0xF8) == 0xF0) {
            n = 3;
            c = b0 & 0x07;
        } else {
            bad_utf8();
        }
        if (n > 0 && i + static_cast<std::size_t>(n) >= s.size()) bad_utf8();  // truncated sequence
        for (int k = 1; k <= n; ++k) {
            const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            if ((b & 0xC0) != 0x80) bad_utf8();
            c = (c << 6) | (b & 0x3F);
        }
        static constexpr char32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
        if (c < min_for_length[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) bad_utf8();
        out.push_back(c);
        i += static_cast<std::size_t>(n) + 1;
    }
    return out;
}

// Segments needed when each character takes `units(c)` units, `single` fit one SMS and
// `per_part` fit each part of a concatenated one; a character is never split across parts.
template <class Units>
std::int64_t count_parts(const std::vector<char32_t>& text, Units units, int single, int per_part) {
    int total = 0;
    for (char32_t c : text) total += units(c);
    if (total <= single) return text.empty() ? 0 : 1;
    std::int64_t parts = 1;
    int used = 0;
    for (char32_t c : text) {
        const int u = units(c);
        if (used + u > per_part) {
            ++parts;
            used = 0;
        }
        used += u;
    }
    return parts;
}

}  // namespace

SmsShape sms_shape(std::string_view utf8) {
    const auto text = decode(utf8);
    SmsShape shape;
    shape.length = static_cast<std::int64_t>(text.size());
    const bool gsm = std::none_of(text.begin(), text.end(), [](char32_t c) { return gsm_class(c) == Gsm::none; });
    if (gsm) {
        shape.encoding = "gsm7";
        shape.parts = count_parts(
            text, [](char32_t c) { return gsm_class(c) == Gsm::extension ? 2 : 1; }, 160, 153);
    } else {
        shape.encoding = "ucs2";
        shape.parts = count_parts(
            text, [](char32_t c) { return c >= 0x10000 ? 2 : 1; }, 70, 67);
    }
    return shape;
}

}  // namespace ictcore::model

// Charset conversion with glibc's iconv.
#include "mail/charset.hpp"

#include <iconv.h>

#include <algorithm>
#include <cctype>
#include <cerrno>

namespace ictcore::mail {

namespace {

constexpr std::string_view replacement = "\xEF\xBF\xBD";  // U+FFFD

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// Length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one.
std::size_t utf8_sequence(std::string_view s) {
    const auto b = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char c = b(0);
    if (c < 0x80) return 1;
    std::size_t n = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if ((c & 0xE0) == 0xC0) {
        n = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (s.size() < n) return 0;
    for (std::size_t i = 1; i < n; ++i) {
        if ((b(i) & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (b(i) & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return n;
}

bool is_valid_utf8(std::string_view s) {
    while (!s.empty()) {
        const auto n = utf8_sequence(s);
        if (n == 0) return false;
        s.remove_prefix(n);
    }
    return true;
}

class Iconv {
public:
    explicit Iconv(const std::string& from) : handle_(::iconv_open("UTF-8", from.c_str())) {}
    ~Iconv() {
        if (ok()) ::iconv_close(handle_);
    }
    Iconv(const Iconv&) = delete;
    Iconv& operator=(const Iconv&) = delete;
    bool ok() const { return handle_ != reinterpret_cast<iconv_t>(-1); }

    std::string convert(std::string_view bytes) {
        std::string out;
        out.reserve(bytes.size() + bytes.size() / 2 + 16);
        char* in = const_cast<char*>(bytes.data());  // iconv's signature; it does not write
        std::size_t in_left = bytes.size();
        char buffer[4096];
        while (in_left > 0) {
            char* dst = buffer;
            std::size_t dst_left = sizeof buffer;
            const std::size_t rc = ::iconv(handle_, &in, &in_left, &dst, &dst_left);
            out.append(buffer, static_cast<std::size_t>(dst - buffer));
            if (rc != static_cast<std::size_t>(-1)) continue;
            if (errno == E2BIG) continue;
            // EILSEQ (invalid) or EINVAL (truncated at the end): mark it and go on after it.
            out += replacement;
            ++in;
            --in_left;
            ::iconv(handle_, nullptr, nullptr, nullptr, nullptr);
        }
        char* dst = buffer;
        std::size_t dst_left = sizeof buffer;
        ::iconv(handle_, nullptr, nullptr, &dst, &dst_left);  // flush a stateful encoding's shift
        out.append(buffer, static_cast<std::size_t>(dst - buffer));
        return out;
    }

private:
    iconv_t handle_;
};

}  // namespace

std::string valid_utf8(std::string_view bytes) {
    if (is_valid_utf8(bytes)) return std::string(bytes);
    std::string out;
    out.reserve(bytes.size() + 16);
    while (!bytes.empty()) {
        const auto n = utf8_sequence(bytes);
        if (n == 0) {
            out += replacement;
            bytes.remove_prefix(1);
        } else {
            out.append(bytes.substr(0, n));
            bytes.remove_prefix(n);
        }
    }
    return out;
}

std::optional<std::string> to_utf8(std::string_view bytes, std::string_view charset) {
    const std::string name = lower(charset);
    // UTF-8 and its subset need no conversion, only checking.
    if (name == "utf-8" || name == "utf8" || name == "us-ascii" || name == "ascii") return valid_utf8(bytes);
    if (name.empty() || name.find_first_of("/ \t") != std::string::npos) return std::nullopt;  // no iconv suffixes
    Iconv cd(name);
    if (!cd.ok()) return std::nullopt;
    return valid_utf8(cd.convert(bytes));
}

std::string text_to_utf8(std::string_view bytes, std::string_view charset) {
    if (charset.empty()) return valid_utf8(bytes);
    if (auto converted = to_utf8(bytes, charset)) return std::move(*converted);
    if (is_valid_utf8(bytes)) return std::string(bytes);
    return *to_utf8(bytes, "ISO-8859-1");
}

}  // namespace ictcore::mail

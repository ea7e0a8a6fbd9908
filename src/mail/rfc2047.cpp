// RFC 2047 decoder: finds encoded-words, decodes B (with mimetic's Base64 codec) or Q, and
// converts runs of same-charset words to UTF-8 at once.
#include "mail/rfc2047.hpp"

#include "mail/charset.hpp"

#include <mimetic/codec/base64.h>
#include <mimetic/codec/code.h>

#include <cctype>
#include <iterator>
#include <optional>

namespace ictcore::mail {

namespace {

struct EncodedWord {
    std::size_t length = 0;  // of the whole "=?…?=" in the input
    std::string charset;
    std::string bytes;  // decoded, still in `charset`
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> decode_q(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '_') {
            out += ' ';
        } else if (c == '=') {
            if (i + 2 >= text.size()) return std::nullopt;
            const int hi = hex_value(text[i + 1]);
            const int lo = hex_value(text[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

std::optional<std::string> decode_b(std::string_view text) {
    for (const char c : text) {
        const bool base64 = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=';
        if (!base64) return std::nullopt;
    }
    std::string out;
    mimetic::Base64::Decoder decoder;
    mimetic::decode(text.begin(), text.end(), decoder, std::back_inserter(out));
    return out;
}

// The encoded-word at the start of `s` ("=?charset?E?text?="), if it is a well-formed one.
std::optional<EncodedWord> encoded_word_at(std::string_view s) {
    if (s.size() < 8 || s.substr(0, 2) != "=?") return std::nullopt;
    const auto q1 = s.find('?', 2);
    if (q1 == std::string_view::npos || q1 == 2 || q1 + 2 >= s.size() || s[q1 + 2] != '?') return std::nullopt;
    const char encoding = static_cast<char>(std::toupper(static_cast<unsigned char>(s[q1 + 1])));
    const auto text_start = q1 + 3;
    const auto end = s.find("?=", text_start);
    if (end == std::string_view::npos) return std::nullopt;
    const auto text = s.substr(text_start, end - text_start);
    if (text.find_first_of(" \t\r\n?") != std::string_view::npos) return std::nullopt;
    std::string charset(s.substr(2, q1 - 2));
    if (charset.find_first_of(" \t\r\n") != std::string::npos) return std::nullopt;
    if (const auto star = charset.find('*'); star != std::string::npos) charset.erase(star);  // RFC 2231 language
    if (charset.empty()) return std::nullopt;  // "=?*en?Q?…?=": no charset to convert from
    std::optional<std::string> bytes;
    if (encoding == 'B') bytes = decode_b(text);
    if (encoding == 'Q') bytes = decode_q(text);
    if (!bytes) return std::nullopt;
    return EncodedWord{end + 2, std::move(charset), std::move(*bytes)};
}

std::string unfold(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\r' || raw[i] == '\n') continue;  // a fold keeps the white space after it
        out += raw[i];
    }
    return out;
}

bool all_space(std::string_view s) { return s.find_first_not_of(" \t") == std::string_view::npos; }

}  // namespace

std::string decode_header_text(std::string_view raw) {
    const std::string text = unfold(raw);
    const std::string_view s = text;
    std::string out;
    std::string plain;    // literal text not yet appended
    std::string pending;  // bytes of adjacent encoded-words in `pending_charset`
    std::string pending_charset;
    std::string pending_literal;  // the same words as written, for an unknown charset

    const auto flush_pending = [&] {
        if (pending_charset.empty()) return;
        if (auto utf8 = to_utf8(pending, pending_charset)) {
            out += *utf8;
        } else {
            out += valid_utf8(pending_literal);
        }
        pending.clear();
        pending_charset.clear();
        pending_literal.clear();
    };

    std::size_t i = 0;
    while (i < s.size()) {
        if (s[i] == '=' && i + 1 < s.size() && s[i + 1] == '?') {
            if (auto word = encoded_word_at(s.substr(i))) {
                // White space between two encoded-words is not part of the text (RFC 2047 §6.2).
                if (!pending_charset.empty() && all_space(plain)) plain.clear();
                if (!plain.empty()) {
                    flush_pending();
                    out += valid_utf8(plain);
                    plain.clear();
                }
                std::string lower_charset = word->charset;
                for (auto& c : lower_charset) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                if (lower_charset != pending_charset) flush_pending();
                pending_charset = lower_charset;
                pending += word->bytes;
                pending_literal += s.substr(i, word->length);
                i += word->length;
                continue;
            }
        }
        plain += s[i];
        ++i;
    }
    flush_pending();
    out += valid_utf8(plain);
    return out;
}

}  // namespace ictcore::mail

// MIME parsing with mimetic: a walk over the entity tree that sorts parts into bodies and
// attachments and undoes transfer and charset encodings.
#include "mail/mime_message.hpp"

#include "mail/charset.hpp"
#include "mail/rfc2047.hpp"

#include <ictcore/error.hpp>

#include <mimetic/mimetic.h>

#include <algorithm>
#include <cctype>
#include <iterator>

namespace ictcore::mail {

namespace {

// Multipart nesting deeper than this is not a real mail client's; stop before the stack does.
constexpr int max_depth = 32;

template <class IString>
std::string plain(const IString& s) {
    return std::string(s.begin(), s.end());
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

std::string trim(std::string s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

std::string crlf_to_lf(std::string s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
        out += s[i];
    }
    return out;
}

std::string field_value(const mimetic::Header& header, const char* name) {
    if (!header.hasField(name)) return {};
    return header.field(name).value();
}

// RFC 2231 "filename*=UTF-8''na%C3%AFve.pdf": charset, empty language, percent-encoded bytes.
std::optional<std::string> rfc2231_value(const std::string& value) {
    const auto q1 = value.find('\'');
    if (q1 == std::string::npos) return std::nullopt;
    const auto q2 = value.find('\'', q1 + 1);
    if (q2 == std::string::npos) return std::nullopt;
    std::string bytes;
    for (std::size_t i = q2 + 1; i < value.size(); ++i) {
        if (value[i] == '%' && i + 2 < value.size() && std::isxdigit(static_cast<unsigned char>(value[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(value[i + 2]))) {
            bytes += static_cast<char>(std::stoi(value.substr(i + 1, 2), nullptr, 16));
            i += 2;
        } else {
            bytes += value[i];
        }
    }
    return text_to_utf8(bytes, value.substr(0, q1));
}

template <class Field>
std::string param_of(const Field& field, const std::string& name) {
    for (const auto& p : field.paramList()) {
        if (lower(plain(p.name())) == name) return p.value();
    }
    return {};
}

std::string file_name_of(const mimetic::Header& header) {
    const bool has_disposition = header.hasField("Content-Disposition");
    const bool has_type = header.hasField("Content-Type");
    if (has_disposition) {
        if (auto v = rfc2231_value(param_of(header.contentDisposition(), "filename*"))) return *v;
        if (auto v = param_of(header.contentDisposition(), "filename"); !v.empty()) return decode_header_text(v);
    }
    if (has_type) {
        if (auto v = rfc2231_value(param_of(header.contentType(), "name*"))) return *v;
        if (auto v = param_of(header.contentType(), "name"); !v.empty()) return decode_header_text(v);
    }
    return {};
}

std::string decode_transfer(const mimetic::MimeEntity& entity) {
    const std::string& raw = entity.body();
    const std::string mechanism = lower(trim(plain(entity.header().contentTransferEncoding().mechanism())));
    std::string out;
    if (mechanism == "base64") {
        mimetic::Base64::Decoder decoder;
        mimetic::decode(raw.begin(), raw.end(), decoder, std::back_inserter(out));
    } else if (mechanism == "quoted-printable") {
        mimetic::QP::Decoder decoder;
        mimetic::decode(raw.begin(), raw.end(), decoder, std::back_inserter(out));
    } else {
        out = raw;
    }
    return out;
}

struct Walker {
    MimeMessage& message;
    int unnamed = 0;

    void walk(const mimetic::MimeEntity& entity, int depth) {
        if (depth > max_depth) throw Error(Errc::invalid, "the message nests MIME parts too deeply");
        const auto& header = entity.header();
        const bool has_type = header.hasField("Content-Type");
        std::string type = has_type ? lower(plain(header.contentType().type())) : "text";
        std::string subtype = has_type ? lower(plain(header.contentType().subtype())) : "plain";
        if (type.empty()) type = "text", subtype = "plain";
        if (type == "multipart") {
            for (const auto* part : entity.body().parts()) walk(*part, depth + 1);
            return;
        }
        const std::string disposition =
            header.hasField("Content-Disposition") ? lower(plain(header.contentDisposition().type())) : "";
        std::string file_name = file_name_of(header);
        const bool inline_text = type == "text" && disposition != "attachment" && file_name.empty();
        if (inline_text && (subtype == "plain" || subtype == "html")) {
            const std::string charset = has_type ? header.contentType().param("charset") : "";
            std::string text = crlf_to_lf(text_to_utf8(decode_transfer(entity), trim(charset)));
            auto& slot = subtype == "plain" ? message.text : message.html;
            // More inline parts of one kind (a list footer, say) continue the same body.
            if (slot) {
                *slot += "\n" + text;
            } else {
                slot = std::move(text);
            }
            return;
        }
        MailAttachment a;
        if (file_name.empty()) file_name = "attachment-" + std::to_string(++unnamed);
        a.file_name = std::move(file_name);
        a.content_type = type + "/" + (subtype.empty() ? "octet-stream" : subtype);
        a.bytes = decode_transfer(entity);
        message.attachments.push_back(std::move(a));
    }
};

}  // namespace

std::string lower_address(std::string_view address) { return lower(std::string(address)); }

MimeMessage parse_mime_message(std::string_view raw) {
    mimetic::MimeEntity entity{raw.begin(), raw.end()};
    const auto& header = entity.header();
    if (header.empty()) throw Error(Errc::invalid, "the message has no header");
    MimeMessage message;
    message.subject = trim(decode_header_text(field_value(header, "Subject")));
    // Addresses are read by our own parser: mimetic's reads past the end of malformed lists.
    const auto from = parse_address_list(field_value(header, "From"));
    if (!from.empty()) message.from = from.front();
    message.to = parse_address_list(field_value(header, "To"));
    message.cc = parse_address_list(field_value(header, "Cc"));
    Walker{message}.walk(entity, 0);
    return message;
}

}  // namespace ictcore::mail

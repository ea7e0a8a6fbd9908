// Derived fields of messages and the rendering of e-mail templates.
#include "model/derive.hpp"
#include "model/escape_html.hpp"
#include "model/sms_encoding.hpp"

#include <ictcore/error.hpp>
#include <ictcore/message.hpp>

#include <fmt/format.h>

namespace ictcore {

namespace model {

std::string escape_html(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

template <>
void derive<Text>(Text& text) {
    if (text.type && !text.type->empty() && *text.type != "plain" && *text.type != "unicode" &&
        *text.type != "binary") {
        throw Error(Errc::invalid, "type must be plain, unicode or binary");
    }
    const SmsShape shape = sms_shape(text.data);
    text.length = shape.length;
    text.encoding = shape.encoding;
    text.parts = shape.parts;
}

}  // namespace model

namespace {

std::string contact_value(const Contact& contact, std::string_view name, bool& known) {
    std::string value;
    known = false;
    for_each_field<Contact>([&](const auto& f) {
        if (f.name != name || !f.is_output()) return;
        known = true;
        const auto& member = contact.*(f.member);
        using T = std::decay_t<decltype(member)>;
        if constexpr (std::is_same_v<T, std::string>) {
            value = member;
        } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
            value = member.value_or("");
        } else {
            value = std::to_string(member);
        }
    });
    return value;
}

// A subject is one header line: contact data must not start another.
std::string single_line(std::string_view s) {
    std::string out;
    for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
    return out;
}

template <class Encode>
std::string fill(std::string_view text, const Contact& contact, Encode encode) {
    static constexpr std::string_view open = "[contact:";
    std::string out;
    out.reserve(text.size());
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto start = text.find(open, pos);
        if (start == std::string_view::npos) break;
        const auto end = text.find(']', start + open.size());
        if (end == std::string_view::npos) break;
        out.append(text, pos, start - pos);
        bool known = false;
        const auto value = contact_value(contact, text.substr(start + open.size(), end - start - open.size()), known);
        if (known) {
            out += encode(value);
        } else {
            out.append(text, start, end + 1 - start);  // not a placeholder of ours: keep it
        }
        pos = end + 1;
    }
    out.append(text, pos);
    return out;
}

}  // namespace

RenderedEmail render(const Template& tmpl, const Contact& contact) {
    RenderedEmail out;
    out.subject = fill(tmpl.subject, contact, [](const std::string& v) { return single_line(v); });
    out.body = fill(tmpl.body, contact, [](const std::string& v) { return model::escape_html(v); });
    out.body_alt = fill(tmpl.body_alt.value_or(""), contact, [](const std::string& v) { return v; });
    return out;
}

}  // namespace ictcore

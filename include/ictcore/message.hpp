// Messages: what a program delivers. Text (SMS) and Template (email) here; fax documents and
// voice recordings come with their media conversions.
#pragma once

#include <ictcore/contact.hpp>
#include <ictcore/field.hpp>

#include <string>

namespace ictcore {

// An SMS text. `length`, `encoding` and `parts` are computed from `data` whenever it is
// stored: `length` counts characters; `encoding` is `gsm7` when every character is in the
// GSM 03.38 alphabet (its extension table included), else `ucs2`; `parts` is the number of
// SMS segments (160 septets alone or 153 per part, extension characters taking two and never
// split; 70 UTF-16 units alone or 67 per part, surrogate pairs never split).
struct Text {
    std::int64_t text_id = 0;
    std::string name;
    std::string data;
    std::optional<std::string> type;  // client's hint: plain, unicode or binary
    std::optional<std::string> description;
    std::int64_t length = 0;
    std::string encoding;
    std::int64_t parts = 0;
    std::int64_t created_by = 0;
};

template <>
struct Describe<Text> {
    static constexpr std::string_view entity = "text";
    static constexpr std::string_view table = "text";
    static constexpr std::string_view id = "text_id";
    using T = Text;
    static constexpr auto fields =
        std::make_tuple(Field<T, std::int64_t>{"text_id", &T::text_id, field::key},
                        Field<T, std::string>{"name", &T::name, field::required},
                        Field<T, std::string>{"data", &T::data, field::required, -1, 16 * 1024},
                        Field<T, std::optional<std::string>>{"type", &T::type, field::none, -1, 16},
                        Field<T, std::optional<std::string>>{"description", &T::description, field::none, -1, 1024},
                        Field<T, std::int64_t>{"length", &T::length, field::readonly},
                        Field<T, std::string>{"encoding", &T::encoding, field::readonly},
                        Field<T, std::int64_t>{"parts", &T::parts, field::readonly},
                        Field<T, std::int64_t>{"created_by", &T::created_by, field::owner});
};

// An e-mail template: HTML `body`, plain-text `body_alt`. Placeholders `[contact:<field>]`
// (any Contact field, e.g. `[contact:first_name]`) are replaced per contact by render().
struct Template {
    std::int64_t template_id = 0;
    std::string name;
    std::optional<std::string> description;
    std::string subject;
    std::string body;
    std::optional<std::string> body_alt;
    std::optional<std::string> type;             // extension of the attachment, set by its upload
    std::optional<std::string> attachment;       // the attachment's original file name
    std::optional<std::string> attachment_type;  // and its content type
    std::int64_t created_by = 0;
};

template <>
struct Describe<Template> {
    static constexpr std::string_view entity = "template";
    static constexpr std::string_view table = "template";
    static constexpr std::string_view id = "template_id";
    using T = Template;
    static constexpr auto fields =
        std::make_tuple(Field<T, std::int64_t>{"template_id", &T::template_id, field::key},
                        Field<T, std::string>{"name", &T::name, field::required},
                        Field<T, std::optional<std::string>>{"description", &T::description, field::none, -1, 1024},
                        Field<T, std::string>{"subject", &T::subject, field::required, -1, 998},
                        Field<T, std::string>{"body", &T::body, field::required, -1, 512 * 1024},
                        Field<T, std::optional<std::string>>{"body_alt", &T::body_alt, field::none, -1, 512 * 1024},
                        Field<T, std::optional<std::string>>{"type", &T::type, field::readonly, -1, 16},
                        Field<T, std::optional<std::string>>{"attachment", &T::attachment, field::readonly},
                        Field<T, std::optional<std::string>>{"attachment_type", &T::attachment_type, field::readonly},
                        Field<T, std::int64_t>{"created_by", &T::created_by, field::owner});
};

// A voice recording. Its media (WAV or MP3) is kept as uploaded and converted to the
// telephony format, 8 kHz mono 16-bit PCM WAV; `type` is the upload's extension and `length`
// the duration in seconds, both set by the upload.
struct Recording {
    std::int64_t recording_id = 0;
    std::string name;
    std::optional<std::string> description;
    std::optional<std::string> type;
    double length = 0;
    std::int64_t created_by = 0;
};

template <>
struct Describe<Recording> {
    static constexpr std::string_view entity = "recording";
    static constexpr std::string_view table = "recording";
    static constexpr std::string_view id = "recording_id";
    using T = Recording;
    static constexpr auto fields =
        std::make_tuple(Field<T, std::int64_t>{"recording_id", &T::recording_id, field::key},
                        Field<T, std::string>{"name", &T::name, field::required},
                        Field<T, std::optional<std::string>>{"description", &T::description, field::none, -1, 1024},
                        Field<T, std::optional<std::string>>{"type", &T::type, field::readonly, -1, 16},
                        Field<T, double>{"length", &T::length, field::readonly},
                        Field<T, std::int64_t>{"created_by", &T::created_by, field::owner});
};

// A fax document. Its media (PDF, TIFF, PNG or JPEG) is kept as uploaded and converted to a
// fax-ready TIFF (ITU T.6, 1728 px wide, 204x196 dpi, one page per page); `type` is the
// upload's extension, the other read-only fields describe the fax TIFF.
struct Document {
    std::int64_t document_id = 0;
    std::string name;
    std::optional<std::string> description;
    std::optional<std::string> type;
    std::int64_t pages = 0;
    std::int64_t size_x = 0;  // width in pixels
    double resolution_x = 0;  // dpi
    double resolution_y = 0;  // dpi
    std::int64_t created_by = 0;
};

template <>
struct Describe<Document> {
    static constexpr std::string_view entity = "document";
    static constexpr std::string_view table = "document";
    static constexpr std::string_view id = "document_id";
    using T = Document;
    static constexpr auto fields =
        std::make_tuple(Field<T, std::int64_t>{"document_id", &T::document_id, field::key},
                        Field<T, std::string>{"name", &T::name, field::required},
                        Field<T, std::optional<std::string>>{"description", &T::description, field::none, -1, 1024},
                        Field<T, std::optional<std::string>>{"type", &T::type, field::readonly, -1, 16},
                        Field<T, std::int64_t>{"pages", &T::pages, field::readonly},
                        Field<T, std::int64_t>{"size_x", &T::size_x, field::readonly},
                        Field<T, double>{"resolution_x", &T::resolution_x, field::readonly},
                        Field<T, double>{"resolution_y", &T::resolution_y, field::readonly},
                        Field<T, std::int64_t>{"created_by", &T::created_by, field::owner});
};

// A template made concrete for one contact.
struct RenderedEmail {
    std::string subject;   // placeholders replaced; line breaks from contact data removed
    std::string body;      // HTML; contact data HTML-escaped
    std::string body_alt;  // plain text
};

// Replaces `[contact:<field>]` with the contact's value (empty when the field is unset);
// placeholders naming no Contact field are left as written.
RenderedEmail render(const Template& tmpl, const Contact& contact);

}  // namespace ictcore

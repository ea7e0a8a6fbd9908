// MimeMessage: what ictcore uses of a received RFC 5322 / MIME message — subject, addresses,
// the text and HTML bodies as UTF-8, and the attachments' bytes — parsed with mimetic.
#pragma once

#include "mail/address_list.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore::mail {

struct MailAttachment {
    std::string file_name;     // decoded (RFC 2047 or RFC 2231); "attachment-N" when none given
    std::string content_type;  // "type/subtype", lower-case, without parameters
    std::string bytes;         // transfer encoding undone
};

struct MimeMessage {
    std::string subject;  // decoded to UTF-8
    std::optional<MailAddress> from;
    std::vector<MailAddress> to;
    std::vector<MailAddress> cc;
    std::optional<std::string> text;  // the text/plain body in UTF-8, line ends "\n"
    std::optional<std::string> html;  // the text/html body in UTF-8, line ends "\n"
    std::vector<MailAttachment> attachments;
};

// Parses `raw`. Every part that is not the message's text or HTML body (the first inline
// text/plain and text/html parts without a file name) is an attachment; base64 and
// quoted-printable transfer encodings are decoded, body text is converted from its charset.
// Throws Error(invalid) when `raw` has no header at all.
MimeMessage parse_mime_message(std::string_view raw);

// The address in lower case: ictcore compares e-mail addresses case-insensitively.
std::string lower_address(std::string_view address);

}  // namespace ictcore::mail

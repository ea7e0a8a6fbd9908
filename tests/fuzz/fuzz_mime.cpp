// Fuzz target: the MIME parser of received e-mail (mimetic, our address lists, RFC 2047 words,
// charset conversion). Checks that only ictcore::Error comes out and that every text the parser hands
// on (subject, names, addresses' display names, bodies, file names) is valid UTF-8, as its
// header promises and the JSON the server writes needs.
#include "mail/mime_message.hpp"

#include <ictcore/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

namespace {

using ictcore::fuzz::check;
using ictcore::fuzz::is_utf8;

void check_address(const ictcore::mail::MailAddress& a) {
    check(is_utf8(a.display_name), "a display name is not UTF-8");
    check(is_utf8(a.address), "an address is not UTF-8");
    check(!a.address.empty() && a.address.front() != '@', "an address without a local part");
    bool quoted = false;
    for (std::size_t i = 0; i < a.address.size(); ++i) {
        const auto c = static_cast<unsigned char>(a.address[i]);
        check(c >= 0x20 && c != 0x7f, "an address holds a control byte");
        if (quoted && c == '\\') {
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (!quoted) {
            check(c != '<' && c != '>' && c != ',' && c != ';', "an address holds a list special outside quotes");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    ictcore::mail::MimeMessage message;
    try {
        message = ictcore::mail::parse_mime_message(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const ictcore::Error& e) {
        check(e.code() == ictcore::Errc::invalid, "the MIME parser threw an Error that is not invalid");
        return 0;
    }
    check(is_utf8(message.subject), "the subject is not UTF-8");
    if (message.from) check_address(*message.from);
    for (const auto& a : message.to) check_address(a);
    for (const auto& a : message.cc) check_address(a);
    if (message.text) check(is_utf8(*message.text), "the text body is not UTF-8");
    if (message.html) check(is_utf8(*message.html), "the HTML body is not UTF-8");
    for (const auto& a : message.attachments) {
        check(is_utf8(a.file_name), "an attachment's file name is not UTF-8");
        check(!a.file_name.empty(), "an attachment without a file name");
        check(a.content_type.find('/') != std::string::npos, "an attachment type without a subtype");
    }
    return 0;
}

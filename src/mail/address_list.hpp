// Address lists of received mail (From, To, Cc): an RFC 5322 reader written for hostile input.
// mimetic's own address parser reads past the end of malformed lists (fuzzing found crashes), so
// the raw header value is parsed here instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ictcore::mail {

struct MailAddress {
    std::string address;       // local@domain, as written (compare case-insensitively)
    std::string display_name;  // decoded; empty when none
};

// The mailboxes of an address list, in order: "Name <a@b>", bare "a@b", quoted names with
// escapes, comments, groups ("team: a@b, c@d;" gives a@b and c@d), RFC 2047 display names and
// obsolete forms (empty list members, source routes). Whatever cannot be read as a mailbox is
// skipped; this never throws and never reads outside `value`.
std::vector<MailAddress> parse_address_list(std::string_view value);

}  // namespace ictcore::mail

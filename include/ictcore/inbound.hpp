// Inbound: what arrives from outside — an SMS from a Kannel sms-service, an e-mail piped in by
// an MTA — recorded as an inbound transmission of the account it was addressed to. There is no
// acting user: the gateway or MTA is trusted (the caller authenticates it), and everything
// created belongs to the account's owner.
#pragma once

#include <ictcore/principal.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore {

namespace detail {
struct CoreState;
}

struct InboundSms {
    std::string from;        // the sender's number
    std::string to;          // the number it was sent to: matched against account phones
    std::string text;        // UTF-8
    std::string gateway;     // e.g. the Kannel smsc id; kept as a result row when set
    std::string message_id;  // the gateway's id for the message; kept as a result row when set
};

// What was recorded for one received message.
struct InboundReceipt {
    std::int64_t account_id = 0;
    std::int64_t program_id = 0;
    std::int64_t transmission_id = 0;  // the inbound transmission (status completed)
    std::int64_t spool_id = 0;
    std::int64_t contact_id = 0;  // the sender, created in the owner's contacts when unknown
    // Transmissions created because of it (emailtofax: the sendfax transmission).
    std::vector<std::int64_t> created_transmissions;
};

class Inbound {
public:
    explicit Inbound(detail::CoreState& state);

    // Records an SMS for the active account whose phone is `sms.to`, compared as digits ("+",
    // spaces, dashes, dots and parentheses ignored; a leading "00" reads as "+"). Its program
    // is a `receivesms` program subscribed to the account, else the owner's lowest-id one. The
    // sender becomes a contact of the owner unless one has that number. Throws
    // Error(not_found) when no account or program matches, Error(invalid) for an empty sender
    // or recipient; nothing is stored then.
    InboundReceipt receive_sms(const InboundSms& sms);

    // Records an RFC 5322 message for the active account whose e-mail address is `recipient`
    // (the envelope recipient; when empty, the To, then Cc addresses of the message are tried
    // in order; compared case-insensitively), by its `receiveemail` or `emailtofax` program
    // (subscribed first, else the owner's lowest-id). An account with both uses emailtofax when
    // the recipient's local part is a fax number, receiveemail otherwise. When no recipient is
    // an account's address but one is a fax number, the account whose address is the sender
    // (From) and has an emailtofax program is used, as ICTCore does.
    // receiveemail records subject, from, to, text and html, and keeps each attachment (at most
    // Options::max_media_bytes) as media named in an "attachment" result. emailtofax turns the
    // first PDF attachment into a document of the owner, creates a sendfax program and an
    // outbound fax transmission to the number in the recipient's local part (sent at once when
    // this Core's engine runs and serves fax, else left pending) and records the e-mail too.
    // Throws Error(not_found) when no account or program matches, Error(invalid) when the
    // message cannot be used, Error(too_large) for an oversized attachment; nothing is stored.
    InboundReceipt receive_email(std::string_view message, std::string_view recipient = {});

    // The key a gateway's inbound URL carries (Kannel's get-url: `&key=…`), so only it can
    // inject messages: a keyed hash of the gateway type under the installation's secret.
    // Admins only (Error(forbidden) otherwise): it is what configures the gateway.
    std::string key(const Principal& who, std::string_view gateway_type) const;
    bool verify_key(std::string_view gateway_type, std::string_view key) const;  // constant time

private:
    detail::CoreState& state_;
};

}  // namespace ictcore

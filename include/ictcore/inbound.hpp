// Inbound: what arrives from outside — an SMS from a Kannel sms-service, an e-mail piped in by
// an MTA, a fax call answered by the SIP gateway — recorded as an inbound transmission of the
// account it was addressed to. There is no acting user: the gateway or MTA is trusted (the
// caller authenticates it), and everything created belongs to the account's owner.
#pragma once

#include <ictcore/principal.hpp>

#include <cstdint>
#include <filesystem>
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

// A fax received on a call (the SIP gateway's T.30 session over audio or T.38).
struct InboundFax {
    std::string from;            // the caller's number (empty or "anonymous" when withheld)
    std::string to;              // the number called: matched against account phones like receive_sms
    std::filesystem::path tiff;  // the received TIFF as spandsp wrote it (may hold 0 pages after a failure)
    bool success = false;        // T.30 ended normally
    int pages = 0;               // pages received
    std::string remote_id;       // the sender's station identifier (TSI)
    int bit_rate = 0;
    bool ecm = false;
    std::string t30_text;   // spandsp's completion text, e.g. "OK"
    std::string transport;  // "audio" or "t38"
};

// What was recorded for one received message.
struct InboundReceipt {
    std::int64_t account_id = 0;
    std::int64_t program_id = 0;
    std::int64_t transmission_id = 0;  // the inbound transmission (status completed)
    std::int64_t spool_id = 0;
    std::int64_t contact_id = 0;  // the sender, created in the owner's contacts when unknown
    // Transmissions created because of it (emailtofax: the sendfax transmission; faxtoemail:
    // the sendemail transmission).
    std::vector<std::int64_t> created_transmissions;
    std::int64_t document_id = 0;  // receive_fax: the document made of the received pages, 0 if none
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

    // The active account a fax call to `to` is for: its phone is `to` (compared as receive_sms
    // does) and it has a `receivefax` or `faxtoemail` program (subscribed first, else the
    // owner's lowest-id). nullopt when there is none (the gateway answers 404 then) or `to` is
    // not a number. One read; nothing is written.
    std::optional<std::int64_t> fax_account(std::string_view to) const;

    // Records a fax received for the account fax_account(fax.to) names, as an inbound fax
    // transmission of its program (status completed when fax.success, else failed; the spool's
    // response is fax.t30_text) with results info/pages, remote_id, bit_rate, ecm ("1"/"0"),
    // t30, transport and, when a document was made, document_id. The caller becomes a contact of
    // the owner unless one has that number. When fax.success and fax.pages > 0 the TIFF becomes a
    // document of the owner (the fax TIFF, its PDF and the TIFF as received, like an uploaded
    // TIFF); when it cannot be converted the transmission is failed with result info/error.
    // A faxtoemail program also mails the PDF to the account's e-mail address: an e-mail
    // template (the program's template_id, when set, gives subject and bodies), a sendemail
    // program and an outbound e-mail transmission to a contact with that address, sent at once
    // when this Core's engine runs and serves e-mail, else left pending (in
    // created_transmissions and result info/email_transmission). Without an account e-mail
    // address nothing is mailed and result info/email says "no e-mail address".
    // Everything is stored in one write. `fax.tiff` is consumed: moved into the media store or
    // deleted, whatever the outcome. Throws Error(invalid) for an empty or non-numeric `to`,
    // Error(not_found) when no account matches; nothing is stored then.
    InboundReceipt receive_fax(const InboundFax& fax);

    // The key a gateway's inbound URL carries (Kannel's get-url: `&key=…`), so only it can
    // inject messages: a keyed hash of the gateway type under the installation's secret.
    // Admins only (Error(forbidden) otherwise): it is what configures the gateway.
    std::string key(const Principal& who, std::string_view gateway_type) const;
    bool verify_key(std::string_view gateway_type, std::string_view key) const;  // constant time

private:
    detail::CoreState& state_;
};

}  // namespace ictcore

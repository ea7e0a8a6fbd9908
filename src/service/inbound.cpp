// Inbound: received SMS and e-mail recorded as inbound transmissions of the addressed account's
// owner. Parsing and media conversion happen before the write transaction; the rows (and the
// media files they name) are committed together in one write, so a failure leaves nothing.
#include <ictcore/account.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/inbound.hpp>
#include <ictcore/message.hpp>
#include <ictcore/program.hpp>
#include <ictcore/service_flag.hpp>
#include <ictcore/transmission.hpp>

#include "engine/attempt.hpp"
#include "mail/mime_message.hpp"
#include "media/fax.hpp"
#include "media/sniff.hpp"
#include "service/inbound_support.hpp"
#include "service/message_media.hpp"
#include "service/service_support.hpp"
#include "store/inbound_queries.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace ictcore {

using namespace service::inbound_detail;

namespace {

// The fax number an e-mail's local part names ("15551234567", "+15551234567"), if it is one.
std::optional<std::string> fax_number_of(std::string_view address) {
    const auto at = address.rfind('@');
    const std::string_view local = address.substr(0, at);
    const std::string_view digits = !local.empty() && local.front() == '+' ? local.substr(1) : local;
    if (digits.size() < 3 || digits.size() > 15) return std::nullopt;
    if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    return std::string(local);
}

bool is_pdf(const mail::MailAttachment& a) {
    const auto name = lower(a.file_name);
    return a.content_type == "application/pdf" || a.content_type == "application/x-pdf" ||
           (name.size() > 4 && name.compare(name.size() - 4, 4, ".pdf") == 0);
}

constexpr std::string_view email_types_text = "receiveemail or emailtofax";

// Finds who an e-mail is for: the account whose address is a recipient (envelope first, else
// To then Cc) with a receiveemail or emailtofax program; failing that, as ICTCore does for
// emailtofax, the account whose address is the sender when a recipient's local part is a fax
// number. When an account has both programs, a recipient that is a fax number
// (15551234567@fax.example.com) selects emailtofax, any other address receiveemail.
Target resolve_email(store::Connection& c, const mail::MimeMessage& message,
                     const std::vector<std::string>& recipients) {
    std::vector<std::string> accounts_without_program;
    for (const auto& recipient : recipients) {
        const auto prefer = fax_number_of(recipient) ? "emailtofax" : "receiveemail";
        for (const auto& account : store::active_accounts_by_email(c, recipient)) {
            if (auto program = receiving_program(c, account, {"receiveemail", "emailtofax"}, prefer)) {
                return Target{account, std::move(*program), recipient};
            }
            accounts_without_program.push_back(fmt::format("account {} ({})", account.account_id, account.email));
        }
    }
    if (message.from) {
        for (const auto& recipient : recipients) {
            if (!fax_number_of(recipient)) continue;
            for (const auto& account : store::active_accounts_by_email(c, message.from->address)) {
                if (auto program = receiving_program(c, account, {"emailtofax"})) {
                    return Target{account, std::move(*program), recipient};
                }
            }
        }
    }
    std::string list;
    for (const auto& r : recipients) list += (list.empty() ? "" : ", ") + r;
    if (!accounts_without_program.empty()) {
        std::string accounts;
        for (const auto& a : accounts_without_program) accounts += (accounts.empty() ? "" : ", ") + a;
        throw Error(Errc::not_found, fmt::format("{} has no {} program", accounts, email_types_text));
    }
    throw Error(Errc::not_found, fmt::format("no active account has the e-mail address {}", list));
}

std::vector<std::string> recipients_of(const mail::MimeMessage& message, std::string_view envelope) {
    std::vector<std::string> out;
    if (!trim(envelope).empty()) {
        out.push_back(trim(envelope));
        return out;
    }
    for (const auto& a : message.to) out.push_back(a.address);
    for (const auto& a : message.cc) out.push_back(a.address);
    return out;
}

// The owner's contact for an e-mail sender, created when the owner has none with that address.
std::int64_t contact_for_sender(store::Connection& c, std::int64_t owner, const mail::MailAddress& from) {
    if (const auto found = store::contact_by_email(c, owner, from.address)) return *found;
    // A contact's phone is required by the API but a sender by e-mail has none: stored empty.
    const std::string name = from.display_name.empty() ? from.address : from.display_name;
    return insert_contact(c, owner, name.substr(0, 128), "", from.address, "e-mail sender");
}

}  // namespace

Inbound::Inbound(detail::CoreState& state) : state_(state) {}

InboundReceipt Inbound::receive_sms(const InboundSms& sms) {
    const std::string from = trim(sms.from);
    const std::string to = trim(sms.to);
    if (from.empty()) throw Error(Errc::invalid, "the SMS has no sender");
    if (to.empty()) throw Error(Errc::invalid, "the SMS has no recipient");
    const std::string to_digits = phone_digits(to);
    if (to_digits.empty()) throw Error(Errc::invalid, fmt::format("the recipient '{}' is not a phone number", to));

    return state_.store->write([&](store::Connection& c) {
        std::vector<std::string> without_program;
        const std::optional<Target> target = target_by_phone(c, to_digits, to, {"receivesms"}, &without_program);
        if (!target) {
            if (without_program.empty()) {
                throw Error(Errc::not_found, fmt::format("no active account has the phone number {}", to));
            }
            std::string list;
            for (const auto& a : without_program) list += (list.empty() ? "" : ", ") + a;
            throw Error(Errc::not_found, fmt::format("{} has no receivesms program", list));
        }
        const auto owner = target->account.user_id;
        const auto now = unix_now();
        InboundReceipt receipt;
        receipt.account_id = target->account.account_id;
        receipt.program_id = target->program.program_id;
        receipt.contact_id = contact_for_phone(c, owner, from, "SMS sender");
        const auto [transmission_id, spool_id] =
            insert_received(c, inbound_transmission(*target, receipt.contact_id, service::sms, now), now);
        receipt.transmission_id = transmission_id;
        receipt.spool_id = spool_id;
        insert_result(c, spool_id, owner, "sms", "text", sms.text);
        insert_result(c, spool_id, owner, "sms", "from", from);
        insert_result(c, spool_id, owner, "sms", "to", to);
        if (!sms.gateway.empty()) insert_result(c, spool_id, owner, "sms", "gateway", sms.gateway);
        if (!sms.message_id.empty()) insert_result(c, spool_id, owner, "sms", "message_id", sms.message_id);
        return receipt;
    });
}

InboundReceipt Inbound::receive_email(std::string_view raw, std::string_view envelope_recipient) {
    if (trim(raw).empty()) throw Error(Errc::invalid, "the message is empty");
    const mail::MimeMessage message = mail::parse_mime_message(raw);
    const auto recipients = recipients_of(message, envelope_recipient);
    if (recipients.empty()) throw Error(Errc::invalid, "the message has no recipient (no To or Cc address)");

    // Who it is for decides what work it needs; the write below resolves again and must agree.
    const Target target =
        state_.store->read([&](store::Connection& c) { return resolve_email(c, message, recipients); });
    if (!message.from) throw Error(Errc::invalid, "the message has no From address");
    for (const auto& a : message.attachments) {
        if (a.bytes.size() > state_.options.max_media_bytes) {
            throw Error(Errc::too_large, fmt::format("attachment '{}' is larger than {} bytes", a.file_name,
                                                     state_.options.max_media_bytes));
        }
    }
    const auto same_target = [&](store::Connection& c) {
        Target now = resolve_email(c, message, recipients);
        if (now.program.program_id != target.program.program_id || now.account.account_id != target.account.account_id)
            throw Error(Errc::internal, "the account's programs changed while the message was processed; try again");
        return now;
    };

    CommittedMedia committed{state_.media, {}};
    if (target.program.type == "receiveemail") {
        std::vector<media::MediaStore::Temp> files;
        for (const auto& a : message.attachments)
            files.push_back(state_.media.write_temp(service::inbound_dir, a.bytes));
        try {
            return state_.store->write([&](store::Connection& c) {
                try {
                    const Target t = same_target(c);
                    const auto owner = t.account.user_id;
                    const auto now = unix_now();
                    InboundReceipt receipt;
                    receipt.account_id = t.account.account_id;
                    receipt.program_id = t.program.program_id;
                    receipt.contact_id = contact_for_sender(c, owner, *message.from);
                    const auto [transmission_id, spool_id] =
                        insert_received(c, inbound_transmission(t, receipt.contact_id, service::email, now), now);
                    receipt.transmission_id = transmission_id;
                    receipt.spool_id = spool_id;
                    insert_result(c, spool_id, owner, "email", "subject", message.subject);
                    insert_result(c, spool_id, owner, "email", "from", message.from->address);
                    insert_result(c, spool_id, owner, "email", "to", t.recipient);
                    insert_result(c, spool_id, owner, "email", "text", message.text.value_or(""));
                    if (message.html) insert_result(c, spool_id, owner, "email", "html", *message.html);
                    for (std::size_t i = 0; i < files.size(); ++i) {
                        const auto role = fmt::format("attachment{}", i + 1);
                        committed.files.emplace_back(service::inbound_dir, spool_id);
                        state_.media.commit(files[i], service::inbound_dir, spool_id, role);
                        insert_result(c, spool_id, owner, "attachment",
                                      safe_name(message.attachments[i].file_name, i + 1),
                                      fmt::format("{}/{}.{}", service::inbound_dir, spool_id, role));
                    }
                    return receipt;
                } catch (...) {
                    committed.undo();
                    throw;
                }
            });
        } catch (...) {
            committed.undo();  // the batch's COMMIT itself failed
            throw;
        }
    }

    // emailtofax: the first PDF attachment is faxed to the number in the recipient's local part.
    const auto number = fax_number_of(target.recipient);
    if (!number) {
        throw Error(Errc::invalid, fmt::format("emailtofax: the recipient {} does not name a fax number (write it as "
                                               "15551234567@your-fax-domain)",
                                               target.recipient));
    }
    const auto pdf = std::find_if(message.attachments.begin(), message.attachments.end(), is_pdf);
    if (pdf == message.attachments.end()) throw Error(Errc::invalid, "emailtofax: the message has no PDF attachment");
    if (media::sniff(pdf->bytes).extension != "pdf") {
        throw Error(Errc::invalid, fmt::format("emailtofax: attachment '{}' is not a PDF file", pdf->file_name));
    }
    auto original = state_.media.write_temp(service::documents_dir, pdf->bytes);
    auto tiff = state_.media.temp(service::documents_dir);
    auto unused_pdf = state_.media.temp(service::documents_dir);
    const media::FaxInfo info = media::convert_to_fax(original.path(), "pdf", tiff.path(), unused_pdf.path());
    const bool send_now = state_.options.run_engine && state_.engine->serves(service::fax);

    struct Written {
        InboundReceipt receipt;
        std::optional<engine::Attempt> attempt;
    };
    Written written;
    try {
        written = state_.store->write([&](store::Connection& c) {
            try {
                const Target t = same_target(c);
                const auto owner = t.account.user_id;
                const auto now = unix_now();
                Written w;
                w.receipt.account_id = t.account.account_id;
                w.receipt.program_id = t.program.program_id;

                Document document;
                document.name = safe_name(pdf->file_name, 1);
                document.description =
                    fmt::format("emailtofax from {}: {}", message.from->address, message.subject).substr(0, 1024);
                document.type = "pdf";
                document.pages = info.pages;
                document.size_x = info.width;
                document.resolution_x = info.x_resolution;
                document.resolution_y = info.y_resolution;
                document.created_by = owner;
                const auto document_id = store::Table<Document>::insert(c, document);
                committed.files.emplace_back(service::documents_dir, document_id);
                state_.media.commit(tiff, service::documents_dir, document_id, "tif");
                state_.media.commit(original, service::documents_dir, document_id, "pdf");

                Program sendfax;
                sendfax.name = fmt::format("emailtofax_sendfax {}", *number);
                sendfax.type = "sendfax";
                sendfax.document_id = document_id;
                sendfax.service_flag = service::fax;
                const Transmission fax = insert_follow_up(
                    c, t, sendfax, contact_for_phone(c, owner, *number, "emailtofax destination"), now);
                w.receipt.created_transmissions.push_back(fax.transmission_id);

                // The e-mail itself, recorded like any received one (its service is e-mail).
                w.receipt.contact_id = contact_for_sender(c, owner, *message.from);
                const auto [transmission_id, spool_id] =
                    insert_received(c, inbound_transmission(t, w.receipt.contact_id, service::email, now), now);
                w.receipt.transmission_id = transmission_id;
                w.receipt.spool_id = spool_id;
                insert_result(c, spool_id, owner, "email", "subject", message.subject);
                insert_result(c, spool_id, owner, "email", "from", message.from->address);
                insert_result(c, spool_id, owner, "email", "to", t.recipient);
                insert_result(c, spool_id, owner, "email", "fax_transmission", std::to_string(fax.transmission_id));

                if (send_now) w.attempt = engine::begin_attempt(c, state_.media, fax, now);
                return w;
            } catch (...) {
                committed.undo();
                throw;
            }
        });
    } catch (...) {
        committed.undo();
        throw;
    }
    if (written.attempt) state_.engine->submit(std::move(*written.attempt));
    return written.receipt;
}

}  // namespace ictcore

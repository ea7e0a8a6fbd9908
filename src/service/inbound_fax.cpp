// Inbound fax: a fax call answered by the SIP gateway, recorded as an inbound fax transmission
// of the called account's owner; the received pages become a document, and a faxtoemail
// program mails their PDF to the account's address. As for SMS and e-mail, the slow work
// (TIFF conversion) happens before the write, and the rows and the media files they name are
// committed together in one write, so a failure leaves nothing.
#include <ictcore/account.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/inbound.hpp>
#include <ictcore/message.hpp>
#include <ictcore/program.hpp>
#include <ictcore/service_flag.hpp>
#include <ictcore/transmission.hpp>

#include "engine/attempt.hpp"
#include "media/fax.hpp"
#include "model/escape_html.hpp"
#include "service/inbound_support.hpp"
#include "service/message_media.hpp"
#include "service/service_support.hpp"
#include "store/inbound_queries.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <optional>
#include <string>

namespace ictcore {

using namespace service::inbound_detail;

namespace {

constexpr std::string_view fax_types_text = "receivefax or faxtoemail";

// The received file is the gateway's to hand over and ours to dispose of, whatever happens.
struct RemoveWhenDone {
    std::filesystem::path path;
    ~RemoveWhenDone() {
        std::error_code ec;
        if (!path.empty()) std::filesystem::remove(path, ec);
    }
};

// A caller id as SIP delivered it, made safe to show in a subject line and a name: printable
// characters only, at most 64 bytes; "anonymous" when withheld.
std::string caller_of(std::string_view from) {
    std::string out;
    for (const char c : trim(from)) {
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7F) out += c;
    }
    if (out.size() > 64) out.resize(64);
    return out.empty() ? std::string("anonymous") : out;
}

std::string pages_text(int pages) { return fmt::format("{} page{}", pages, pages == 1 ? "" : "s"); }

// The e-mail a faxtoemail program sends: the program's own template's texts when it names one,
// else a plain notice; the PDF is its attachment.
Template fax_email_template(store::Connection& c, const Program& program, const std::string& caller, int pages,
                            std::int64_t transmission_id, std::int64_t owner) {
    Template t;
    t.name = fmt::format("Fax from {}", caller);
    t.description = fmt::format("faxtoemail: received fax, transmission {}", transmission_id);
    t.subject = fmt::format("Fax from {} ({})", caller, pages_text(pages));
    t.body = fmt::format("<p>A fax from {} arrived: {}. It is attached as a PDF file.</p>", model::escape_html(caller),
                         pages_text(pages));
    t.body_alt = fmt::format("A fax from {} arrived: {}. It is attached as a PDF file.", caller, pages_text(pages));
    if (program.template_id) {
        if (const auto own = store::Table<Template>::find(c, *program.template_id, store::Scope{owner})) {
            t.subject = own->subject;
            t.body = own->body;
            t.body_alt = own->body_alt;
        }
    }
    t.type = "pdf";
    t.attachment = fmt::format("fax-{}.pdf", transmission_id);
    t.attachment_type = "application/pdf";
    t.created_by = owner;
    return t;
}

// The owner's contact for an e-mail address, created when the owner has none.
std::int64_t contact_for_email(store::Connection& c, std::int64_t owner, const std::string& email) {
    if (const auto found = store::contact_by_email(c, owner, email)) return *found;
    // A contact's phone is required by the API but this one is reached by e-mail: stored empty.
    return insert_contact(c, owner, email.substr(0, 128), "", email, "faxtoemail recipient");
}

}  // namespace

std::optional<std::int64_t> Inbound::fax_account(std::string_view to) const {
    const std::string digits = phone_digits(trim(to));
    if (digits.empty()) return std::nullopt;
    return state_.store->read([&](store::Connection& c) -> std::optional<std::int64_t> {
        const auto target = target_by_phone(c, digits, to, {"receivefax", "faxtoemail"});
        if (!target) return std::nullopt;
        return target->account.account_id;
    });
}

InboundReceipt Inbound::receive_fax(const InboundFax& fax) {
    const RemoveWhenDone received{fax.tiff};
    const std::string to = trim(fax.to);
    if (to.empty()) throw Error(Errc::invalid, "the fax call has no called number");
    const std::string to_digits = phone_digits(to);
    if (to_digits.empty()) throw Error(Errc::invalid, fmt::format("the called number '{}' is not a phone number", to));
    const std::string caller = caller_of(fax.from);

    const auto resolve = [&](store::Connection& c) {
        std::vector<std::string> without_program;
        auto target = target_by_phone(c, to_digits, to, {"receivefax", "faxtoemail"}, &without_program);
        if (target) return std::move(*target);
        if (without_program.empty()) {
            throw Error(Errc::not_found, fmt::format("no active account has the phone number {}", to));
        }
        std::string list;
        for (const auto& a : without_program) list += (list.empty() ? "" : ", ") + a;
        throw Error(Errc::not_found, fmt::format("{} has no {} program", list, fax_types_text));
    };
    // Who it is for decides the work; the write below resolves again and must agree.
    const Target target = state_.store->read(resolve);
    const bool to_email = target.program.type == "faxtoemail";

    // The pages as a document: the received TIFF kept as the original, the normalised fax TIFF
    // and its PDF, as an uploaded TIFF gets; and a copy of the PDF for the e-mail's attachment.
    std::optional<media::MediaStore::Temp> original, tiff, pdf, attachment;
    media::FaxInfo info;
    std::string conversion_error;
    if (fax.success && fax.pages > 0) {
        try {
            original.emplace(state_.media.temp(service::documents_dir));
            std::error_code ec;
            std::filesystem::rename(fax.tiff, original->path(), ec);
            if (ec) {  // another file system: copy (the guard removes the received file)
                std::filesystem::copy_file(fax.tiff, original->path(),
                                           std::filesystem::copy_options::overwrite_existing, ec);
                if (ec) throw Error(Errc::internal, fmt::format("cannot read {}: {}", fax.tiff.string(), ec.message()));
            }
            tiff.emplace(state_.media.temp(service::documents_dir));
            pdf.emplace(state_.media.temp(service::documents_dir));
            info = media::convert_to_fax(original->path(), "tif", tiff->path(), pdf->path());
            if (to_email) {
                attachment.emplace(state_.media.temp(service::templates_dir));
                std::filesystem::copy_file(pdf->path(), attachment->path(),
                                           std::filesystem::copy_options::overwrite_existing, ec);
                if (ec) throw Error(Errc::internal, fmt::format("cannot copy the fax PDF: {}", ec.message()));
            }
        } catch (const Error& e) {
            // T.30 said the pages arrived but they cannot be kept: for the owner the fax is lost,
            // so it is recorded as failed with the reason.
            conversion_error = fmt::format("the received fax could not be stored: {}", e.what());
            spdlog::warn("inbound fax from {} to {}: {}", caller, to, conversion_error);
            original.reset();
            tiff.reset();
            pdf.reset();
            attachment.reset();
        }
    }
    const bool completed = fax.success && conversion_error.empty();
    const bool keep_document = completed && fax.pages > 0;
    const bool send_now = state_.options.run_engine && state_.engine->serves(service::email);

    struct Written {
        InboundReceipt receipt;
        std::optional<engine::Attempt> attempt;
    };
    Written written;
    CommittedMedia committed{state_.media, {}};
    try {
        written = state_.store->write([&](store::Connection& c) {
            try {
                const Target t = resolve(c);
                if (t.program.program_id != target.program.program_id ||
                    t.account.account_id != target.account.account_id) {
                    throw Error(Errc::internal,
                                "the account's programs changed while the fax was processed; try again");
                }
                const auto owner = t.account.user_id;
                const auto now = unix_now();
                Written w;
                w.receipt.account_id = t.account.account_id;
                w.receipt.program_id = t.program.program_id;
                w.receipt.contact_id = contact_for_phone(c, owner, caller, "fax sender");

                Transmission tx = inbound_transmission(t, w.receipt.contact_id, service::fax, now);
                std::string response = fax.t30_text;
                if (!conversion_error.empty()) response = conversion_error;
                if (!completed) {
                    tx.status = std::string(transmission_status::failed);
                    tx.response = response.empty() ? std::string("failed") : response;
                }
                const auto [transmission_id, spool_id] =
                    insert_received(c, tx, now, completed ? spool_status::completed : spool_status::failed,
                                    response.empty() ? std::nullopt : std::optional<std::string>(response));
                w.receipt.transmission_id = transmission_id;
                w.receipt.spool_id = spool_id;
                insert_result(c, spool_id, owner, "info", "pages", std::to_string(fax.pages));
                insert_result(c, spool_id, owner, "info", "remote_id", fax.remote_id);
                insert_result(c, spool_id, owner, "info", "bit_rate", std::to_string(fax.bit_rate));
                insert_result(c, spool_id, owner, "info", "ecm", fax.ecm ? "1" : "0");
                insert_result(c, spool_id, owner, "info", "t30", fax.t30_text);
                insert_result(c, spool_id, owner, "info", "transport", fax.transport);
                if (!conversion_error.empty()) insert_result(c, spool_id, owner, "info", "error", conversion_error);
                if (!keep_document) return w;

                Document document;
                document.name = fmt::format("Fax from {}", caller);
                document.description = fmt::format("received fax from {} ({}) to {}, transmission {}", caller,
                                                   fax.remote_id, to, transmission_id)
                                           .substr(0, 1024);
                document.type = "tif";
                document.pages = info.pages;
                document.size_x = info.width;
                document.resolution_x = info.x_resolution;
                document.resolution_y = info.y_resolution;
                document.created_by = owner;
                const auto document_id = store::Table<Document>::insert(c, document);
                committed.files.emplace_back(service::documents_dir, document_id);
                state_.media.commit(*tiff, service::documents_dir, document_id, "tif");
                state_.media.commit(*pdf, service::documents_dir, document_id, "pdf");
                state_.media.commit(*original, service::documents_dir, document_id, "original");
                w.receipt.document_id = document_id;
                insert_result(c, spool_id, owner, "info", "document_id", std::to_string(document_id));
                if (!to_email) return w;

                if (t.account.email.empty()) {
                    insert_result(c, spool_id, owner, "info", "email", "no e-mail address");
                    return w;
                }
                const Template mail = fax_email_template(c, t.program, caller, info.pages, transmission_id, owner);
                const auto template_id = store::Table<Template>::insert(c, mail);
                committed.files.emplace_back(service::templates_dir, template_id);
                state_.media.commit(*attachment, service::templates_dir, template_id, "attachment");

                Program sendemail;
                sendemail.name = fmt::format("faxtoemail_sendemail {}", t.account.email);
                sendemail.type = "sendemail";
                sendemail.template_id = template_id;
                sendemail.service_flag = service::email;
                const Transmission email =
                    insert_follow_up(c, t, sendemail, contact_for_email(c, owner, t.account.email), now);
                w.receipt.created_transmissions.push_back(email.transmission_id);
                insert_result(c, spool_id, owner, "info", "email", t.account.email);
                insert_result(c, spool_id, owner, "info", "email_transmission", std::to_string(email.transmission_id));

                if (send_now) w.attempt = engine::begin_attempt(c, state_.media, email, now);
                return w;
            } catch (...) {
                committed.undo();
                throw;
            }
        });
    } catch (...) {
        committed.undo();  // the batch's COMMIT itself failed
        throw;
    }
    if (written.attempt) state_.engine->submit(std::move(*written.attempt));
    return written.receipt;
}

}  // namespace ictcore

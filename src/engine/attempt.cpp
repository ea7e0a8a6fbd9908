// Beginning and ending delivery attempts (see attempt.hpp).
#include "engine/attempt.hpp"

#include "service/message_media.hpp"
#include "store/campaign_queries.hpp"
#include "store/delivery_queries.hpp"
#include "store/table.hpp"

#include <ictcore/error.hpp>
#include <ictcore/service_flag.hpp>

#include <fmt/format.h>

#include <chrono>

namespace ictcore::engine {

namespace {

[[noreturn]] void undeliverable(const std::string& why) { throw Error(Errc::invalid, why); }

template <class Message>
Message message_of(store::Connection& c, const Program& p, const std::optional<std::int64_t>& id,
                   const store::Scope& scope) {
    const auto entity = Describe<Message>::entity;
    if (!id) undeliverable(fmt::format("program {} ({}) has no {}", p.program_id, p.type, entity));
    auto found = store::Table<Message>::find(c, *id, scope);
    if (!found) undeliverable(fmt::format("{} {} of program {} no longer exists", entity, *id, p.program_id));
    return std::move(*found);
}

std::filesystem::path required_media(const media::MediaStore& media, std::string_view kind, std::string_view what,
                                     std::int64_t id, std::string_view role) {
    auto path = media.path(kind, id, role);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) undeliverable(fmt::format("{} {} has no media yet", what, id));
    return path;
}

}  // namespace

Delivery load_delivery(store::Connection& c, const media::MediaStore& media, const Transmission& t, LoadCache* cache,
                       const Contact* known_contact) {
    // Unscoped: who may use which contact, program and message was checked when the
    // transmission and program were created (an admin may use another user's rows).
    const store::Scope scope{};
    Delivery d;
    d.transmission = t;
    auto program = find_cached(c, t.program_id, scope, cache ? &cache->programs : nullptr);
    if (!program) undeliverable(fmt::format("program {} no longer exists", t.program_id));
    d.program = std::move(*program);
    if (d.program.direction != "outbound") {
        undeliverable(fmt::format("program {} ({}) handles received messages and cannot be sent", d.program.program_id,
                                  d.program.type));
    }
    if (known_contact) {
        d.contact = *known_contact;
    } else {
        auto contact = store::Table<Contact>::find(c, t.contact_id, scope);
        if (!contact) undeliverable(fmt::format("contact {} no longer exists", t.contact_id));
        d.contact = std::move(*contact);
    }
    d.account = find_cached(c, t.account_id, scope, cache ? &cache->accounts : nullptr);

    switch (t.service_flag) {
        case service::sms:
            if (cache && d.program.text_id) {
                auto text = find_cached(c, *d.program.text_id, scope, &cache->texts);
                if (text) {
                    d.text = std::move(text);
                    break;
                }
            }
            d.text = message_of<Text>(c, d.program, d.program.text_id, scope);
            break;
        case service::email: {
            d.email_template = message_of<Template>(c, d.program, d.program.template_id, scope);
            d.email = render(*d.email_template, d.contact);
            if (d.email_template->attachment) {
                d.media = media.path(service::templates_dir, d.email_template->template_id, "attachment");
            }
            break;
        }
        case service::fax:
            d.document = message_of<Document>(c, d.program, d.program.document_id, scope);
            d.media = required_media(media, service::documents_dir, "document", d.document->document_id, "tif");
            break;
        case service::voice:
            d.recording = message_of<Recording>(c, d.program, d.program.recording_id, scope);
            d.media = required_media(media, service::recordings_dir, "recording", d.recording->recording_id, "wav");
            break;
        default:
            undeliverable(fmt::format("service_flag {} is not a single service", t.service_flag));
    }

    if (t.service_flag == service::email) {
        if (!d.contact.email || d.contact.email->empty()) {
            undeliverable(fmt::format("contact {} has no e-mail address", d.contact.contact_id));
        }
        d.destination = *d.contact.email;
        if (d.account && d.account->email) d.source = *d.account->email;
    } else {
        d.destination = d.contact.phone;
        if (d.account && d.account->phone) d.source = *d.account->phone;
    }
    return d;
}

std::int64_t clone_transmission(store::Connection& c, const Transmission& t, std::int64_t now) {
    Transmission copy = t;
    copy.transmission_id = 0;
    copy.status = std::string(transmission_status::pending);
    copy.response.reset();
    copy.try_done = 0;
    copy.last_run.reset();
    copy.next_run.reset();
    copy.campaign_id.reset();  // a campaign has one transmission per contact; a copy is the caller's own
    copy.time_created = now;
    return store::Table<Transmission>::insert(c, copy);
}

Attempt begin_attempt(store::Connection& c, const media::MediaStore& media, Transmission t, std::int64_t now,
                      LoadCache* cache) {
    Attempt a;
    a.delivery = load_delivery(c, media, t, cache);
    Spool spool;
    spool.time_spool = now;
    spool.status = std::string(spool_status::queued);
    spool.transmission_id = t.transmission_id;
    spool.created_by = t.created_by;
    a.delivery.spool_id = store::Table<Spool>::insert(c, spool);
    auto& tx = a.delivery.transmission;
    tx.try_done += 1;
    tx.status = std::string(transmission_status::processing);
    tx.last_run = now;
    tx.next_run.reset();
    tx.response.reset();
    store::set_transmission_processing(c, tx.transmission_id, tx.try_done, now);
    return a;
}

namespace {

// Records a final status, counting it in the transmission's campaign.
std::optional<std::int64_t> conclude(store::Connection& c, const Transmission& t, std::string_view status,
                                     const std::optional<std::string>& response) {
    store::set_transmission_outcome(c, t.transmission_id, status, response, std::nullopt);
    if (!t.campaign_id) return std::nullopt;
    store::count_campaign_outcome(c, *t.campaign_id, status);
    return t.campaign_id;
}

}  // namespace

std::optional<std::int64_t> invalidate(store::Connection& c, const Transmission& t, const std::string& why) {
    return conclude(c, t, transmission_status::invalid, why);
}

CampaignBegin begin_campaign_attempt(store::Connection& c, const media::MediaStore& media, Transmission t,
                                     const Contact& contact, std::int64_t now, LoadCache* cache) {
    CampaignBegin out;
    Attempt a;
    try {
        a.delivery = load_delivery(c, media, t, cache, &contact);
    } catch (const Error& e) {
        if (e.code() != Errc::invalid) throw;
        t.status = std::string(transmission_status::invalid);
        t.response = e.what();
        t.transmission_id = store::Table<Transmission>::insert(c, t);
        store::count_campaign_outcome(c, *t.campaign_id, transmission_status::invalid);
        out.counted_in = t.campaign_id;
        return out;
    }
    t.status = std::string(transmission_status::processing);
    t.try_done = 1;
    t.last_run = now;
    t.transmission_id = store::Table<Transmission>::insert(c, t);
    Spool spool;
    spool.time_spool = now;
    spool.transmission_id = t.transmission_id;
    spool.created_by = t.created_by;
    a.delivery.spool_id = store::Table<Spool>::insert(c, spool);
    a.delivery.transmission = std::move(t);
    out.attempt = std::move(a);
    return out;
}

Ended end_attempt(store::Connection& c, const Delivery& d, const Ending& ending, std::int64_t now,
                  std::int64_t retry_delay_seconds) {
    const auto spool_state = ending.delivered ? spool_status::completed : spool_status::failed;
    if (!store::finish_spool(c, d.spool_id, spool_state, ending.response, ending.provider_id, now)) {
        return {};  // deleted meanwhile, with its transmission
    }
    if (!ending.results.empty()) {
        std::vector<SpoolResult> rows;
        rows.reserve(ending.results.size());
        for (const auto& r : ending.results) {
            rows.push_back(SpoolResult{0, d.spool_id, r.type, r.name, r.data, d.transmission.created_by});
        }
        store::Table<SpoolResult>::insert_rows(c, rows.data(), rows.size());
    }
    const auto& t = d.transmission;
    std::optional<std::string> response;
    if (!ending.response.empty()) response = ending.response;
    if (ending.delivered || ending.invalid) {
        const auto state = ending.delivered ? transmission_status::completed : transmission_status::invalid;
        return {std::nullopt, conclude(c, t, state, response)};
    }
    if (ending.allow_retry && t.try_done < t.try_allowed) {
        const std::int64_t next = now + retry_delay_seconds;
        store::set_transmission_outcome(c, t.transmission_id, transmission_status::pending_retry, response, next);
        return {next, std::nullopt};
    }
    return {std::nullopt, conclude(c, t, transmission_status::failed, response)};
}

}  // namespace ictcore::engine

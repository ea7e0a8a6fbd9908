// Helpers shared by the Inbound service's files (inbound.cpp: SMS and e-mail; inbound_fax.cpp:
// fax calls): matching a number to an account and its receiving program, and the rows every
// received message creates (inbound transmission, spool, results, the sender as a contact).
// Internal to the library.
#pragma once

#include <ictcore/contact.hpp>
#include <ictcore/program.hpp>
#include <ictcore/schedule_spec.hpp>
#include <ictcore/transmission.hpp>

#include "media/media_store.hpp"
#include "service/service_support.hpp"
#include "store/inbound_queries.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ictcore::service::inbound_detail {

inline std::string trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return std::string(s.substr(first, last - first + 1));
}

inline std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// A phone number as its digits: "+", spaces, dashes, dots and parentheses ignored, a leading
// "00" (the international prefix) read as "+". Empty when anything else is in it.
inline std::string phone_digits(std::string_view phone) {
    std::string digits;
    for (const char c : phone) {
        if (c >= '0' && c <= '9') {
            digits += c;
        } else if (c != '+' && c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
            return {};
        }
    }
    if (digits.size() > 2 && digits.compare(0, 2, "00") == 0) digits.erase(0, 2);
    return digits;
}

struct Target {
    store::OwnedAccount account;
    Program program;
    std::string recipient;  // the address (or number) the message was sent to
};

// The program that receives for `account` among `types`: one subscribed to the account, else
// the lowest-id one of its owner; `prefer` breaks a tie between types within a tier.
inline std::optional<Program> receiving_program(store::Connection& c, const store::OwnedAccount& account,
                                                const std::vector<std::string_view>& types,
                                                std::string_view prefer = {}) {
    const auto programs = store::inbound_programs(c, account.account_id, account.user_id);
    for (const bool subscribed_only : {true, false}) {
        std::optional<std::int64_t> first, preferred;
        for (const auto& p : programs) {
            if (subscribed_only && !p.subscribed) continue;
            if (std::find(types.begin(), types.end(), p.type) == types.end()) continue;
            if (!first) first = p.program_id;
            if (!preferred && !prefer.empty() && p.type == prefer) preferred = p.program_id;
        }
        if (const auto chosen = preferred ? preferred : first) {
            return service::find_or_throw<Program>(c, *chosen, store::Scope{});
        }
    }
    return std::nullopt;
}

// The first active account (id order) whose phone is `digits` (as phone_digits() gives them)
// and that has a program of `types`; the accounts with that number but no such program are
// named in `without_program` ("account 3 (+1 555 …)") for the caller's error message.
inline std::optional<Target> target_by_phone(store::Connection& c, const std::string& digits, std::string_view to,
                                             const std::vector<std::string_view>& types,
                                             std::vector<std::string>* without_program = nullptr) {
    for (const auto& account : store::active_accounts_with_phone(c)) {
        if (phone_digits(account.phone) != digits) continue;
        if (auto program = receiving_program(c, account, types)) {
            return Target{account, std::move(*program), std::string(to)};
        }
        if (without_program) {
            without_program->push_back(fmt::format("account {} ({})", account.account_id, account.phone));
        }
    }
    return std::nullopt;
}

inline Transmission inbound_transmission(const Target& t, std::int64_t contact_id, std::int64_t service_flag,
                                         std::int64_t now) {
    Transmission tx;
    tx.title = t.program.name;
    tx.origin = t.program.type;
    tx.contact_id = contact_id;
    tx.account_id = t.account.account_id;
    tx.service_flag = service_flag;
    tx.program_id = t.program.program_id;
    tx.direction = "inbound";
    tx.status = std::string(transmission_status::completed);
    tx.try_allowed = 1;
    tx.try_done = 1;
    tx.last_run = now;
    tx.time_created = now;
    tx.created_by = t.account.user_id;
    return tx;
}

// Stores the inbound transmission with its spool (completed unless `status` says otherwise);
// returns (transmission, spool).
inline std::pair<std::int64_t, std::int64_t> insert_received(store::Connection& c, const Transmission& tx,
                                                             std::int64_t now,
                                                             std::string_view status = spool_status::completed,
                                                             std::optional<std::string> response = std::nullopt) {
    const auto transmission_id = store::Table<Transmission>::insert(c, tx);
    Spool spool;
    spool.time_spool = now;
    spool.time_start = now;
    spool.time_end = now;
    spool.status = std::string(status);
    spool.response = std::move(response);
    spool.transmission_id = transmission_id;
    spool.created_by = tx.created_by;
    return {transmission_id, store::Table<Spool>::insert(c, spool)};
}

inline void insert_result(store::Connection& c, std::int64_t spool_id, std::int64_t owner, std::string_view type,
                          std::string_view name, std::string data) {
    SpoolResult r;
    r.spool_id = spool_id;
    r.type = std::string(type);
    r.name = std::string(name);
    r.data = std::move(data);
    r.created_by = owner;
    store::Table<SpoolResult>::insert(c, r);
}

inline std::int64_t insert_contact(store::Connection& c, std::int64_t owner, std::string first_name, std::string phone,
                                   std::optional<std::string> email, std::string_view description) {
    Contact contact;
    contact.first_name = std::move(first_name);
    contact.phone = std::move(phone);
    contact.email = std::move(email);
    contact.description = std::string(description);
    contact.created_by = owner;
    return store::Table<Contact>::insert(c, contact);
}

// The owner's contact for a phone number, created when the owner has none.
inline std::int64_t contact_for_phone(store::Connection& c, std::int64_t owner, const std::string& phone,
                                      std::string_view description) {
    const auto digits = phone_digits(phone);
    const auto found =
        digits.empty() ? store::contact_by_phone(c, owner, phone) : store::contact_by_phone_digits(c, owner, digits);
    if (found) return *found;
    return insert_contact(c, owner, phone, phone, std::nullopt, description);
}

// Printable ASCII without path separators or quotes, at most 64 bytes (a result name's limit).
// What an inbound program does next (emailtofax → a sendfax, faxtoemail → a sendemail): a
// program made for it, child of the inbound one and owned by the owner, and the outbound
// transmission of it to `contact_id`. `program` brings its name, type, service and message.
inline Transmission insert_follow_up(store::Connection& c, const Target& t, Program program, std::int64_t contact_id,
                                     std::int64_t now) {
    const auto owner = t.account.user_id;
    program.parent_id = t.program.program_id;
    program.direction = "outbound";
    program.created_by = owner;
    program.program_id = store::Table<Program>::insert(c, program);
    Transmission out;
    out.title = program.name;
    out.origin = program.type;
    out.contact_id = contact_id;
    out.account_id = t.account.account_id;
    out.service_flag = program.service_flag;
    out.program_id = program.program_id;
    out.direction = "outbound";
    out.time_created = now;
    out.created_by = owner;
    out.transmission_id = store::Table<Transmission>::insert(c, out);
    return out;
}

inline std::string safe_name(std::string_view name, std::size_t index) {
    if (const auto slash = name.find_last_of("/\\"); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    std::string out;
    for (const char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '_' || c == ' ' || c == '(' || c == ')';
        out += ok ? c : '_';
    }
    if (out.size() > 64) out.erase(0, out.size() - 64);  // keep the extension
    if (out.find_first_not_of("._ ") == std::string::npos) out = "attachment-" + std::to_string(index);
    return out;
}

// Removes media files committed inside a write whose transaction did not commit.
struct CommittedMedia {
    const media::MediaStore& media;
    std::vector<std::pair<std::string_view, std::int64_t>> files;
    void undo() {
        for (const auto& [kind, id] : files) media.remove_all(kind, id);
        files.clear();
    }
};

}  // namespace ictcore::service::inbound_detail

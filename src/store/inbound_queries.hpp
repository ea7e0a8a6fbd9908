// Statements of the Inbound service: finding the account a received message is addressed to,
// its programs for received messages, and the sender among the owner's contacts.
#pragma once

#include "store/connection.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore::store {

// An active account that has an owner (a free account has nobody to receive for).
struct OwnedAccount {
    std::int64_t account_id = 0;
    std::int64_t user_id = 0;
    std::string phone;
    std::string email;
};

// Every active owned account with a phone, in id order; the caller compares the numbers, since
// they are stored as users typed them.
std::vector<OwnedAccount> active_accounts_with_phone(Connection& c);
// Active owned accounts whose e-mail is `email` (ASCII case-insensitive), in id order.
std::vector<OwnedAccount> active_accounts_by_email(Connection& c, std::string_view email);

// A program of the account's owner that handles received messages, and whether it is
// subscribed to the account (linked to it, or created for it through program.account_id).
struct InboundProgram {
    std::int64_t program_id = 0;
    std::string type;
    bool subscribed = false;
};
// The owner's inbound programs, in id order.
std::vector<InboundProgram> inbound_programs(Connection& c, std::int64_t account_id, std::int64_t owner);

// The owner's first contact (lowest id) whose phone, with spaces, dashes, dots, parentheses and
// "+" removed and a leading "00" dropped, is `digits` (already normalised so).
std::optional<std::int64_t> contact_by_phone_digits(Connection& c, std::int64_t owner, std::string_view digits);
// The owner's first contact whose phone is exactly `phone` (senders such as "INFO" have no digits).
std::optional<std::int64_t> contact_by_phone(Connection& c, std::int64_t owner, std::string_view phone);
// The owner's first contact whose e-mail is `email` (ASCII case-insensitive).
std::optional<std::int64_t> contact_by_email(Connection& c, std::int64_t owner, std::string_view email);

// Spools of inbound transmissions — received e-mail keeps its attachments under the spool id:
// of one transmission, or of every transmission of `owner`.
std::vector<std::int64_t> inbound_spools_of_transmission(Connection& c, std::int64_t transmission_id);
std::vector<std::int64_t> inbound_spools_of_owner(Connection& c, std::int64_t owner);

}  // namespace ictcore::store

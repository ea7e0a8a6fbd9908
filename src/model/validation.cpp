// Field validation driven by Describe<E>, and the value rules behind it.
#include "model/validation.hpp"

#include "model/validation_impl.hpp"

#include <ictcore/account.hpp>
#include <ictcore/campaign.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/group.hpp>
#include <ictcore/message.hpp>
#include <ictcore/program.hpp>
#include <ictcore/provider.hpp>
#include <ictcore/transmission.hpp>
#include <ictcore/user.hpp>

namespace ictcore {

namespace model {

std::optional<std::string> normalize_phone(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        const char ch = raw[i];
        if (ch == ' ' || ch == '-' || ch == '.' || ch == '(' || ch == ')' || ch == '\t') continue;
        if (ch == '+' && out.empty()) {
            out += ch;
            continue;
        }
        if (ch < '0' || ch > '9') return std::nullopt;
        out += ch;
    }
    const std::size_t digits = out.size() - (!out.empty() && out[0] == '+' ? 1 : 0);
    if (digits < 3 || digits > 15) return std::nullopt;
    return out;
}

bool valid_email(std::string_view email) {
    const auto at = email.find('@');
    if (at == std::string_view::npos || at == 0 || email.find('@', at + 1) != std::string_view::npos) return false;
    const auto domain = email.substr(at + 1);
    const auto dot = domain.find('.');
    if (domain.empty() || dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
    for (unsigned char ch : email) {
        if (ch <= ' ' || ch == 0x7f || ch == '<' || ch == '>' || ch == ',' || ch == ';') return false;
    }
    return email.size() <= 254;
}

bool valid_username(std::string_view username) {
    if (username.empty() || username.size() > 64) return false;
    for (unsigned char ch : username) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                        ch == '_' || ch == '-' || ch == '@';
        if (!ok) return false;
    }
    return true;
}

}  // namespace model

template <class Entity>
void validate(Entity& value, bool creating) {
    model::validate_fields(value, creating ? model::ValidationMode::create : model::ValidationMode::update);
}

template void validate<Contact>(Contact&, bool);
template void validate<Group>(Group&, bool);
template void validate<User>(User&, bool);
template void validate<Role>(Role&, bool);
template void validate<Permission>(Permission&, bool);
template void validate<Text>(Text&, bool);
template void validate<Template>(Template&, bool);
template void validate<Recording>(Recording&, bool);
template void validate<Document>(Document&, bool);
template void validate<Account>(Account&, bool);
template void validate<Provider>(Provider&, bool);
template void validate<Program>(Program&, bool);
template void validate<Transmission>(Transmission&, bool);
template void validate<Spool>(Spool&, bool);
template void validate<SpoolResult>(SpoolResult&, bool);
template void validate<Campaign>(Campaign&, bool);

}  // namespace ictcore

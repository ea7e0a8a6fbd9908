// Inbound::key and verify_key: the secrets of gateways' inbound URLs (see inbound.hpp).
#include "core_state.hpp"

#include <ictcore/error.hpp>
#include <ictcore/inbound.hpp>

#include <fmt/format.h>

namespace ictcore {

std::string Inbound::key(const Principal& who, std::string_view gateway_type) const {
    if (!who.admin()) throw Error(Errc::forbidden, "only an admin may read a gateway's inbound key");
    return state_.signer.url_token(fmt::format("inbound:{}", gateway_type));
}

bool Inbound::verify_key(std::string_view gateway_type, std::string_view key) const {
    return state_.signer.url_token_matches(fmt::format("inbound:{}", gateway_type), key);
}

}  // namespace ictcore

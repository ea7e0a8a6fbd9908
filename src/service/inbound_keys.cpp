// Inbound::key and verify_key: the secrets of gateways' inbound URLs (see inbound.hpp).
#include "core_state.hpp"

#include <ictcore/error.hpp>
#include <ictcore/inbound.hpp>

#include <fmt/format.h>
#include <sodium.h>

namespace ictcore {

namespace {

std::string key_of(const detail::CoreState& state, std::string_view gateway_type) {
    const auto digest = state.signer.keyed_digest(fmt::format("inbound:{}", gateway_type));
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(digest.data()), 16);
    return std::string(hex, 32);
}

}  // namespace

std::string Inbound::key(const Principal& who, std::string_view gateway_type) const {
    if (!who.admin()) throw Error(Errc::forbidden, "only an admin may read a gateway's inbound key");
    return key_of(state_, gateway_type);
}

bool Inbound::verify_key(std::string_view gateway_type, std::string_view key) const {
    const auto expected = key_of(state_, gateway_type);
    return key.size() == expected.size() && sodium_memcmp(expected.data(), key.data(), expected.size()) == 0;
}

}  // namespace ictcore

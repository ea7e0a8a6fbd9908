// Base64 decoding for HTTP Basic credentials, kept here so the auth code needs no Beast.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ictcore::server {

// Decodes standard base64 (RFC 4648 alphabet, '=' padding optional); nullopt on bad input.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ictcore::server

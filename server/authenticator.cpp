// Credential parsing for Bearer tokens and HTTP Basic.
#include "authenticator.hpp"

#include <ictcore/error.hpp>
#include <optional>
#include <string_view>

#include "base64.hpp"

namespace ictcore::server {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits "Scheme credentials"; the scheme compares case-insensitively (RFC 7235).
bool has_scheme(std::string_view value, std::string_view scheme, std::string_view& credentials) {
    value = trim(value);
    if (value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme)) return false;
    if (value[scheme.size()] != ' ' && value[scheme.size()] != '\t') return false;
    credentials = trim(value.substr(scheme.size()));
    return true;
}

}  // namespace

bool Authenticator::carries_token(const Request& request) {
    std::optional<std::string_view> header = request.header("Authorization");
    if (!header) header = request.header("Authentication");
    std::string_view credentials;
    return header && has_scheme(*header, "Bearer", credentials);
}

ictcore::Principal Authenticator::operator()(const Request& request) const {
    std::optional<std::string_view> header = request.header("Authorization");
    if (!header) header = request.header("Authentication");
    if (!header) throw Error(Errc::unauthenticated, "authentication required");

    std::string_view credentials;
    if (has_scheme(*header, "Bearer", credentials)) {
        if (credentials.empty()) throw Error(Errc::unauthenticated, "empty bearer token");
        return auth_.from_token(credentials);
    }
    if (has_scheme(*header, "Basic", credentials)) {
        const auto decoded = base64_decode(credentials);
        const auto colon = decoded ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos) throw Error(Errc::unauthenticated, "malformed basic credentials");
        return auth_.from_password(std::string_view(*decoded).substr(0, colon),
                                   std::string_view(*decoded).substr(colon + 1), request.client);
    }
    throw Error(Errc::unauthenticated, "unsupported authorization scheme");
}

}  // namespace ictcore::server

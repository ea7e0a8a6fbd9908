// TokenSigner: HS256 JSON Web Tokens (libjwt) signed with a per-installation secret kept in
// the data directory, so tokens survive restarts but not a new installation.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ictcore::auth {

class TokenSigner {
public:
    // Reads `key_file`, creating it with a fresh random secret (mode 0600) when missing.
    explicit TokenSigner(const std::filesystem::path& key_file);

    std::string issue(std::int64_t user_id, std::chrono::seconds lifetime) const;
    struct Verified {
        std::int64_t user_id = 0;
        std::chrono::system_clock::time_point expires;
    };
    // Returns the user id and expiry of a valid token; throws Error(unauthenticated) otherwise.
    Verified verify(std::string_view token) const;
    // Keyed hash of `data` with the secret, for caches that must not hold plain passwords.
    std::string keyed_digest(std::string_view data) const;
    // A token for URLs that gateways call back (delivery reports, inbound messages): 128 bits
    // of the keyed digest of `subject`, in hex; and its constant-time check.
    std::string url_token(std::string_view subject) const;
    bool url_token_matches(std::string_view subject, std::string_view candidate) const;

private:
    std::string secret_;
};

}  // namespace ictcore::auth

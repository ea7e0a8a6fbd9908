// HS256 tokens with libjwt; the algorithm, `nbf` and `exp` are checked here because libjwt
// 1.10 verifies only the signature.
#include "auth/token_signer.hpp"

#include <ictcore/error.hpp>

#include <jwt.h>
#include <sodium.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

namespace ictcore::auth {

namespace {

constexpr std::size_t secret_bytes = 32;

struct JwtFree {
    void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

std::string read_or_create_secret(const std::filesystem::path& file) {
    std::string secret(secret_bytes, '\0');
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        randombytes_buf(secret.data(), secret.size());
        const bool written =
            ::write(fd, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) && ::fsync(fd) == 0;
        ::close(fd);
        if (!written) throw Error(Errc::internal, "cannot write the token key " + file.string());
        return secret;
    }
    if (errno != EEXIST) throw Error(Errc::internal, "cannot create the token key " + file.string());
    std::ifstream in(file, std::ios::binary);
    in.read(secret.data(), static_cast<std::streamsize>(secret.size()));
    if (in.gcount() != static_cast<std::streamsize>(secret.size())) {
        throw Error(Errc::internal, "the token key " + file.string() + " is damaged");
    }
    return secret;
}

[[noreturn]] void reject(const char* why) { throw Error(Errc::unauthenticated, std::string("invalid token: ") + why); }

}  // namespace

TokenSigner::TokenSigner(const std::filesystem::path& key_file) : secret_(read_or_create_secret(key_file)) {}

std::string TokenSigner::issue(std::int64_t user_id, std::chrono::seconds lifetime) const {
    jwt_t* raw = nullptr;
    if (jwt_new(&raw) != 0) throw Error(Errc::internal, "cannot create a token");
    JwtPtr token(raw);
    const auto now = static_cast<long>(std::time(nullptr));
    const auto subject = std::to_string(user_id);
    if (jwt_add_grant(token.get(), "sub", subject.c_str()) != 0 || jwt_add_grant_int(token.get(), "iat", now) != 0 ||
        jwt_add_grant_int(token.get(), "nbf", now) != 0 ||
        jwt_add_grant_int(token.get(), "exp", now + static_cast<long>(lifetime.count())) != 0 ||
        jwt_set_alg(token.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                    static_cast<int>(secret_.size())) != 0) {
        throw Error(Errc::internal, "cannot sign a token");
    }
    char* encoded = jwt_encode_str(token.get());
    if (!encoded) throw Error(Errc::internal, "cannot encode a token");
    std::string out(encoded);
    std::free(encoded);
    return out;
}

TokenSigner::Verified TokenSigner::verify(std::string_view token) const {
    if (token.empty() || token.size() > 4096) reject("malformed");
    const std::string text(token);
    jwt_t* raw = nullptr;
    if (jwt_decode(&raw, text.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                   static_cast<int>(secret_.size())) != 0 ||
        raw == nullptr) {
        reject("bad signature or format");
    }
    JwtPtr decoded(raw);
    if (jwt_get_alg(decoded.get()) != JWT_ALG_HS256) reject("unexpected algorithm");
    const long now = static_cast<long>(std::time(nullptr));
    errno = 0;
    const long exp = jwt_get_grant_int(decoded.get(), "exp");
    if (errno != 0 || exp <= now) reject("expired");
    errno = 0;
    const long nbf = jwt_get_grant_int(decoded.get(), "nbf");
    if (errno == 0 && nbf > now) reject("not yet valid");
    const char* sub = jwt_get_grant(decoded.get(), "sub");
    if (!sub) reject("no subject");
    char* end = nullptr;
    const long long id = std::strtoll(sub, &end, 10);
    if (end == sub || *end != '\0' || id <= 0) reject("bad subject");
    return {id, std::chrono::system_clock::from_time_t(static_cast<std::time_t>(exp))};
}

std::string TokenSigner::keyed_digest(std::string_view data) const {
    unsigned char out[crypto_generichash_BYTES];
    crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                       reinterpret_cast<const unsigned char*>(secret_.data()), secret_.size());
    return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::string TokenSigner::url_token(std::string_view subject) const {
    const auto digest = keyed_digest(subject);
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, reinterpret_cast<const unsigned char*>(digest.data()), 16);
    return std::string(hex, 32);
}

bool TokenSigner::url_token_matches(std::string_view subject, std::string_view candidate) const {
    const auto expected = url_token(subject);
    return candidate.size() == expected.size() &&
           sodium_memcmp(expected.data(), candidate.data(), expected.size()) == 0;
}

}  // namespace ictcore::auth

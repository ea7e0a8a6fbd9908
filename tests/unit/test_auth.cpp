// Tokens: only our HS256 signature, unexpired and already valid, is accepted.
#include "auth/token_signer.hpp"
#include "temp_dir.hpp"

#include <ictcore/error.hpp>

#include <doctest/doctest.h>
#include <sodium.h>

#include <cstring>
#include <string>

using namespace ictcore;

namespace {
std::string b64url(std::string_view s) {
    std::string out(sodium_base64_ENCODED_LEN(s.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(s.data()), s.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(std::strlen(out.c_str()));
    return out;
}
bool rejected(const auth::TokenSigner& signer, const std::string& token) {
    try {
        signer.verify(token);
    } catch (const Error& e) {
        return e.code() == Errc::unauthenticated;
    }
    return false;
}
}  // namespace

TEST_CASE("tokens round-trip and keep their key across restarts") {
    test::TempDir dir;
    const auto key = dir.path() / "token.key";
    std::string token;
    {
        auth::TokenSigner signer(key);
        token = signer.issue(42, std::chrono::seconds(60));
        CHECK(signer.verify(token).user_id == 42);
    }
    auth::TokenSigner again(key);
    CHECK(again.verify(token).user_id == 42);
    test::TempDir other;
    auth::TokenSigner stranger(other.path() / "token.key");
    CHECK(rejected(stranger, token));
}

TEST_CASE("forged, expired and premature tokens are refused") {
    test::TempDir dir;
    auth::TokenSigner signer(dir.path() / "token.key");
    const std::string good = signer.issue(7, std::chrono::seconds(60));
    const auto dot2 = good.rfind('.');
    std::string tampered = good;
    tampered[dot2 + 2] = tampered[dot2 + 2] == 'A' ? 'B' : 'A';
    CHECK(rejected(signer, tampered));

    const std::string payload = b64url(R"({"sub":"1","exp":9999999999})");
    CHECK(rejected(signer, b64url(R"({"alg":"none","typ":"JWT"})") + "." + payload + "."));
    CHECK(rejected(signer, b64url(R"({"alg":"HS256","typ":"JWT"})") + "." + payload + "."));
    CHECK(rejected(signer, signer.issue(7, std::chrono::seconds(-10))));  // expired
    CHECK(rejected(signer, ""));
    CHECK(rejected(signer, "not.a.token"));
}

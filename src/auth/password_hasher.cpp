// argon2id through libsodium's crypto_pwhash_str (the hash string carries its own parameters).
#include "auth/password_hasher.hpp"

#include <ictcore/error.hpp>

#include <sodium.h>

#include <algorithm>
#include <thread>

namespace ictcore::auth {

namespace {
std::ptrdiff_t parallel_hashes() {
    return std::clamp<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(std::thread::hardware_concurrency()), 1, 64);
}
}  // namespace

PasswordHasher::PasswordHasher(PasswordCost cost) : slots_(parallel_hashes()) {
    if (sodium_init() < 0) throw Error(Errc::internal, "libsodium failed to initialise");
    switch (cost) {
        case PasswordCost::interactive:
            opslimit_ = crypto_pwhash_OPSLIMIT_INTERACTIVE;
            memlimit_ = crypto_pwhash_MEMLIMIT_INTERACTIVE;
            break;
        case PasswordCost::moderate:
            opslimit_ = crypto_pwhash_OPSLIMIT_MODERATE;
            memlimit_ = crypto_pwhash_MEMLIMIT_MODERATE;
            break;
        case PasswordCost::minimal:
            opslimit_ = crypto_pwhash_OPSLIMIT_MIN;
            memlimit_ = crypto_pwhash_MEMLIMIT_MIN;
            break;
    }
    dummy_hash_ = hash("not a password of anyone");
}

std::string PasswordHasher::hash(std::string_view password) {
    char out[crypto_pwhash_STRBYTES];
    slots_.acquire();
    const int rc = crypto_pwhash_str(out, password.data(), password.size(), opslimit_, memlimit_);
    slots_.release();
    if (rc != 0) throw Error(Errc::internal, "out of memory while hashing a password");
    return out;
}

bool PasswordHasher::verify(const std::string& hash, std::string_view password) {
    slots_.acquire();
    const int rc = crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size());
    slots_.release();
    return rc == 0;
}

void PasswordHasher::verify_dummy(std::string_view password) { (void)verify(dummy_hash_, password); }

}  // namespace ictcore::auth

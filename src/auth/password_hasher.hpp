// PasswordHasher: argon2id (libsodium) hashes, with the number of hashes computed at once
// bounded because each one takes tens of megabytes of memory by design.
#pragma once

#include <ictcore/core.hpp>

#include <semaphore>
#include <string>
#include <string_view>

namespace ictcore::auth {

class PasswordHasher {
public:
    explicit PasswordHasher(PasswordCost cost);
    std::string hash(std::string_view password);
    bool verify(const std::string& hash, std::string_view password);
    // Spends the time a real verification would, so unknown usernames cannot be told
    // apart from wrong passwords by timing.
    void verify_dummy(std::string_view password);

private:
    unsigned long long opslimit_;
    std::size_t memlimit_;
    std::counting_semaphore<64> slots_;
    std::string dummy_hash_;
};

}  // namespace ictcore::auth

// CoreState: everything a Core owns, shared by its services. Internal to the library.
#pragma once

#include "auth/login_throttle.hpp"
#include "auth/password_hasher.hpp"
#include "auth/token_signer.hpp"
#include "engine/engine.hpp"
#include "media/media_store.hpp"
#include "store/store.hpp"
#include "store/table.hpp"

#include <ictcore/core.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ictcore::detail {

// Principals by user id and recently verified Basic credentials, dropped whenever users,
// roles or grants change so a revoked right never outlives the change.
class PrincipalCache {
public:
    std::shared_ptr<const Principal> find(std::int64_t user_id);
    void put(std::int64_t user_id, std::shared_ptr<const Principal> p);
    std::optional<std::int64_t> find_basic(const std::string& digest);
    void put_basic(const std::string& digest, std::int64_t user_id);
    // Tokens already verified, until their expiry: verifying a JWT costs more than the rest
    // of a small read.
    std::optional<std::int64_t> find_token(const std::string& token);
    void put_token(const std::string& token, std::int64_t user_id, std::chrono::system_clock::time_point expires);
    void clear();

private:
    std::mutex mutex_;
    std::unordered_map<std::int64_t, std::shared_ptr<const Principal>> principals_;
    struct BasicEntry {
        std::int64_t user_id;
        std::chrono::steady_clock::time_point expires;
    };
    std::unordered_map<std::string, BasicEntry> basic_;
    struct TokenEntry {
        std::int64_t user_id;
        std::chrono::system_clock::time_point expires;
    };
    std::unordered_map<std::string, TokenEntry> tokens_;
};

struct CoreState {
    explicit CoreState(Options opts);

    Options options;
    std::unique_ptr<store::Store> store;
    auth::TokenSigner signer;
    auth::PasswordHasher hasher;
    PrincipalCache principals;
    auth::LoginThrottle login_throttle;
    media::MediaStore media;
    std::optional<std::string> generated_admin_password;
    bool first_start = false;

    Auth auth{*this};
    Users users{*this};
    Contacts contacts{*this};
    Groups groups{*this};
    Texts texts{*this};
    Templates templates{*this};
    Recordings recordings{*this};
    Documents documents{*this};
    Statistics statistics{*this};
    Accounts accounts{*this};
    Providers providers{*this};
    Programs programs{*this};
    Transmissions transmissions{*this};
    Campaigns campaigns{*this};
    Inbound inbound{*this};
    DeliveryReports delivery_reports{*this};
    // Where reports and inbound messages reach this host (Core::set_public_url); empty: none.
    std::string public_url() const;
    void set_public_url(std::string url);
    // Delivery::report_url of a spool, or empty without a public URL.
    std::string report_url(std::string_view gateway_type, std::int64_t spool_id) const;
    // Declared last: destroyed first, so nothing it calls back into is gone.
    std::unique_ptr<engine::Engine> engine;

private:
    mutable std::mutex public_url_mutex_;
    std::string public_url_;

public:
    static store::Scope scope_of(const Principal& who) {
        return who.admin() ? store::Scope{} : store::Scope{who.user_id()};
    }
};

}  // namespace ictcore::detail

// Core: the library's facade. Owns the store and hands out the services; every service call
// takes the acting Principal and checks permissions and ownership itself.
#pragma once

#include <ictcore/auth.hpp>
#include <ictcore/contacts.hpp>
#include <ictcore/groups.hpp>
#include <ictcore/messages.hpp>
#include <ictcore/statistics.hpp>
#include <ictcore/users.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace ictcore {

// Cost of the argon2id password hash. `interactive` is libsodium's recommendation for
// logins; `minimal` exists for test suites that create many users and must not be used live.
enum class PasswordCost { interactive, moderate, minimal };

struct Options {
    std::filesystem::path data_dir = "data";
    std::chrono::seconds token_lifetime{std::chrono::hours(24)};
    // Password for the `admin` user created on first start; generated when empty.
    std::optional<std::string> admin_password;
    PasswordCost password_cost = PasswordCost::interactive;
    // Largest media upload (documents, recordings, template attachments).
    std::uint64_t max_media_bytes = 20 * 1024 * 1024;
};

class Core {
public:
    explicit Core(Options options);
    ~Core();
    Core(const Core&) = delete;
    Core& operator=(const Core&) = delete;

    Auth& auth();
    Users& users();
    Contacts& contacts();
    Groups& groups();
    Texts& texts();
    Templates& templates();
    Recordings& recordings();
    Documents& documents();
    Statistics& statistics();

    // The admin password this Core generated on first start, if it generated one.
    const std::optional<std::string>& generated_admin_password() const;
    // True when this Core created the database (first start).
    bool first_start() const;
    const Options& options() const;

private:
    std::unique_ptr<detail::CoreState> state_;
};

}  // namespace ictcore

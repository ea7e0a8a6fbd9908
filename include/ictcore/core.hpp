// Core: the library's facade. Owns the store and hands out the services; every service call
// takes the acting Principal and checks permissions and ownership itself.
#pragma once

#include <ictcore/accounts.hpp>
#include <ictcore/auth.hpp>
#include <ictcore/campaigns.hpp>
#include <ictcore/contacts.hpp>
#include <ictcore/delivery_reports.hpp>
#include <ictcore/gateway.hpp>
#include <ictcore/groups.hpp>
#include <ictcore/inbound.hpp>
#include <ictcore/messages.hpp>
#include <ictcore/programs.hpp>
#include <ictcore/providers.hpp>
#include <ictcore/statistics.hpp>
#include <ictcore/transmissions.hpp>
#include <ictcore/users.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
    // Wait before a failed attempt with tries left is made again.
    std::chrono::seconds retry_delay{std::chrono::minutes(5)};
    // On first start, store one active loopback provider per service so a new install
    // delivers at once (simulated).
    bool seed_loopback_providers = true;
    // How long destroying a Core waits for deliveries in flight to report and be recorded;
    // what is still open then is recovered on the next start.
    std::chrono::milliseconds drain_timeout{std::chrono::seconds(5)};
    // The engine's io_context. When null, Core runs its own on one thread of its own.
    boost::asio::io_context* io_context = nullptr;
    // Gateways to register before the engine starts, so attempts a previous run left in
    // flight through them are recovered (register_gateway() serves later additions).
    std::vector<std::shared_ptr<Gateway>> gateways = {};
    // false: a Core that only reads and writes the store — no recovery, no deliveries, no
    // retries or schedules. For short-lived tools (`ictcore-server mail-in`) that share the
    // data directory with a running server, whose engine owns the work in flight.
    bool run_engine = true;
    // The URL far ends reach this host at, from the start (see Core::set_public_url).
    std::string public_url = {};
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
    Accounts& accounts();
    Providers& providers();
    Programs& programs();
    Transmissions& transmissions();
    Campaigns& campaigns();
    Inbound& inbound();
    DeliveryReports& delivery_reports();

    // The URL at which far ends reach this host (e.g. "https://ictcore.example.com"): gateways
    // give it, with a per-attempt token, for delivery reports (Delivery::report_url). Set it
    // once the host listens; until then no reports are asked for.
    void set_public_url(std::string url);
    std::string public_url() const;

    // Makes `gateway` deliver for providers of its type (replacing any gateway of that type).
    // The loopback gateway is registered by default.
    void register_gateway(std::shared_ptr<Gateway> gateway);

    // The admin password this Core generated on first start, if it generated one.
    const std::optional<std::string>& generated_admin_password() const;
    // True when this Core created the database (first start).
    bool first_start() const;
    const Options& options() const;

private:
    std::unique_ptr<detail::CoreState> state_;
};

}  // namespace ictcore

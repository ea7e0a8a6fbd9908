// Core: opens the data directory, the database and the token key, and on first start
// creates the `admin` user.
#include "core_state.hpp"

#include "gateways/kannel.hpp"
#include "gateways/loopback.hpp"
#include "gateways/sip.hpp"
#include "gateways/smtp.hpp"
#include "store/queries.hpp"

#include <ictcore/error.hpp>
#include <ictcore/service_flag.hpp>

#include <fmt/format.h>

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

namespace ictcore {

namespace detail {

namespace {

std::unique_ptr<store::Store> open_store(const Options& options) {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec)
        throw Error(Errc::internal, "cannot create data directory " + options.data_dir.string() + ": " + ec.message());
    ::chmod(options.data_dir.c_str(), 0700);
    return std::make_unique<store::Store>(options.data_dir / "ictcore.db");
}

std::string generate_password() {
    unsigned char bytes[18];
    randombytes_buf(bytes, sizeof bytes);
    char text[sodium_base64_ENCODED_LEN(sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(text, sizeof text, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return text;
}

}  // namespace

std::shared_ptr<const Principal> PrincipalCache::find(std::int64_t user_id) {
    std::lock_guard lock(mutex_);
    auto it = principals_.find(user_id);
    return it == principals_.end() ? nullptr : it->second;
}

void PrincipalCache::put(std::int64_t user_id, std::shared_ptr<const Principal> p) {
    std::lock_guard lock(mutex_);
    principals_[user_id] = std::move(p);
}

std::optional<std::int64_t> PrincipalCache::find_basic(const std::string& digest) {
    std::lock_guard lock(mutex_);
    auto it = basic_.find(digest);
    if (it == basic_.end()) return std::nullopt;
    if (it->second.expires < std::chrono::steady_clock::now()) {
        basic_.erase(it);
        return std::nullopt;
    }
    return it->second.user_id;
}

void PrincipalCache::put_basic(const std::string& digest, std::int64_t user_id) {
    std::lock_guard lock(mutex_);
    if (basic_.size() > 10000) basic_.clear();  // bound the memory a credential flood can take
    basic_[digest] = {user_id, std::chrono::steady_clock::now() + std::chrono::minutes(5)};
}

std::optional<std::int64_t> PrincipalCache::find_token(const std::string& token) {
    std::lock_guard lock(mutex_);
    auto it = tokens_.find(token);
    if (it == tokens_.end()) return std::nullopt;
    if (it->second.expires <= std::chrono::system_clock::now()) {
        tokens_.erase(it);
        return std::nullopt;
    }
    return it->second.user_id;
}

void PrincipalCache::put_token(const std::string& token, std::int64_t user_id,
                               std::chrono::system_clock::time_point expires) {
    std::lock_guard lock(mutex_);
    if (tokens_.size() > 10000) tokens_.clear();  // bound the memory; a miss only costs a verify
    tokens_[token] = {user_id, expires};
}

void PrincipalCache::clear() {
    std::lock_guard lock(mutex_);
    principals_.clear();
    basic_.clear();
    tokens_.clear();
}

CoreState::CoreState(Options opts)
    : options(std::move(opts)),
      store(open_store(options)),
      signer(options.data_dir / "token.key"),
      hasher(options.password_cost),
      media(options.data_dir / "media") {
    const bool has_users = store->read([](store::Connection& c) { return store::any_user(c); });
    if (has_users) return;
    first_start = true;
    std::string password;
    if (options.admin_password && !options.admin_password->empty()) {
        password = *options.admin_password;
    } else {
        password = generate_password();
        generated_admin_password = password;
    }
    User admin;
    admin.username = "admin";
    admin.passwd = hasher.hash(password);
    admin.first_name = "Administrator";
    store->write([&](store::Connection& c) {
        const auto id = store::insert_user(c, admin);
        const auto role = store::role_id_by_name(c, "admin");
        if (!role) throw Error(Errc::internal, "the admin role is missing");
        store::grant_role(c, id, *role);
        store::insert_default_account(c, id, admin.username, admin.first_name, admin.last_name, admin.phone,
                                      admin.email);
    });
    spdlog::info("first start: created user admin");
}

}  // namespace detail

namespace {

// One active loopback provider per service, owned by `admin`, so a new install delivers at once.
void seed_loopback_providers(detail::CoreState& state) {
    state.store->write([](store::Connection& c) {
        const auto admin = store::credentials_by_username(c, "admin");
        if (!admin) return;
        for (const auto flag : {service::voice, service::fax, service::sms, service::email}) {
            Provider p;
            p.name = fmt::format("loopback {}", service::name(flag));
            p.type = "loopback";
            p.gateway_flag = gateway_flag::loopback;
            p.service_flag = flag;
            p.username = "loopback";
            p.created_by = admin->user_id;
            store::Table<Provider>::insert(c, p);
        }
    });
    spdlog::info("first start: created a loopback provider for each service");
}

}  // namespace

Core::Core(Options options) : state_(std::make_unique<detail::CoreState>(std::move(options))) {
    auto& state = *state_;
    state.engine = std::make_unique<engine::Engine>(state);
    state.engine->register_gateway(std::make_shared<gateways::LoopbackGateway>());
    state.engine->register_gateway(std::make_shared<gateways::SmtpGateway>());
    state.engine->register_gateway(std::make_shared<gateways::KannelGateway>());
    state.engine->register_gateway(
        std::make_shared<gateways::SipGateway>(state.options.data_dir / "fax-in", &state.inbound));
    for (auto& g : state.options.gateways) state.engine->register_gateway(g);
    if (state.first_start && state.options.seed_loopback_providers) seed_loopback_providers(state);
    state.set_public_url(state.options.public_url);
    if (state.options.run_engine) state.engine->start();
}
Core::~Core() = default;

Auth& Core::auth() { return state_->auth; }
Users& Core::users() { return state_->users; }
Contacts& Core::contacts() { return state_->contacts; }
Groups& Core::groups() { return state_->groups; }
Texts& Core::texts() { return state_->texts; }
Templates& Core::templates() { return state_->templates; }
Recordings& Core::recordings() { return state_->recordings; }
Documents& Core::documents() { return state_->documents; }
Statistics& Core::statistics() { return state_->statistics; }
Accounts& Core::accounts() { return state_->accounts; }
Providers& Core::providers() { return state_->providers; }
Programs& Core::programs() { return state_->programs; }
Transmissions& Core::transmissions() { return state_->transmissions; }
Campaigns& Core::campaigns() { return state_->campaigns; }
Inbound& Core::inbound() { return state_->inbound; }
DeliveryReports& Core::delivery_reports() { return state_->delivery_reports; }
void Core::set_public_url(std::string url) { state_->set_public_url(std::move(url)); }
std::string Core::public_url() const { return state_->public_url(); }
void Core::register_gateway(std::shared_ptr<Gateway> gateway) { state_->engine->register_gateway(std::move(gateway)); }
const std::optional<std::string>& Core::generated_admin_password() const { return state_->generated_admin_password; }
bool Core::first_start() const { return state_->first_start; }
const Options& Core::options() const { return state_->options; }

}  // namespace ictcore

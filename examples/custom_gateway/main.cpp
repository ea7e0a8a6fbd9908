// custom_gateway: how to plug your own delivery channel into ictcore.
//
// ConsoleGateway below is a complete gateway: it "delivers" SMS by printing them, and reports
// the outcome asynchronously from an Asio timer, the way a real gateway reports when an SMSC
// or SIP peer answers. The program registers it, creates a provider of its type, and sends
// one SMS through it. Exits 0 only when the transmission completed through that gateway.
#include <unistd.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

// Prints each SMS to stdout and reports it delivered `delay_ms` later (provider setting).
class ConsoleGateway : public ictcore::Gateway {
public:
    // Providers whose `type` is "console" are delivered by this gateway.
    std::string_view type() const override { return "console"; }
    // ICTCore's flags are 2 (Kannel), 4 (SMTP), 8 (SIP), 16 (loopback): pick an unused one.
    std::int64_t gateway_flag() const override { return 1024; }
    std::int64_t services() const override { return ictcore::service::sms; }

    // The engine's io_context: deliver() arms timers (or sockets) on it instead of blocking.
    void attach(boost::asio::io_context& io) override { io_ = &io; }

    // Runs when a provider of this type is created or updated: reject bad settings early,
    // with Error(invalid), rather than failing every delivery later.
    void check(const ictcore::Provider& provider) const override { delay_of(provider); }

    // A console cannot tell whether it printed a spool before a crash, so a delivery
    // interrupted by a restart is failed rather than repeated (the default, spelt out here).
    // Return true when your far end deduplicates by spool_id.
    bool redelivery_safe(const ictcore::Provider&) const override { return false; }

    // Called on the engine's thread: must return at once. The completion may be copied and
    // finished later from any thread, exactly once.
    void deliver(const ictcore::Delivery& d, ictcore::DeliveryCompletion done) override {
        ++deliveries_;
        if (!d.text) {
            done.finish(ictcore::Outcome::failed("no text to send"));
            return;
        }
        std::cout << "[console] spool " << d.spool_id << ": SMS from '" << d.source << "' to " << d.destination
                  << ": \"" << d.text->data << "\" (" << d.text->parts << " part(s), " << d.text->encoding << ")\n";

        // The non-blocking pattern: start the work, keep the completion in the handler, return.
        auto timer = std::make_shared<boost::asio::steady_timer>(*io_, delay_of(d.provider));
        timer->async_wait([timer, done, parts = d.text->parts](const boost::system::error_code& ec) {
            // Cancelled: every copy of `done` dropped unfinished fails the attempt ("the gateway
            // dropped the delivery"), or, when the engine is stopping, leaves it to recovery.
            if (ec) return;
            ictcore::Outcome outcome = ictcore::Outcome::delivered("displayed on the console");
            // Results are stored per attempt (GET /spools/{id}/result).
            outcome.results.push_back({"info", "parts", std::to_string(parts)});
            done.finish(std::move(outcome));
        });
        // Had the provider been unreachable, finish(Outcome::provider_error(...)) would make the
        // engine try the next provider of the service within the same attempt.
    }

    int deliveries() const { return deliveries_.load(); }

private:
    // settings: {"delay_ms": 0..10000}, default 200. (`concurrency` is read by the engine.)
    static std::chrono::milliseconds delay_of(const ictcore::Provider& p) {
        if (!p.settings || p.settings->empty()) return std::chrono::milliseconds(200);
        const auto settings = ictcore::parse_json(*p.settings);
        const auto* delay = settings.is_object() ? settings.get_object().if_contains("delay_ms") : nullptr;
        if (delay == nullptr) return std::chrono::milliseconds(200);
        if (!delay->is_int64() || delay->get_int64() < 0 || delay->get_int64() > 10000) {
            throw ictcore::Error(ictcore::Errc::invalid, "settings.delay_ms must be from 0 to 10000");
        }
        return std::chrono::milliseconds(delay->get_int64());
    }

    boost::asio::io_context* io_ = nullptr;
    std::atomic<int> deliveries_{0};
};

// A fresh private directory under the system temp dir, removed again on scope exit.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ictcore-example-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace

int main() {
    try {
        ScratchDir dir;
        auto console = std::make_shared<ConsoleGateway>();
        // Registering through Options (not Core::register_gateway later) lets the engine recover
        // attempts a previous run left in flight through this gateway when it starts.
        ictcore::Core core(ictcore::Options{
            .data_dir = dir.path(),
            .admin_password = "example-admin",
            .password_cost = ictcore::PasswordCost::minimal,
            .seed_loopback_providers = false,  // only our gateway delivers here
            .gateways = {console},
        });
        const ictcore::Principal admin = core.auth().from_password("admin", "example-admin");

        // The sender id a gateway gets (Delivery::source) is the phone of the transmission's
        // account; transmissions default to the caller's default account.
        if (const auto account = core.accounts().default_for(admin)) {
            core.accounts().update(admin, account->account_id, [](ictcore::Account& a) { a.phone = "+12025550100"; });
        }

        // A provider (trunk) of the new type. The engine allows `concurrency` deliveries in
        // flight through it at once; the gateway's check() has vetted `delay_ms`.
        ictcore::Provider trunk;
        trunk.name = "console trunk";
        trunk.type = "console";
        trunk.service_flag = ictcore::service::sms;
        trunk.username = "demo";
        trunk.settings = R"({"delay_ms": 300, "concurrency": 4})";
        const std::int64_t provider_id = core.providers().create(admin, trunk);

        // check() at work: a provider whose settings the gateway cannot use is never stored.
        ictcore::Provider broken = trunk;
        broken.settings = R"({"delay_ms": -1})";
        try {
            core.providers().create(admin, broken);
            std::cerr << "custom_gateway: a provider with bad settings was accepted\n";
            return EXIT_FAILURE;
        } catch (const ictcore::Error& e) {
            if (e.code() != ictcore::Errc::invalid) throw;
            std::cout << "refused provider: " << e.what() << "\n";
        }

        // What to send (a text), how (a sendsms program), to whom (a contact): a transmission.
        ictcore::Text text;
        text.name = "reminder";
        text.data = "Your appointment is tomorrow at 10:00. Reply STOP to opt out.";
        ictcore::Program program;
        program.name = "appointment reminder";
        program.text_id = core.texts().create(admin, text);
        const std::int64_t program_id = core.programs().create(admin, "sendsms", program);

        ictcore::Contact contact;
        contact.first_name = "Grace";
        contact.phone = "+1 202 555 0147";
        ictcore::Transmission transmission;
        transmission.contact_id = core.contacts().create(admin, contact);
        transmission.program_id = program_id;
        const std::int64_t transmission_id = core.transmissions().create(admin, transmission);

        // send() commits a queued attempt (spool) and returns; delivery happens on the engine.
        const std::int64_t spool_id = core.transmissions().send(admin, transmission_id);
        std::cout << "transmission " << transmission_id << " sent as spool " << spool_id << "\n";

        std::string status;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        do {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            status = core.transmissions().status(admin, transmission_id);
        } while ((status == "processing" || status == "pending") && std::chrono::steady_clock::now() < deadline);
        std::cout << "transmission status: " << status << "\n";

        // One attempt, through our provider, delivered once.
        const auto spools = core.transmissions().detail(admin, transmission_id);
        bool ok = status == "completed" && console->deliveries() == 1 && spools.size() == 1;
        for (const ictcore::Spool& s : spools) {
            std::cout << "spool " << s.spool_id << ": " << s.status << ", provider " << s.provider_id.value_or(0)
                      << ", response '" << s.response.value_or("") << "', queued " << s.time_spool << ", started "
                      << s.time_start.value_or(0) << ", ended " << s.time_end.value_or(0) << "\n";
            ok = ok && s.spool_id == spool_id && s.status == "completed" && s.provider_id == provider_id;
        }
        const auto results = core.transmissions().spool_result(admin, spool_id);
        for (const ictcore::SpoolResult& r : results) {
            std::cout << "result: " << r.type << "/" << r.name << "/" << r.data << "\n";
        }
        ok = ok && results.size() == 1;
        return ok ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const ictcore::Error& e) {
        std::cerr << "custom_gateway: " << ictcore::to_string(e.code()) << ": " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "custom_gateway: " << e.what() << "\n";
    }
    return EXIT_FAILURE;
}

// The loopback gateway (see loopback.hpp).
#include "gateways/loopback.hpp"

#include <ictcore/error.hpp>
#include <ictcore/json.hpp>
#include <ictcore/service_flag.hpp>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/serialize.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <unordered_set>

namespace ictcore::gateways {

namespace json = boost::json;

struct LoopbackGateway::Settings {
    std::int64_t latency_ms = 0;
    std::map<std::string, std::string> fail;
    std::optional<std::string> provider_error;
    std::vector<Outcome::Result> results;
    std::string ledger;
};

// An append-only record of deliveries, deduplicated by spool id.
class LoopbackGateway::Ledger {
public:
    explicit Ledger(const std::string& path) : path_(path) {
        std::ifstream in(path);
        std::string line;
        while (std::getline(in, line)) {
            try {
                const auto v = parse_json(line);
                if (const auto* id = v.as_object().if_contains("spool_id"))
                    recorded_.insert(id->to_number<std::int64_t>());
            } catch (const std::exception&) {
                // A line cut short by a crash: the delivery it began never completed.
            }
        }
        fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0) throw Error(Errc::failed, fmt::format("cannot open loopback ledger {}", path));
    }
    ~Ledger() {
        if (fd_ >= 0) ::close(fd_);
    }
    // False when the spool was recorded before.
    bool record(const Delivery& d) {
        std::lock_guard lock(mutex_);
        if (!recorded_.insert(d.spool_id).second) return false;
        json::object line;
        line["spool_id"] = d.spool_id;
        line["transmission_id"] = d.transmission.transmission_id;
        line["provider_id"] = d.provider.provider_id;
        line["service_flag"] = d.transmission.service_flag;
        line["destination"] = d.destination;
        line["time"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        const std::string text = json::serialize(line) + "\n";
        if (::write(fd_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
            recorded_.erase(d.spool_id);
            throw Error(Errc::failed, fmt::format("cannot write loopback ledger {}", path_));
        }
        return true;
    }

private:
    std::string path_;
    int fd_ = -1;
    std::mutex mutex_;
    std::unordered_set<std::int64_t> recorded_;
};

namespace {

std::shared_ptr<const LoopbackGateway::Settings> parse_settings(const Provider& p) {
    auto s = std::make_shared<LoopbackGateway::Settings>();
    if (!p.settings || p.settings->empty()) return s;
    const auto v = parse_json(*p.settings);
    if (!v.is_object()) throw Error(Errc::invalid, "settings must be a JSON object");
    const auto& o = v.get_object();
    if (const auto* x = o.if_contains("latency_ms")) {
        if (!x->is_int64() || x->get_int64() < 0 || x->get_int64() > 600000) {
            throw Error(Errc::invalid, "settings.latency_ms must be an integer from 0 to 600000");
        }
        s->latency_ms = x->get_int64();
    }
    if (const auto* x = o.if_contains("fail")) {
        if (!x->is_object()) throw Error(Errc::invalid, "settings.fail must map destinations to responses");
        for (const auto& [dest, response] : x->get_object()) {
            if (!response.is_string()) throw Error(Errc::invalid, "settings.fail responses must be strings");
            s->fail[std::string(dest)] = std::string(response.get_string());
        }
    }
    if (const auto* x = o.if_contains("provider_error")) {
        if (!x->is_string()) throw Error(Errc::invalid, "settings.provider_error must be a string");
        s->provider_error = std::string(x->get_string());
    }
    if (const auto* x = o.if_contains("results")) {
        if (!x->is_array()) throw Error(Errc::invalid, "settings.results must be an array");
        for (const auto& r : x->get_array()) {
            const auto* ro = r.if_object();
            auto text = [&](std::string_view key) -> std::string {
                const auto* f = ro ? ro->if_contains(key) : nullptr;
                if (!f || !f->is_string()) {
                    throw Error(Errc::invalid, "settings.results rows need string type, name and data");
                }
                return std::string(f->get_string());
            };
            s->results.push_back({text("type"), text("name"), text("data")});
        }
    }
    if (const auto* x = o.if_contains("ledger")) {
        if (!x->is_string() || x->get_string().empty()) throw Error(Errc::invalid, "settings.ledger must be a path");
        s->ledger = std::string(x->get_string());
    }
    return s;
}

}  // namespace

LoopbackGateway::LoopbackGateway() = default;
LoopbackGateway::~LoopbackGateway() = default;

std::int64_t LoopbackGateway::gateway_flag() const { return ictcore::gateway_flag::loopback; }
std::int64_t LoopbackGateway::services() const { return service::voice | service::fax | service::sms | service::email; }

void LoopbackGateway::attach(boost::asio::io_context& io) { io_ = &io; }

void LoopbackGateway::check(const Provider& provider) const { parse_settings(provider); }

std::shared_ptr<const LoopbackGateway::Settings> LoopbackGateway::settings_of(const Provider& p) {
    std::lock_guard lock(mutex_);
    auto& slot = settings_[p.provider_id];
    const std::string text = p.settings.value_or("");
    if (!slot.second || slot.first != text) slot = {text, parse_settings(p)};
    return slot.second;
}

std::shared_ptr<LoopbackGateway::Ledger> LoopbackGateway::ledger_at(const std::string& path) {
    std::lock_guard lock(mutex_);
    auto& ledger = ledgers_[path];
    if (!ledger) ledger = std::make_shared<Ledger>(path);
    return ledger;
}

void LoopbackGateway::deliver(const Delivery& delivery, DeliveryCompletion done) {
    const auto settings = settings_of(delivery.provider);
    std::shared_ptr<Ledger> ledger;
    if (!settings->ledger.empty()) ledger = ledger_at(settings->ledger);
    const bool call =
        delivery.transmission.service_flag == service::voice || delivery.transmission.service_flag == service::fax;
    // What the far end does, decided when the latency has passed.
    auto outcome = [settings, ledger, call, d = delivery](const DeliveryCompletion& completion) {
        if (settings->provider_error) return completion.finish(Outcome::provider_error(*settings->provider_error));
        if (auto f = settings->fail.find(d.destination); f != settings->fail.end()) {
            return completion.finish(Outcome::failed(f->second));
        }
        if (call) completion.connected();
        Outcome o = Outcome::delivered("delivered");
        if (ledger && !ledger->record(d)) o.response = "delivered (already recorded)";
        o.results = settings->results;
        completion.finish(std::move(o));
    };
    if (settings->latency_ms == 0 || io_ == nullptr) {
        outcome(done);
        return;
    }
    auto timer = std::make_shared<boost::asio::steady_timer>(*io_, std::chrono::milliseconds(settings->latency_ms));
    timer->async_wait([timer, done, outcome = std::move(outcome)](const boost::system::error_code& ec) {
        if (ec) return;  // shutting down: the completion reports the delivery as dropped
        try {
            outcome(done);
        } catch (const std::exception& e) {
            done.finish(Outcome::provider_error(e.what()));
        }
    });
}

}  // namespace ictcore::gateways

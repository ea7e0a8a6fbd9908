// The SIP gateway (see sip.hpp): settings and outcomes here; calls, media and registrations in
// src/sip on the ReLoop thread. Deliveries are handed to that thread as CallPlans; outcomes come
// back through DeliveryCompletion, which any thread may finish. Received faxes are recorded on a
// worker thread of their own, so the store and the media conversion never hold up RTP.
#include "gateways/sip.hpp"

#include "sip/re_loop.hpp"
#include "sip/user_agent.hpp"

#include <ictcore/error.hpp>
#include <ictcore/inbound.hpp>
#include <ictcore/json.hpp>
#include <ictcore/service_flag.hpp>

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <thread>

namespace ictcore::gateways {

namespace {

struct Settings {
    std::string listen;
    std::string caller_id;
    std::vector<sip::G711> codecs{sip::G711::pcmu, sip::G711::pcma};
    std::int64_t ring_timeout = 30;
    std::int64_t digit_wait = 0;
    bool t38 = false;
    bool ecm = true;
    std::string station_id;
    std::int64_t register_expires = 3600;
    std::int64_t max_duration = 3600;
};

std::int64_t int_setting(const boost::json::object& o, const char* name, std::int64_t low, std::int64_t high,
                         std::int64_t fallback) {
    const auto* x = o.if_contains(name);
    if (!x) return fallback;
    if (!x->is_int64() || x->get_int64() < low || x->get_int64() > high) {
        throw Error(Errc::invalid, fmt::format("settings.{} must be an integer from {} to {}", name, low, high));
    }
    return x->get_int64();
}

bool bool_setting(const boost::json::object& o, const char* name, bool fallback) {
    const auto* x = o.if_contains(name);
    if (!x) return fallback;
    if (!x->is_bool()) throw Error(Errc::invalid, fmt::format("settings.{} must be true or false", name));
    return x->get_bool();
}

std::string text_setting(const boost::json::object& o, const char* name, std::size_t max) {
    const auto* x = o.if_contains(name);
    if (!x) return {};
    if (!x->is_string() || x->get_string().empty() || x->get_string().size() > max) {
        throw Error(Errc::invalid, fmt::format("settings.{} must be a text of 1 to {} characters", name, max));
    }
    return std::string(x->get_string());
}

// "IP:PORT" with an IPv4 or IPv6 literal ("[::1]:5060").
bool valid_listen(const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos || colon + 1 == listen.size()) return false;
    std::string ip = listen.substr(0, colon);
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    unsigned char buf[16] = {};
    const bool v4 = ::inet_pton(AF_INET, ip.c_str(), buf) == 1;
    if (!v4 && ::inet_pton(AF_INET6, ip.c_str(), buf) != 1) return false;
    // Contact and SDP carry this address: "any" would tell the far end nothing.
    if (std::all_of(buf, buf + (v4 ? 4 : 16), [](unsigned char b) { return b == 0; })) return false;
    const std::string port = listen.substr(colon + 1);
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
    return std::stol(port) <= 65535;
}

Settings parse_settings(const Provider& p) {
    Settings s;
    if (p.settings && !p.settings->empty()) {
        const auto v = parse_json(*p.settings);
        if (!v.is_object()) throw Error(Errc::invalid, "settings must be a JSON object");
        const auto& o = v.get_object();
        s.listen = text_setting(o, "listen", 64);
        if (!s.listen.empty() && !valid_listen(s.listen)) {
            throw Error(Errc::invalid,
                        "settings.listen must be IP:PORT with the host's own address (not 0.0.0.0), e.g. "
                        "\"192.0.2.10:5060\"");
        }
        s.caller_id = text_setting(o, "caller_id", 64);
        if (const auto* x = o.if_contains("codecs")) {
            if (!x->is_array() || x->get_array().empty()) {
                throw Error(Errc::invalid, "settings.codecs must be a list of \"PCMU\" and \"PCMA\"");
            }
            s.codecs.clear();
            for (const auto& c : x->get_array()) {
                const std::string_view name = c.is_string() ? std::string_view(c.get_string()) : std::string_view();
                if (name != "PCMU" && name != "PCMA") {
                    throw Error(Errc::invalid, "settings.codecs must be a list of \"PCMU\" and \"PCMA\"");
                }
                const auto codec = name == "PCMU" ? sip::G711::pcmu : sip::G711::pcma;
                if (std::find(s.codecs.begin(), s.codecs.end(), codec) == s.codecs.end()) s.codecs.push_back(codec);
            }
        }
        s.ring_timeout = int_setting(o, "ring_timeout", 1, 600, s.ring_timeout);
        s.digit_wait = int_setting(o, "digit_wait", 0, 60, s.digit_wait);
        s.t38 = bool_setting(o, "t38", s.t38);
        s.ecm = bool_setting(o, "ecm", s.ecm);
        s.station_id = text_setting(o, "station_id", 20);
        s.register_expires = int_setting(o, "register_expires", 60, 86400, s.register_expires);
        s.max_duration = int_setting(o, "max_duration", 10, 86400, s.max_duration);
    }
    return s;
}

// The local address the kernel would send to `host` from, with port 5060: where a provider can
// reach us back when settings.listen is not given.
std::string default_listen(const std::string& host, std::int64_t port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 || !found) {
        throw Error(Errc::invalid, fmt::format("cannot resolve the SIP host {}", host));
    }
    std::unique_ptr<addrinfo, void (*)(addrinfo*)> guard(found, ::freeaddrinfo);
    const int fd = ::socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    const bool ok = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0;
    if (fd >= 0) ::close(fd);
    if (!ok) throw Error(Errc::invalid, fmt::format("no local address reaches the SIP host {}", host));
    char ip[INET6_ADDRSTRLEN] = "";
    if (local.ss_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&local)->sin_addr, ip, sizeof ip);
        return fmt::format("{}:5060", ip);
    }
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr, ip, sizeof ip);
    return fmt::format("[{}]:5060", ip);
}

std::string listen_of(const Provider& p, const Settings& s) {
    return s.listen.empty() ? default_listen(p.host.value_or(""), p.port.value_or(5060)) : s.listen;
}

std::string host_part(const Provider& p) {
    const std::string host = p.host.value_or("");
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

std::string request_uri(const Provider& p, const std::string& number) {
    std::string uri = p.dialstring && !p.dialstring->empty() ? *p.dialstring : "sip:{number}@{host}:{port}";
    const std::pair<std::string, std::string> fields[] = {
        {"{number}", number}, {"{host}", host_part(p)}, {"{port}", std::to_string(p.port.value_or(5060))}};
    for (const auto& [name, value] : fields) {
        for (auto at = uri.find(name); at != std::string::npos; at = uri.find(name, at + value.size())) {
            uri.replace(at, name.size(), value);
        }
    }
    return uri;
}

// A SIP user part from a phone number or name: what RFC 3261 allows unescaped.
std::string user_part(std::string_view text) {
    std::string out;
    for (const char ch : text) {
        if (std::isalnum(static_cast<unsigned char>(ch)) ||
            std::string_view("+-_.!~*'()&=$,;?/").find(ch) != std::string_view::npos)
            out += ch;
    }
    return out;
}

sip::CallPlan plan_for(const Provider& p, const Settings& s) {
    sip::CallPlan plan;
    plan.auth_user = p.username;
    plan.auth_password = p.password.value_or("");
    plan.codecs = s.codecs;
    plan.t38 = s.t38;
    plan.ecm = s.ecm;
    plan.ring_timeout = std::chrono::seconds(s.ring_timeout);
    plan.digit_wait = std::chrono::seconds(s.digit_wait);
    plan.max_duration = std::chrono::seconds(s.max_duration);
    return plan;
}

Outcome::Result info(std::string name, std::string data) { return {"info", std::move(name), std::move(data)}; }

Outcome outcome_of(const sip::CallReport& r, sip::CallPlan::Purpose purpose) {
    using End = sip::CallReport::End;
    switch (r.end) {
        case End::busy: {
            auto o = Outcome::failed("busy");
            o.results.push_back(info("sip_cause", r.cause));
            return o;
        }
        case End::no_answer:
            return Outcome::failed("no_answer");
        case End::declined:
            return Outcome::rejected(r.cause);
        case End::unavailable:
            return Outcome::provider_error(r.cause);
        case End::answered:
            break;
    }
    Outcome o = Outcome::delivered(r.cause);
    o.results.push_back(info("billsec", std::to_string(std::lround(r.answered_seconds))));
    if (!r.codec.empty()) o.results.push_back(info("codec", r.codec));
    // How steadily our RTP went out: a telecom operator's first question about audio quality.
    if (r.rtp_packets > 0) {
        o.results.push_back(info("rtp_packets", std::to_string(r.rtp_packets)));
        o.results.push_back(info("rtp_max_gap_ms", fmt::format("{:.1f}", r.rtp_max_gap_ms)));
        o.results.push_back(info("rtp_mean_gap_ms", fmt::format("{:.3f}", r.rtp_mean_gap_ms)));
    }
    if (purpose == sip::CallPlan::Purpose::voice) {
        if (!r.digits.empty()) o.results.push_back({"dtmf", "dtmf", r.digits});
        return o;
    }
    if (!r.fax) return Outcome::failed("fax: the call ended before the fax began");
    const auto& f = *r.fax;
    o.results.push_back(info("pages", std::to_string(f.pages)));
    o.results.push_back(info("bit_rate", std::to_string(f.bit_rate)));
    o.results.push_back(info("ecm", f.ecm ? "1" : "0"));
    if (!f.remote_id.empty()) o.results.push_back(info("remote_id", f.remote_id));
    o.results.push_back(info("t30", f.text));
    o.results.push_back(info("transport", r.transport));
    if (!f.success) {
        o.kind = Outcome::Kind::failed;
        o.response = fmt::format("fax: {} ({} of {} pages)", f.text, f.pages, f.pages_in_file);
    } else {
        o.response = fmt::format("fax: {} pages sent", f.pages);
    }
    return o;
}

// Runs jobs one after another on a thread of its own.
class Worker {
public:
    Worker() : thread_([this] { run(); }) {}
    ~Worker() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_one();
        thread_.join();
    }
    void post(std::function<void()> job) {
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(job));
        }
        wake_.notify_one();
    }

private:
    void run() {
        std::unique_lock lock(mutex_);
        for (;;) {
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) return;  // stopping, with nothing left
            auto job = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            job();
            lock.lock();
        }
    }
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace

class SipGateway::Impl : public std::enable_shared_from_this<SipGateway::Impl> {
public:
    Impl(std::filesystem::path spool_dir, Inbound* inbound) : spool_dir_(std::move(spool_dir)), inbound_(inbound) {}

    // Ends the agents (and their calls) on the loop thread and waits for it. After this, no
    // work of ours is queued on the loop, so the last owner never lets go of us there.
    void shutdown() {
        auto loop = existing_loop();
        if (!loop) return;
        std::promise<void> done;
        auto ended = done.get_future();
        loop->post([this, &done] {
            agents_.clear();
            inbound_providers_.clear();
            registration_agent_.clear();
            done.set_value();
        });
        ended.wait();
    }

    std::shared_ptr<sip::ReLoop> existing_loop() {
        std::lock_guard lock(loop_mutex_);
        return loop_;
    }

    std::shared_ptr<sip::ReLoop> loop() {
        std::lock_guard lock(loop_mutex_);
        if (!loop_) loop_ = sip::ReLoop::acquire();
        return loop_;
    }

    // ---- loop thread --------------------------------------------------------------------

    sip::UserAgent& agent(const std::string& listen) {
        auto& slot = agents_[listen];
        if (!slot) {
            try {
                std::weak_ptr<Impl> self = weak_from_this();
                sip::UserAgent::InboundRouting routing;
                routing.route = [this, listen](const std::string& called, const std::string& caller) {
                    return route_inbound(listen, called, caller);
                };
                routing.ended = [self](const sip::CallPlan& plan, sip::CallReport report) {
                    if (auto me = self.lock()) me->record_inbound(plan, std::move(report));
                };
                slot = std::make_unique<sip::UserAgent>(loop(), listen, std::move(routing));
            } catch (...) {
                agents_.erase(listen);
                throw;
            }
        }
        return *slot;
    }

    void apply(std::map<std::string, std::vector<Provider>> by_listen) {
        for (auto it = agents_.begin(); it != agents_.end();) {
            if (!by_listen.contains(it->first) && it->second->calls() == 0)
                it = agents_.erase(it);
            else
                ++it;
        }
        inbound_providers_.clear();
        registration_agent_.clear();
        for (auto& [listen, providers] : by_listen) {
            try {
                auto& ua = agent(listen);
                std::map<std::int64_t, sip::Registration> wanted;
                for (const auto& p : providers) {
                    if (!p.register_) continue;
                    const auto s = parse_settings(p);
                    sip::Registration r;
                    r.registrar = fmt::format("sip:{}:{}", host_part(p), p.port.value_or(5060));
                    r.aor = fmt::format("sip:{}@{}", user_part(p.username), host_part(p));
                    r.user = p.username;
                    r.password = p.password.value_or("");
                    r.expires = static_cast<std::uint32_t>(s.register_expires);
                    wanted[p.provider_id] = r;
                }
                ua.set_registrations(wanted);
                for (const auto& [id, r] : wanted) registration_agent_[id] = listen;
                inbound_providers_[listen] = providers.front();  // the lowest id answers
            } catch (const std::exception& e) {
                spdlog::error("sip: providers on {}: {}", listen, e.what());
            }
        }
    }

    std::optional<sip::CallPlan> route_inbound(const std::string& listen, const std::string& called,
                                               const std::string& caller) {
        if (!inbound_) return std::nullopt;
        const auto provider = inbound_providers_.find(listen);
        if (provider == inbound_providers_.end()) return std::nullopt;
        if (!inbound_->fax_account(called)) return std::nullopt;
        const auto s = parse_settings(provider->second);
        auto plan = plan_for(provider->second, s);
        plan.purpose = sip::CallPlan::Purpose::receive_fax;
        plan.from_user = user_part(called);
        plan.station_id = s.station_id.empty() ? called.substr(0, 20) : s.station_id;
        std::error_code ec;
        std::filesystem::create_directories(spool_dir_, ec);
        plan.tiff = spool_dir_ / fmt::format("fax-{}-{}.tif", ::getpid(), ++received_);
        spdlog::info("sip: answering a fax call from {} to {}", caller, called);
        return plan;
    }

    void record_inbound(const sip::CallPlan& plan, sip::CallReport report) {
        if (report.end != sip::CallReport::End::answered) {
            // Refused before the answer (no offer, no common codec): nothing was received.
            spdlog::info("sip: fax call from {} to {} not answered: {}", report.caller, report.called, report.cause);
            return;
        }
        recorder_->post([this, plan, report = std::move(report)] {
            InboundFax fax;
            fax.from = report.caller;
            fax.to = report.called;
            fax.tiff = plan.tiff;
            fax.transport = report.transport;
            if (report.fax) {
                fax.success = report.fax->success;
                fax.pages = report.fax->pages;
                fax.remote_id = report.fax->remote_id;
                fax.bit_rate = report.fax->bit_rate;
                fax.ecm = report.fax->ecm;
                fax.t30_text = report.fax->text;
            } else {
                fax.t30_text = report.cause;
            }
            try {
                inbound_->receive_fax(fax);
            } catch (const std::exception& e) {
                spdlog::error("sip: recording the fax from {} to {} failed: {}", fax.from, fax.to, e.what());
            }
            std::error_code ec;
            std::filesystem::remove(plan.tiff, ec);
        });
    }

    std::filesystem::path spool_dir_;
    Inbound* inbound_;
    std::mutex loop_mutex_;
    std::shared_ptr<sip::ReLoop> loop_;
    // Loop thread only:
    std::map<std::string, std::unique_ptr<sip::UserAgent>> agents_;
    std::map<std::string, Provider> inbound_providers_;
    std::map<std::int64_t, std::string> registration_agent_;
    std::uint64_t received_ = 0;
    std::unique_ptr<Worker> recorder_ = std::make_unique<Worker>();
};

SipGateway::SipGateway(std::filesystem::path spool_dir, Inbound* inbound)
    : impl_(std::make_shared<Impl>(std::move(spool_dir), inbound)) {}

SipGateway::~SipGateway() { impl_->shutdown(); }

std::int64_t SipGateway::gateway_flag() const { return ictcore::gateway_flag::sip; }
std::int64_t SipGateway::services() const { return service::voice | service::fax; }

void SipGateway::check(const Provider& provider) const {
    if (!provider.host || provider.host->empty()) throw Error(Errc::invalid, "a SIP provider needs a host");
    if (provider.port && (*provider.port < 1 || *provider.port > 65535)) {
        throw Error(Errc::invalid, "port must be from 1 to 65535");
    }
    if (provider.dialstring && !provider.dialstring->empty() &&
        (provider.dialstring->find("{number}") == std::string::npos ||
         (provider.dialstring->rfind("sip:", 0) != 0 && provider.dialstring->rfind("sips:", 0) != 0))) {
        throw Error(Errc::invalid, "dialstring must be a sip: URI holding {number}, e.g. sip:{number}@host:5060");
    }
    parse_settings(provider);
}

void SipGateway::providers_changed(const std::vector<Provider>& providers) {
    std::map<std::string, std::vector<Provider>> by_listen;
    for (const auto& p : providers) {
        try {
            by_listen[listen_of(p, parse_settings(p))].push_back(p);
        } catch (const std::exception& e) {
            spdlog::error("sip: provider {} cannot be used: {}", p.provider_id, e.what());
        }
    }
    if (by_listen.empty() && !impl_->existing_loop()) return;  // nothing to set up, nothing to tear down
    impl_->loop()->post(
        [impl = impl_, by_listen = std::move(by_listen)]() mutable { impl->apply(std::move(by_listen)); });
}

void SipGateway::deliver(const Delivery& d, DeliveryCompletion done) {
    const auto s = parse_settings(d.provider);
    auto plan = plan_for(d.provider, s);
    const bool voice = d.transmission.service_flag == service::voice;
    plan.purpose = voice ? sip::CallPlan::Purpose::voice : sip::CallPlan::Purpose::send_fax;
    if (d.media.empty()) {
        done.finish(Outcome::rejected(voice ? "the recording has no audio" : "the document has no fax image"));
        return;
    }
    (voice ? plan.prompt_wav : plan.tiff) = d.media;
    plan.from_user = user_part(!s.caller_id.empty() ? s.caller_id : !d.source.empty() ? d.source : d.provider.username);
    plan.from_name = plan.from_user;
    plan.station_id = s.station_id.empty() ? plan.from_user.substr(0, 20) : s.station_id;
    const std::string number = user_part(d.destination);
    if (number.empty()) {
        done.finish(Outcome::rejected("the contact has no phone number"));
        return;
    }
    plan.request_uri = request_uri(d.provider, number);
    const auto listen = listen_of(d.provider, s);
    const auto purpose = plan.purpose;
    impl_->loop()->post([impl = impl_, listen, plan = std::move(plan), done, purpose]() mutable {
        sip::CallEvents events;
        events.connected = [done] { done.connected(); };
        events.ended = [done, purpose](sip::CallReport report) { done.finish(outcome_of(report, purpose)); };
        try {
            impl->agent(listen).place(std::move(plan), std::move(events));
        } catch (const std::exception& e) {
            done.finish(Outcome::provider_error(e.what()));
        }
    });
}

bool SipGateway::registered(std::int64_t provider_id) const {
    const auto loop = impl_->existing_loop();
    if (!loop) return false;
    auto answer = std::make_shared<std::promise<bool>>();
    auto result = answer->get_future();
    loop->post([impl = impl_, provider_id, answer] {
        const auto at = impl->registration_agent_.find(provider_id);
        const auto agent = at == impl->registration_agent_.end() ? impl->agents_.end() : impl->agents_.find(at->second);
        answer->set_value(agent != impl->agents_.end() && agent->second->registered(provider_id));
    });
    return result.wait_for(std::chrono::seconds(5)) == std::future_status::ready && result.get();
}

}  // namespace ictcore::gateways

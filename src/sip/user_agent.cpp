// UserAgent (see user_agent.hpp): libre's SIP stack with one UDP transport, a session socket for
// INVITEs, a DNS client for providers named by host name, and sipreg clients for REGISTER.
#include "sip/user_agent.hpp"

#include "sip/re_loop.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>
#include <re.h>
#include <spdlog/spdlog.h>

#include <cstring>

namespace ictcore::sip {

struct UserAgent::Stack {
    struct dnsc* dns = nullptr;
    struct sip* sip = nullptr;
    struct sipsess_sock* sessions = nullptr;

    ~Stack() {
        if (sessions) sipsess_close_all(sessions);
        sessions = static_cast<struct sipsess_sock*>(mem_deref(sessions));
        // Transactions still running (a BYE, an un-REGISTER) end with the stack.
        if (sip) sip_close(sip, true);
        sip = static_cast<struct sip*>(mem_deref(sip));
        dns = static_cast<struct dnsc*>(mem_deref(dns));
    }
};

namespace {

std::string text_of(const struct pl& pl) { return std::string(pl.p ? pl.p : "", pl.l); }

int registration_auth(char** user, char** password, const char*, void* arg) {
    const auto* r = static_cast<const Registration*>(arg);
    if (r->password.empty()) return EAUTH;
    int err = str_dup(user, r->user.c_str());
    err |= str_dup(password, r->password.c_str());
    return err;
}

void registration_response(int err, const sip_msg* msg, void* arg) {
    const auto* r = static_cast<const Registration*>(arg);
    if (err) {
        spdlog::warn("sip: REGISTER of {} at {} failed: {}", r->aor, r->registrar, std::strerror(err));
    } else if (msg && msg->scode >= 300) {
        spdlog::warn("sip: REGISTER of {} at {} refused: {} {}", r->aor, r->registrar, msg->scode,
                     text_of(msg->reason));
    } else if (msg) {
        spdlog::debug("sip: {} registered at {}", r->aor, r->registrar);
    }
}

}  // namespace

UserAgent::UserAgent(std::shared_ptr<ReLoop> loop, const std::string& listen, InboundRouting routing)
    : loop_(std::move(loop)), routing_(std::move(routing)), stack_(std::make_unique<Stack>()) {
    struct sa laddr;
    if (sa_decode(&laddr, listen.data(), listen.size()) != 0) {
        throw Error(Errc::invalid, fmt::format("the SIP listen address {} is not IP:PORT", listen));
    }
    auto& s = *stack_;
    // Providers named by host name need DNS; with none configured, only IP literals work.
    struct sa servers[4];
    std::uint32_t count = 4;
    char domain[256] = "";
    if (dns_srv_get(domain, sizeof domain, servers, &count) == 0 && count > 0) {
        if (dnsc_alloc(&s.dns, nullptr, servers, count) != 0) s.dns = nullptr;
    }
    int err = sip_alloc(&s.sip, s.dns, 32, 32, 32, "ictcore", nullptr, nullptr);
    if (!err) err = sip_transp_add(s.sip, SIP_TRANSP_UDP, &laddr);
    struct sa bound;
    if (!err) err = sip_transp_laddr(s.sip, &bound, SIP_TRANSP_UDP, nullptr);
    if (!err)
        err = sipsess_listen(
            &s.sessions, s.sip, 32, [](const sip_msg* msg, void* arg) { static_cast<UserAgent*>(arg)->on_invite(msg); },
            this);
    if (err) {
        throw Error(Errc::invalid, fmt::format("cannot listen for SIP on {}: {}", listen, std::strerror(err)));
    }
    char ip[64] = "";
    sa_ntop(&bound, ip, sizeof ip);
    endpoint_.stack = s.sip;
    endpoint_.sessions = s.sessions;
    endpoint_.local_ip = ip;
    endpoint_.contact_host = fmt::format("{}:{}", ip, sa_port(&bound));
    endpoint_.release = [this, alive = std::weak_ptr<bool>(alive_)](const Call* call) {
        // The call is inside one of its own handlers: drop it once that has returned.
        loop_->post([this, alive, call] {
            if (alive.lock()) calls_.erase(call);
        });
    };
    spdlog::info("sip: listening on udp {}", endpoint_.contact_host);
}

UserAgent::~UserAgent() {
    alive_.reset();
    auto calls = std::move(calls_);
    for (auto& [key, call] : calls) call->hang_up("the SIP gateway stopped");
    calls.clear();
    for (auto& [key, entry] : registrations_) mem_deref(entry.second);
    registrations_.clear();
    stack_.reset();
}

void UserAgent::place(CallPlan plan, CallEvents events) {
    auto call = Call::place(endpoint_, std::move(plan), std::move(events));
    const Call* key = call.get();
    calls_.emplace(key, std::move(call));
}

void UserAgent::on_invite(const sip_msg* msg) {
    const std::string called = text_of(msg->uri.user);
    const std::string caller = text_of(msg->from.uri.user);
    std::optional<CallPlan> plan;
    try {
        if (routing_.route) plan = routing_.route(called, caller);
    } catch (const std::exception& e) {
        spdlog::error("sip: routing the call to {} failed: {}", called, e.what());
        sip_treply(nullptr, endpoint_.stack, msg, 500, "Server Internal Error");
        return;
    }
    if (!plan) {
        spdlog::info("sip: call from {} to {} refused: no account takes it", caller, called);
        sip_treply(nullptr, endpoint_.stack, msg, 404, "Not Found");
        return;
    }
    CallEvents events;
    events.ended = [ended = routing_.ended, plan = *plan](CallReport report) {
        if (ended) ended(plan, std::move(report));
    };
    auto call = Call::answer(endpoint_, msg, *plan, std::move(events));
    const Call* key = call.get();
    calls_.emplace(key, std::move(call));
}

void UserAgent::set_registrations(const std::map<std::int64_t, Registration>& wanted) {
    for (auto it = registrations_.begin(); it != registrations_.end();) {
        const auto w = wanted.find(it->first);
        if (w == wanted.end() || !(w->second == it->second.first)) {
            mem_deref(it->second.second);  // un-REGISTERs
            it = registrations_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [key, r] : wanted) {
        if (registrations_.contains(key)) continue;
        auto& entry = registrations_[key];
        entry.first = r;
        const Registration* held = &entry.first;  // map nodes do not move
        const int err = sipreg_register(&entry.second, stack_->sip, r.registrar.c_str(), r.aor.c_str(), nullptr,
                                        r.aor.c_str(), r.expires, r.user.c_str(), nullptr, 0, 0, registration_auth,
                                        const_cast<Registration*>(held), false, registration_response,
                                        const_cast<Registration*>(held), nullptr, nullptr);
        if (err) {
            spdlog::warn("sip: cannot REGISTER {} at {}: {}", r.aor, r.registrar, std::strerror(err));
            registrations_.erase(key);
        }
    }
}

bool UserAgent::registered(std::int64_t key) const {
    const auto it = registrations_.find(key);
    return it != registrations_.end() && sipreg_registered(it->second.second);
}

}  // namespace ictcore::sip

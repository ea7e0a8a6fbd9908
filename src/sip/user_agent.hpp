// UserAgent: a SIP stack bound to one local UDP address, on the ReLoop thread. It places calls,
// answers the INVITEs its router accepts (404 for the others), and keeps REGISTER bindings with
// providers refreshed. Several providers that name the same local address share one agent.
#pragma once

#include "sip/call.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

struct sipreg;

namespace ictcore::sip {

class ReLoop;

struct Registration {
    std::string registrar;  // sip:host:port
    std::string aor;        // sip:user@host
    std::string user;
    std::string password;
    std::uint32_t expires = 3600;
    bool operator==(const Registration&) const = default;
};

class UserAgent {
public:
    struct InboundRouting {
        // The plan to answer a call to `called` from `caller` with, or nullopt for 404.
        std::function<std::optional<CallPlan>(const std::string& called, const std::string& caller)> route;
        // An answered inbound call ended.
        std::function<void(const CallPlan& plan, CallReport report)> ended;
    };

    // Binds "IP:PORT" (port 0: any). Throws Error(invalid) when the address is unusable. Loop
    // thread only, like every member.
    UserAgent(std::shared_ptr<ReLoop> loop, const std::string& listen, InboundRouting routing);
    ~UserAgent();  // ends its calls (reported unavailable/answered) and unregisters
    UserAgent(const UserAgent&) = delete;
    UserAgent& operator=(const UserAgent&) = delete;

    void place(CallPlan plan, CallEvents events);
    // Keeps exactly these registrations (by key), starting new ones and removing the rest.
    void set_registrations(const std::map<std::int64_t, Registration>& wanted);
    bool registered(std::int64_t key) const;

    const std::string& address() const { return endpoint_.contact_host; }
    std::size_t calls() const { return calls_.size(); }

    struct Stack;

private:
    void on_invite(const sip_msg* msg);

    std::shared_ptr<ReLoop> loop_;
    InboundRouting routing_;
    std::unique_ptr<Stack> stack_;
    SipEndpoint endpoint_;
    std::map<const Call*, std::unique_ptr<Call>> calls_;
    std::map<std::int64_t, std::pair<Registration, struct sipreg*>> registrations_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ictcore::sip

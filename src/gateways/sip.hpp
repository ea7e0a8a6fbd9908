// SipGateway: voice and fax over SIP, with the SIP user agent and RTP inside the library (libre
// for SIP, SDP, RTP and RFC 4733 events; spandsp for fax and in-band DTMF), so no PBX is needed.
// Providers of type "sip" give `host` and `port` (default 5060) of the provider or PBX,
// `username`/`password` for digest authentication, `prefix` (put before the number by the
// engine), `register` (keep a REGISTER binding refreshed), `dialstring` (the Request-URI, with
// `{number}`, `{host}` and `{port}` replaced; default "sip:{number}@{host}:{port}") and
// `settings` (a JSON object, all optional):
//   listen            local "IP:PORT" for SIP over UDP (default: the address that routes to the
//                     provider, port 5060; port 0 picks a free one). Inbound calls arrive here.
//   caller_id         our number in From (default: the account's phone, else the username)
//   codecs            ["PCMU", "PCMA"] in order of preference (default both, PCMU first)
//   ring_timeout      seconds before an unanswered call is cancelled: no_answer (1-600; 30)
//   digit_wait        seconds to wait for DTMF after a voice prompt ends (0-60; 0)
//   t38               true: a fax call asks for T.38 (sending) or accepts it (receiving)
//   ecm               fax error correction (default true)
//   station_id        our fax station identifier (default the caller id; at most 20 characters)
//   register_expires  seconds a REGISTER binding lasts (60-86400; 3600)
//   max_duration      seconds after which an answered call is hung up (10-86400; 3600)
// Outcomes: answered → completed (voice: results dtmf, billsec, codec; fax: completed only when
// every page was confirmed, with pages, bit rate, ECM, remote id and the T.30 text); 486/600 →
// failed "busy" and ring timeout → failed "no_answer", both retried within try_allowed; another
// 4xx/6xx → failed with the SIP cause, not retried; 5xx, refused credentials or no response →
// provider error, so the next provider is tried.
// Inbound INVITEs to a number that is an account's phone with a receivefax or faxtoemail
// program are answered and the fax received (Inbound::receive_fax); others get 404.
#pragma once

#include <ictcore/gateway.hpp>

#include <filesystem>
#include <memory>

namespace ictcore {
class Inbound;
}

namespace ictcore::gateways {

class SipGateway : public Gateway {
public:
    // Received faxes are written under `spool_dir` and handed to `inbound` (which may be null:
    // then inbound calls are refused).
    SipGateway(std::filesystem::path spool_dir, Inbound* inbound);
    ~SipGateway() override;

    std::string_view type() const override { return "sip"; }
    std::int64_t gateway_flag() const override;
    std::int64_t services() const override;
    void check(const Provider& provider) const override;
    void providers_changed(const std::vector<Provider>& providers) override;
    void deliver(const Delivery& delivery, DeliveryCompletion done) override;

    // Whether the provider's REGISTER binding is in place (for tests and status pages).
    bool registered(std::int64_t provider_id) const;

    class Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace ictcore::gateways

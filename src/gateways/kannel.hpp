// KannelGateway: SMS through Kannel's smsbox `sendsms` HTTP interface, with delivery reports.
// Providers of type "kannel" give `host` and `port` of the smsbox sendsms listener, `username`
// and `password` of a Kannel sendsms-user, and `settings` (a JSON object, all optional):
//   smsc            the smsc-id to route through (needed when Kannel's SMSCs set allowed-smsc-id)
//   sender          the sender id; else the account's phone; else Kannel's default
//   connections     HTTP connections kept open to smsbox (1 to 64; default 8)
//   timeout_ms      for one request, waiting for a connection included (1000 to 600000; default 30000)
//   report_timeout  seconds to wait for the delivery report (60 to 604800; default 172800)
// Non-GSM text goes as UCS-2 (coding 2, charset UTF-8). When the host publishes a report URL,
// each message asks Kannel for all delivery reports (dlr-mask 31) at that URL: smsbox's 202
// leaves the attempt `connected`; the report ends it — 1 delivered → completed, 2 failed →
// failed (retried within try_allowed), 16 rejected by the SMSC → failed without retry, both
// with the SMSC's reason; 4 buffered and 8 accepted by the SMSC change nothing. Without a
// report URL, smsbox's 202 completes the attempt. sendsms refusing the credentials or the
// route, or no connection, is a provider error; another 4xx (the message or number) fails it
// without retry; a 5xx fails it for a retry. Requests are asynchronous on one libcurl multi
// handle on the gateway's own thread, their connections kept alive between messages.
#pragma once

#include <ictcore/gateway.hpp>

#include <memory>

namespace ictcore::gateways {

class KannelGateway : public Gateway {
public:
    KannelGateway();
    ~KannelGateway() override;

    std::string_view type() const override { return "kannel"; }
    std::int64_t gateway_flag() const override;
    std::int64_t services() const override;
    void check(const Provider& provider) const override;
    // smsbox may have queued a message whose 202 was lost: sending it again could send it twice.
    bool redelivery_safe(const Provider&) const override { return false; }
    void deliver(const Delivery& delivery, DeliveryCompletion done) override;
    std::chrono::seconds report_timeout(const Provider& provider) const override;
    // Kannel's dlr-url parameters: `type` (%d) and `reason` (%A).
    std::optional<Outcome> parse_report(const std::map<std::string, std::string>& parameters) const override;

    class Worker;

private:
    std::unique_ptr<Worker> worker_;
};

}  // namespace ictcore::gateways

// SmtpGateway: e-mail through an SMTP server, with libcurl's SMTP client and MIME builder.
// Providers of type "smtp" give `host`, `port` (default 25; 465 with tls "tls"), `username`
// and `password` (AUTH when a password is set) and `settings` (a JSON object, all optional):
//   tls         "none", "try" (STARTTLS when offered; default), "starttls" (required) or
//               "tls" (implicit TLS, smtps)
//   from        the sender address; else the account's e-mail address; else refused
//   timeout_ms  for one message, connection included (1000 to 600000; default 60000)
// A message is multipart/mixed: multipart/alternative (body_alt as text/plain, body as
// text/html), then the template's attachment. Outcomes: 2xx delivered; 4xx failed (retried
// within try_allowed); 5xx rejected (not retried); no connection, a TLS failure or refused
// credentials are provider errors (the engine tries the next provider). Deliveries run on the
// gateway's own thread, one after another, each server's connection kept open between them.
#pragma once

#include <ictcore/gateway.hpp>

#include <memory>

namespace ictcore::gateways {

class SmtpGateway : public Gateway {
public:
    SmtpGateway();
    ~SmtpGateway() override;

    std::string_view type() const override { return "smtp"; }
    std::int64_t gateway_flag() const override;
    std::int64_t services() const override;
    void attach(boost::asio::io_context&) override {}
    void check(const Provider& provider) const override;
    // A message handed to the server may be delivered even when the reply was lost.
    bool redelivery_safe(const Provider&) const override { return false; }
    void deliver(const Delivery& delivery, DeliveryCompletion done) override;

    class Worker;

private:
    std::unique_ptr<Worker> worker_;
};

}  // namespace ictcore::gateways

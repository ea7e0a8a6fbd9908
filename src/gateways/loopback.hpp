// LoopbackGateway: simulated delivery, always built. Providers of type "loopback" configure
// it with `settings` (a JSON object, all keys optional):
//   latency_ms      wait before the outcome (0 to 600000; default 0)
//   fail            {"<destination>": "<response>", …}: those destinations fail with that response
//   provider_error  a text: every delivery reports a provider error (to exercise failover)
//   results         [{"type": "dtmf", "name": "age", "data": "22"}, …] attached to each delivery
//   ledger          a file path: each delivery is appended as one JSON line, once per spool
//                   (a spool delivered again, e.g. after a crash, is not recorded twice); the
//                   file survives a crash of the process (it is not fsynced per line)
// Voice and fax deliveries report the call as connected before they complete.
#pragma once

#include <ictcore/gateway.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace ictcore::gateways {

class LoopbackGateway : public Gateway {
public:
    LoopbackGateway();
    ~LoopbackGateway() override;

    std::string_view type() const override { return "loopback"; }
    std::int64_t gateway_flag() const override;
    std::int64_t services() const override;
    void attach(boost::asio::io_context& io) override;
    void check(const Provider& provider) const override;
    bool redelivery_safe(const Provider&) const override { return true; }
    void deliver(const Delivery& delivery, DeliveryCompletion done) override;

    struct Settings;
    class Ledger;

private:
    std::shared_ptr<const Settings> settings_of(const Provider& provider);
    std::shared_ptr<Ledger> ledger_at(const std::string& path);

    boost::asio::io_context* io_ = nullptr;
    std::mutex mutex_;
    std::map<std::int64_t, std::pair<std::string, std::shared_ptr<const Settings>>> settings_;
    std::map<std::string, std::shared_ptr<Ledger>> ledgers_;
};

}  // namespace ictcore::gateways

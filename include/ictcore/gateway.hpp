// Gateway: the plug-in interface through which ictcore delivers. A gateway serves one
// provider `type` ("loopback", "smtp", …); register it with Core::register_gateway() before
// any provider of that type is used. The engine hands it one Delivery at a time and the
// gateway reports the outcome through the DeliveryCompletion, from any thread, exactly once.
//
// deliver() must return promptly: a gateway that waits for a network or a timer does so
// asynchronously (on the io_context it receives in attach(), or its own machinery) and calls
// finish() later. No thread is held per delivery in flight.
#pragma once

#include <ictcore/account.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/error.hpp>
#include <ictcore/message.hpp>
#include <ictcore/program.hpp>
#include <ictcore/provider.hpp>
#include <ictcore/transmission.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore {

// Everything a gateway needs to make one attempt.
struct Delivery {
    std::int64_t spool_id = 0;  // unique per attempt: use it as an idempotency key
    Transmission transmission;
    Contact contact;
    Program program;
    Provider provider;
    std::optional<Account> account;  // the identity to send as, when it still exists
    // The address to deliver to: for voice, fax and SMS the contact's phone with the
    // provider's prefix; for e-mail the contact's e-mail address.
    std::string destination;
    // The caller id / sender: the account's phone (or e-mail address for e-mail), if any.
    std::string source;
    // The message, by service: sms → text; email → email (rendered for this contact) and
    // email_template; fax → document; voice → recording.
    std::optional<Text> text;
    std::optional<Template> email_template;
    std::optional<RenderedEmail> email;
    std::optional<Document> document;
    std::optional<Recording> recording;
    // The media to send: the fax TIFF, the telephony WAV, or the template's attachment. Empty
    // when there is none.
    std::filesystem::path media;
    // Where the far end can report this attempt's final outcome later (see Outcome::accepted
    // and Gateway::parse_report): the host's public URL + "/gateways/{type}/report?spool=ID&
    // token=T", the token authenticating reports about this spool only. The gateway appends
    // its own query parameters. Empty when the host publishes no URL (Core::set_public_url).
    std::string report_url;
};

// What came of an attempt.
struct Outcome {
    enum class Kind {
        delivered,       // the far end took it: the spool completes
        failed,          // it did not get through this time (busy, no answer, a 4xx): the spool
                         // fails and the transmission is retried while it has tries left
        rejected,        // it never will (unknown mailbox, a 5xx, a barred number): the spool
                         // fails and the transmission fails without further tries
        provider_error,  // the provider could not be used (connection refused, 5xx): the engine
                         // tries the next provider of the service within the same attempt
        accepted,        // the provider took it and reports its fate later (an SMSC's delivery
                         // report): the spool stays `connected` and the transmission
                         // `processing` until the report (Gateway::parse_report) or the
                         // gateway's report_timeout()
    };
    Kind kind = Kind::delivered;
    std::string response;  // e.g. "250 OK", "busy", "connection refused"
    struct Result {
        std::string type;  // dtmf, info, …
        std::string name;  // age, pages, …
        std::string data;
    };
    std::vector<Result> results;

    static Outcome delivered(std::string response = {}) { return {Kind::delivered, std::move(response), {}}; }
    static Outcome failed(std::string response) { return {Kind::failed, std::move(response), {}}; }
    static Outcome rejected(std::string response) { return {Kind::rejected, std::move(response), {}}; }
    static Outcome provider_error(std::string response) { return {Kind::provider_error, std::move(response), {}}; }
    static Outcome accepted(std::string response) { return {Kind::accepted, std::move(response), {}}; }
};

// The one-shot report channel of a delivery. Copies share one state: the first finish()
// counts, later ones are ignored and logged. If every copy is destroyed without a finish(),
// the attempt fails with "the gateway dropped the delivery", so a lost callback never leaves
// a transmission stuck in `processing`.
class DeliveryCompletion {
public:
    struct State;
    explicit DeliveryCompletion(std::shared_ptr<State> state);

    // The far end answered (a call was picked up): sets the spool's `time_connect` and status.
    void connected() const;
    void finish(Outcome outcome) const;
    bool finished() const;

private:
    std::shared_ptr<State> state_;
};

class Gateway {
public:
    virtual ~Gateway() = default;

    // The provider `type` this gateway serves, e.g. "loopback".
    virtual std::string_view type() const = 0;
    // The `gateway_flag` providers of this type carry.
    virtual std::int64_t gateway_flag() const = 0;
    // The service bits this gateway can deliver (service::sms | …).
    virtual std::int64_t services() const = 0;

    // Called once when registered, with the engine's io_context for timers and sockets.
    virtual void attach(boost::asio::io_context& io) { (void)io; }
    // The active providers of this type, on the engine's thread: once at start and after every
    // provider change. Gateways with standing state per provider (a listening socket, a SIP
    // registration) set it up and tear it down here; deliver() must not wait for it.
    virtual void providers_changed(const std::vector<Provider>& providers) { (void)providers; }
    // Throws Error(invalid) when a provider's fields or settings cannot work with this
    // gateway; called before a provider of this type is stored.
    virtual void check(const Provider& provider) const { (void)provider; }
    // True when delivering the same spool_id twice reaches the far end at most once (the
    // gateway or the far end deduplicates). After a crash, an attempt whose outcome was not
    // recorded is then delivered again; otherwise it is failed rather than risk a duplicate.
    virtual bool redelivery_safe(const Provider& provider) const {
        (void)provider;
        return false;
    }

    // Starts one attempt. Must not block; must call done.finish() exactly once, from any
    // thread, or throw (which counts as a provider error).
    virtual void deliver(const Delivery& delivery, DeliveryCompletion done) = 0;

    // For gateways whose deliveries end Outcome::accepted: how long to wait for the report
    // before the attempt fails as unreported (it is not retried: the message may have
    // arrived). The wait survives restarts.
    virtual std::chrono::seconds report_timeout(const Provider& provider) const {
        (void)provider;
        return std::chrono::hours(48);
    }
    // Reads a report the far end sent to Delivery::report_url (its query parameters, spool
    // and token already checked and removed): the final outcome, or nullopt for an
    // intermediate one (buffered, accepted by the next hop) that changes nothing. Throws
    // Error(invalid) when the report cannot be read.
    virtual std::optional<Outcome> parse_report(const std::map<std::string, std::string>& parameters) const {
        (void)parameters;
        throw Error(Errc::not_found, "this gateway takes no delivery reports");
    }
};

}  // namespace ictcore

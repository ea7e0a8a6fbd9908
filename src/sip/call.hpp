// Call: one SIP call of the gateway, placed or answered, with its media: a voice prompt sent as
// G.711 RTP on an absolute 20 ms schedule while DTMF is collected (RFC 4733 events, or in-band
// tones when the far end sends none), or a fax sent or received by a FaxSession over G.711 or,
// after a re-INVITE, over T.38 (UDPTL). Calls live on the ReLoop thread and are owned by their
// UserAgent; everything they report leaves through CallEvents as plain values.
#pragma once

#include "fax/fax_session.hpp"
#include "sip/prompt.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sip;
struct sip_msg;
struct sipsess_sock;

namespace ictcore::sip {

class UserAgent;

struct CallPlan {
    enum class Purpose { voice, send_fax, receive_fax };
    Purpose purpose = Purpose::voice;
    std::string request_uri;  // placed calls: whom to call
    std::string from_user;    // our caller id (the From user part)
    std::string from_name;    // display name
    std::string auth_user;    // digest credentials, when the far end challenges
    std::string auth_password;
    std::vector<G711> codecs{G711::pcmu, G711::pcma};  // offered in this order
    bool t38 = false;                                  // ask for (send) or accept (receive) T.38
    bool ecm = true;
    std::string station_id;
    std::chrono::milliseconds ring_timeout{30000};
    std::chrono::milliseconds digit_wait{0};  // after the prompt
    std::chrono::milliseconds max_duration{3600000};
    std::filesystem::path prompt_wav;  // voice
    std::filesystem::path tiff;        // fax: sent from or received into
};

struct CallReport {
    enum class End {
        answered,     // the call was answered (for a fax: see `fax` for how it went)
        busy,         // 486, 600
        no_answer,    // ring timeout: cancelled
        declined,     // another final 4xx/6xx: the number or call is refused
        unavailable,  // 5xx, refused credentials, no response, a local failure
    };
    End end = End::unavailable;
    std::string cause;            // "486 Busy Here", "no response (Connection timed out)", …
    double answered_seconds = 0;  // from answer to hang-up
    std::string digits;           // DTMF received
    std::string codec;            // PCMU or PCMA
    std::optional<fax::FaxOutcome> fax;
    std::string transport;  // fax: audio or t38
    std::string caller;     // answered calls: the From user
    std::string called;     // answered calls: the Request-URI user
    // RTP send pacing of the call, for the benchmark and the tests.
    std::uint64_t rtp_packets = 0;
    double rtp_max_gap_ms = 0;
    double rtp_mean_gap_ms = 0;
};

struct CallEvents {
    std::function<void()> connected;        // answered (placed calls)
    std::function<void(CallReport)> ended;  // exactly once
};

// What a call needs of its user agent: the SIP stack and listening socket, the local address
// (RTP binds to its IP), and a way to have the agent drop the call once it has ended.
struct SipEndpoint {
    struct sip* stack = nullptr;
    struct sipsess_sock* sessions = nullptr;
    std::string local_ip;
    std::string contact_host;                        // "IP:PORT" of the SIP socket, for our From URI
    std::function<void(const class Call*)> release;  // after `ended`; deferred by the caller
};

class Call {
public:
    virtual ~Call() = default;

    // Places a call. Its outcome comes through events.ended, never from here.
    static std::unique_ptr<Call> place(const SipEndpoint& endpoint, CallPlan plan, CallEvents events);
    // Answers an INVITE (which must carry an SDP offer; otherwise it is refused with 488).
    static std::unique_ptr<Call> answer(const SipEndpoint& endpoint, const sip_msg* invite, CallPlan plan,
                                        CallEvents events);

    // Ends the call now (BYE, or CANCEL while ringing); unanswered, it ends `unavailable`.
    virtual void hang_up(const std::string& cause) = 0;
};

}  // namespace ictcore::sip

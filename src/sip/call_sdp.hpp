// CallSdp: the SDP side of one call — our description (G.711 codecs, telephone-event, a T.38
// image stream when the call may fax over UDPTL) and what is taken from the far end's. Kept apart
// from Call so the handling of untrusted SDP bodies can be fuzzed without a SIP stack.
#pragma once

#include "sip/prompt.hpp"

#include <re.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace ictcore::sip {

// RTP payload type and SDP encoding name of a G.711 law (RFC 3551 static types).
inline int payload_type(G711 codec) { return codec == G711::pcmu ? 0 : 8; }
inline const char* codec_name(G711 codec) { return codec == G711::pcmu ? "PCMU" : "PCMA"; }

class CallSdp {
public:
    CallSdp() = default;
    ~CallSdp();
    CallSdp(const CallSdp&) = delete;
    CallSdp& operator=(const CallSdp&) = delete;

    // Our audio stream on `ip`:`rtp_port`, offering `codecs` in order, plus telephone-event when
    // DTMF is wanted. Returns libre's error code (0 on success).
    int open(const struct sa& ip, std::uint16_t rtp_port, const std::vector<G711>& codecs, bool telephone_event);
    // The T.38 image stream on UDPTL port `port`, added disabled: libre leaves it out of offers
    // and answers until enable_t38(), and matches a far end's m=image line against it.
    int add_image(std::uint16_t port);
    bool has_image() const { return image_ != nullptr; }

    // Offers T.38 in place of audio (RFC 3264: the audio stream goes to port 0).
    void offer_t38();
    void enable_image() { sdp_media_set_disabled(image_, false); }

    int decode(struct mbuf* body, bool offer) { return sdp_decode(session_, body, offer); }
    int encode(struct mbuf** body, bool offer) { return sdp_encode(body, session_, offer); }

    struct RemoteAudio {
        G711 codec;
        struct sa address;
        int telephone_event_pt;  // -1 when the far end offers no telephone-event
    };
    // The far end's audio: the first of `codecs` it accepted, at a usable address.
    std::optional<RemoteAudio> remote_audio(const std::vector<G711>& codecs) const;
    // The far end's UDPTL address when it accepted (or offered) the image stream.
    std::optional<struct sa> remote_image() const;

private:
    struct sdp_session* session_ = nullptr;
    struct sdp_media* audio_ = nullptr;  // owned by session_
    struct sdp_media* image_ = nullptr;  // owned by session_
};

}  // namespace ictcore::sip

// CallSdp (see call_sdp.hpp): libre's SDP session with our audio and image streams.
#include "sip/call_sdp.hpp"

#include <string>

namespace ictcore::sip {

namespace {

constexpr int frame_ms = 20;
constexpr const char* telephone_event_pt = "101";

}  // namespace

CallSdp::~CallSdp() { mem_deref(session_); }

int CallSdp::open(const struct sa& ip, std::uint16_t rtp_port, const std::vector<G711>& codecs, bool telephone_event) {
    if (int err = sdp_session_alloc(&session_, &ip)) return err;
    if (int err = sdp_media_add(&audio_, session_, sdp_media_audio, rtp_port, sdp_proto_rtpavp)) return err;
    for (const auto codec : codecs) {
        const auto pt = std::to_string(payload_type(codec));
        if (int err = sdp_format_add(nullptr, audio_, false, pt.c_str(), codec_name(codec), 8000, 1, nullptr, nullptr,
                                     nullptr, false, nullptr))
            return err;
    }
    if (telephone_event) {
        if (int err = sdp_format_add(nullptr, audio_, false, telephone_event_pt, telev_rtpfmt, 8000, 1, nullptr,
                                     nullptr, nullptr, false, "0-15"))
            return err;
    }
    return sdp_media_set_lattr(audio_, true, sdp_attr_ptime, "%d", frame_ms);
}

int CallSdp::add_image(std::uint16_t port) {
    if (int err = sdp_media_add(&image_, session_, "image", port, "udptl")) return err;
    if (int err =
            sdp_format_add(nullptr, image_, false, "t38", nullptr, 0, 0, nullptr, nullptr, nullptr, false, nullptr))
        return err;
    sdp_media_set_lattr(image_, true, "T38FaxVersion", "0");
    sdp_media_set_lattr(image_, true, "T38MaxBitRate", "14400");
    sdp_media_set_lattr(image_, true, "T38FaxRateManagement", "transferredTCF");
    sdp_media_set_lattr(image_, true, "T38FaxMaxBuffer", "2000");
    sdp_media_set_lattr(image_, true, "T38FaxMaxDatagram", "400");
    sdp_media_set_lattr(image_, true, "T38FaxUdpEC", "t38UDPRedundancy");
    sdp_media_set_disabled(image_, true);
    return 0;
}

void CallSdp::offer_t38() {
    sdp_media_set_disabled(image_, false);
    sdp_media_set_disabled(audio_, true);
}

std::optional<CallSdp::RemoteAudio> CallSdp::remote_audio(const std::vector<G711>& codecs) const {
    if (!audio_) return std::nullopt;
    for (const auto codec : codecs) {
        if (!sdp_media_rformat(audio_, codec_name(codec))) continue;
        RemoteAudio remote{codec, *sdp_media_raddr(audio_), -1};
        // An RTP payload type has 7 bits: a telephone-event mapped to anything else could never
        // match a packet, so the digits are detected in-band instead (found by fuzz_sdp).
        const auto* te = sdp_media_rformat(audio_, telev_rtpfmt);
        if (te && te->pt >= 0 && te->pt <= 127) remote.telephone_event_pt = te->pt;
        if (sa_port(&remote.address) == 0) return std::nullopt;
        return remote;
    }
    return std::nullopt;
}

std::optional<struct sa> CallSdp::remote_image() const {
    if (!image_ || sdp_media_rport(image_) == 0) return std::nullopt;
    return *sdp_media_raddr(image_);
}

}  // namespace ictcore::sip

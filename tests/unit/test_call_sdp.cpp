// CallSdp: what ictcore takes from a far end's SDP — the codec, the RTP address, the
// telephone-event type and a T.38 image address — decoded by libre from real SDP text.
#include "sip/call_sdp.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using ictcore::sip::CallSdp;
using ictcore::sip::G711;

const std::vector<G711> both{G711::pcmu, G711::pcma};

// Opens our side (audio on 127.0.0.1:10000, telephone-event, a disabled T.38 stream) and
// decodes `sdp` as the far end's offer; returns libre's error code.
int decode_offer(CallSdp& sdp, const std::string& text) {
    struct sa ip;
    sa_set_str(&ip, "127.0.0.1", 0);
    REQUIRE(sdp.open(ip, 10000, both, true) == 0);
    REQUIRE(sdp.add_image(10002) == 0);
    struct mbuf* body = mbuf_alloc(text.size());
    mbuf_write_str(body, text.c_str());
    body->pos = 0;
    const int err = sdp.decode(body, true);
    mem_deref(body);
    return err;
}

std::string offer(const std::string& media) {
    return "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.9\r\nt=0 0\r\n" + media;
}

}  // namespace

TEST_CASE("CallSdp: the far end's first accepted codec, its address and telephone-event type") {
    CallSdp sdp;
    REQUIRE(decode_offer(sdp, offer("m=audio 40000 RTP/AVP 8 0 96\r\na=rtpmap:8 PCMA/8000\r\n"
                                    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n")) == 0);
    const auto remote = sdp.remote_audio(both);
    REQUIRE(remote.has_value());
    CHECK(remote->codec == G711::pcmu);  // ours come first: PCMU is offered by both
    CHECK(sa_port(&remote->address) == 40000);
    CHECK(remote->telephone_event_pt == 96);
    CHECK_FALSE(sdp.remote_image().has_value());
    CHECK(sdp.remote_audio({G711::pcma})->codec == G711::pcma);
}

TEST_CASE("CallSdp: no common codec, port 0, a payload type no RTP packet can carry, T.38") {
    SUBCASE("only G.729") {
        CallSdp sdp;
        REQUIRE(decode_offer(sdp, offer("m=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n")) == 0);
        CHECK_FALSE(sdp.remote_audio(both).has_value());
    }
    SUBCASE("audio declined with port 0") {
        CallSdp sdp;
        REQUIRE(decode_offer(sdp, offer("m=audio 0 RTP/AVP 0\r\n")) == 0);
        CHECK_FALSE(sdp.remote_audio(both).has_value());
    }
    SUBCASE("telephone-event on payload type 202 (found by fuzz_sdp): DTMF falls back to in-band") {
        CallSdp sdp;
        REQUIRE(decode_offer(sdp, offer("m=audio 40 RTP/AVP 0 202\r\na=rtpmap:0 PCMU/8000\r\n"
                                        "a=rtpmap:202 telephone-event/8000\r\n")) == 0);
        const auto remote = sdp.remote_audio(both);
        REQUIRE(remote.has_value());
        CHECK(remote->telephone_event_pt == -1);
    }
    SUBCASE("a T.38 re-INVITE: the image stream's own address") {
        CallSdp sdp;
        REQUIRE(decode_offer(sdp, offer("m=audio 0 RTP/AVP 0\r\nm=image 40002 udptl t38\r\n"
                                        "c=IN IP4 127.0.0.3\r\na=T38FaxVersion:0\r\n")) == 0);
        const auto image = sdp.remote_image();
        REQUIRE(image.has_value());
        CHECK(sa_port(&*image) == 40002);
        char text[64] = {};
        sa_ntop(&*image, text, sizeof text);
        CHECK(std::string(text) == "127.0.0.3");
    }
}

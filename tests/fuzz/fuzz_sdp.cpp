// Fuzz target: the SDP handling of a SIP call (CallSdp over libre's SDP codec). The input is a far
// end's SDP body, read as an offer (an INVITE or re-INVITE) or as an answer (first byte's low
// bit), against the description a fax call with T.38 makes. Checks that what ictcore takes from
// it is one of the codecs it offered at a usable address, and that an answer can always be
// written back.
#include "sip/call_sdp.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using ictcore::fuzz::check;
using ictcore::sip::G711;

const std::vector<G711> codecs{G711::pcmu, G711::pcma};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const bool offer = (data[0] & 1) != 0;
    struct sa ip;
    sa_set_str(&ip, "127.0.0.1", 0);
    ictcore::sip::CallSdp sdp;
    check(sdp.open(ip, 10000, codecs, true) == 0, "our SDP session cannot be made");
    check(sdp.add_image(10002) == 0, "our image stream cannot be added");
    if (!offer) sdp.offer_t38();  // an answer may be to our T.38 re-INVITE

    struct mbuf* body = mbuf_alloc(size);
    check(body != nullptr, "out of memory");
    mbuf_write_mem(body, data + 1, size - 1);
    body->pos = 0;
    const int err = sdp.decode(body, offer);
    mem_deref(body);
    if (err) return 0;

    if (const auto remote = sdp.remote_audio(codecs)) {
        check(remote->codec == G711::pcmu || remote->codec == G711::pcma, "a codec we did not offer");
        check(sa_port(&remote->address) != 0, "a remote audio port 0 was taken");
        check(remote->telephone_event_pt >= -1 && remote->telephone_event_pt <= 127, "a payload type out of range");
    }
    if (const auto image = sdp.remote_image()) check(sa_port(&*image) != 0, "a remote UDPTL port 0 was taken");
    if (offer) {
        if (sdp.remote_image()) sdp.enable_image();
        struct mbuf* answer = nullptr;
        check(sdp.encode(&answer, false) == 0, "no answer could be written to a decoded offer");
        mem_deref(answer);
    }
    return 0;
}

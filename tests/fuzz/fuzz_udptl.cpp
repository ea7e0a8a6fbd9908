// Fuzz target: the UDPTL (T.38) decoder. The input is a run of datagrams (each a length byte
// and that many bytes) fed to one decoder, whose results are checked against a model of the
// sequence window; the same chunks, taken as IFP packets, go through the encoder and a lossy
// link to a second decoder, which must give back exactly what was sent.
#include "fax/udptl.hpp"

#include <ictcore/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using ictcore::fuzz::check;
namespace fax = ictcore::fax;

constexpr int resync_distance = 1000;  // udptl.cpp: farther behind than this restarts the count

std::vector<std::span<const std::uint8_t>> split(const std::uint8_t* data, std::size_t size) {
    std::vector<std::span<const std::uint8_t>> chunks;
    std::size_t at = 0;
    while (at < size) {
        const std::size_t n = std::min<std::size_t>(data[at], size - at - 1);
        chunks.emplace_back(data + at + 1, n);
        at += 1 + n;
    }
    return chunks;
}

std::uint16_t sequence_of(std::span<const std::uint8_t> datagram) {
    return static_cast<std::uint16_t>(datagram[0] << 8 | datagram[1]);
}

void decode_arbitrary(const std::vector<std::span<const std::uint8_t>>& datagrams) {
    fax::UdptlDecoder decoder;
    bool started = false;
    std::uint16_t expected = 0;
    for (const auto datagram : datagrams) {
        const unsigned recovered = decoder.recovered();
        const unsigned lost = decoder.lost();
        const auto out = decoder.decode(datagram);
        if (!out) {
            check(decoder.recovered() == recovered && decoder.lost() == lost, "a rejected datagram changed counters");
            continue;
        }
        check(datagram.size() >= 3, "a datagram shorter than 3 bytes was accepted");
        const std::uint16_t sequence = sequence_of(datagram);
        const int ahead = static_cast<std::int16_t>(static_cast<std::uint16_t>(sequence - expected));
        if (started && ahead < 0 && ahead > -resync_distance) {
            check(out->empty(), "a late or duplicate datagram produced packets");
            check(decoder.recovered() == recovered && decoder.lost() == lost, "a late datagram changed counters");
            continue;
        }
        check(!out->empty(), "an accepted datagram produced no packet");
        check(out->back().sequence == sequence, "the last packet is not the datagram's own");
        for (std::size_t i = 1; i < out->size(); ++i) {
            check((*out)[i].sequence == static_cast<std::uint16_t>((*out)[i - 1].sequence + 1),
                  "packets are not consecutive");
        }
        for (const auto& p : *out) check(p.data.size() < datagram.size(), "a packet is larger than its datagram");
        const unsigned recovered_now = decoder.recovered() - recovered;
        const unsigned lost_now = decoder.lost() - lost;
        check(recovered_now + 1 == out->size(), "recovered count disagrees with the packets returned");
        if (started && ahead > 0) {
            check(recovered_now + lost_now == static_cast<unsigned>(ahead), "a gap is not fully counted");
        } else {
            check(recovered_now == 0 && lost_now == 0, "packets recovered without a gap");
        }
        started = true;
        expected = static_cast<std::uint16_t>(sequence + 1);
    }
}

void round_trip(const std::vector<std::span<const std::uint8_t>>& packets, unsigned redundancy) {
    fax::UdptlEncoder encoder(redundancy, 400);
    fax::UdptlDecoder decoder;
    std::vector<fax::Bytes> sent;
    std::vector<bool> received;
    std::size_t count = 0;
    std::optional<std::size_t> first, last;
    for (const auto packet : packets) {
        fax::Bytes datagram;
        try {
            datagram = encoder.encode(packet);
        } catch (const ictcore::Error&) {
            check(packet.size() > 400 - 6, "the encoder refused a packet that fits");  // never: chunks are < 256
            continue;
        }
        sent.emplace_back(packet.begin(), packet.end());
        received.push_back(false);
        // The link drops the datagram of every packet starting with an odd byte.
        if (!packet.empty() && (packet[0] & 1) != 0) continue;
        const auto out = decoder.decode(datagram);
        check(out.has_value(), "the decoder refused the encoder's datagram");
        for (const auto& p : *out) {
            check(p.sequence < sent.size(), "a packet from the future");
            check(!received[p.sequence], "a packet delivered twice");
            check(p.data == sent[p.sequence], "a packet differs from what was sent");
            received[p.sequence] = true;
            ++count;
            if (!first) first = p.sequence;
            last = p.sequence;
        }
    }
    if (first) {
        check(count + decoder.lost() == *last - *first + 1, "packets neither delivered nor counted lost");
    }
    if (redundancy == 0) check(decoder.recovered() == 0, "recovered without redundancy");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto chunks = split(data, size);
    decode_arbitrary(chunks);
    round_trip(chunks, size == 0 ? 0 : data[0] % 5);
    return 0;
}

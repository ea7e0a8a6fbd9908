// UDPTL framing (src/fax/udptl.*): the exact bytes of a datagram, sequence numbers and their
// wrap, recovery of lost datagrams from the redundancy copies, duplicates and late datagrams,
// two-byte lengths, the datagram size limit, and malformed input leaving the decoder as it was.
#include "fax/udptl.hpp"

#include <ictcore/error.hpp>

#include <doctest/doctest.h>

#include <numeric>

using ictcore::fax::Bytes;
using ictcore::fax::IfpPacket;
using ictcore::fax::UdptlDecoder;
using ictcore::fax::UdptlEncoder;

namespace {

Bytes ifp(std::uint8_t tag, std::size_t size = 3) {
    Bytes b(size);
    std::iota(b.begin(), b.end(), tag);
    return b;
}

std::vector<std::uint16_t> sequences(const std::vector<IfpPacket>& packets) {
    std::vector<std::uint16_t> out;
    for (const auto& p : packets) out.push_back(p.sequence);
    return out;
}

}  // namespace

TEST_CASE("udptl: the datagram layout is seq, primary, redundancy choice and the previous packets") {
    UdptlEncoder encoder(2);
    CHECK(encoder.encode(Bytes{0xAA}) == Bytes{0x00, 0x00, 0x01, 0xAA, 0x00, 0x00});
    CHECK(encoder.encode(Bytes{0xBB, 0xCC}) == Bytes{0x00, 0x01, 0x02, 0xBB, 0xCC, 0x00, 0x01, 0x01, 0xAA});
    CHECK(encoder.encode(Bytes{0xDD}) == Bytes{0x00, 0x02, 0x01, 0xDD, 0x00, 0x02, 0x02, 0xBB, 0xCC, 0x01, 0xAA});
    // Only `redundancy` copies: the oldest is no longer repeated.
    CHECK(encoder.encode(Bytes{0xEE}) == Bytes{0x00, 0x03, 0x01, 0xEE, 0x00, 0x02, 0x01, 0xDD, 0x02, 0xBB, 0xCC});
    CHECK(encoder.next_sequence() == 4);
}

TEST_CASE("udptl: in order, every packet arrives once with its sequence number, across the 65535 wrap") {
    UdptlEncoder encoder(3);
    UdptlDecoder decoder;
    for (int i = 0; i < 65540; ++i) {
        const auto datagram = encoder.encode(ifp(static_cast<std::uint8_t>(i)));
        if (i < 3 || i > 65530) {
            const auto got = decoder.decode(datagram);
            REQUIRE(got);
            REQUIRE(got->size() == 1);
            CHECK(got->front().sequence == static_cast<std::uint16_t>(i));
            CHECK(got->front().data == ifp(static_cast<std::uint8_t>(i)));
        } else {
            REQUIRE(decoder.decode(datagram));
        }
    }
    CHECK(decoder.recovered() == 0);
    CHECK(decoder.lost() == 0);
}

TEST_CASE("udptl: up to `redundancy` lost datagrams in a row are restored from the next one, in order") {
    UdptlEncoder encoder(3);
    UdptlDecoder decoder;
    std::vector<Bytes> datagrams;
    for (std::uint8_t i = 0; i < 12; ++i) datagrams.push_back(encoder.encode(ifp(static_cast<std::uint8_t>(i * 10))));

    REQUIRE(decoder.decode(datagrams[0])->size() == 1);
    // 1, 2 and 3 lost: 4 carries all three.
    const auto after_three = decoder.decode(datagrams[4]);
    REQUIRE(after_three);
    CHECK(sequences(*after_three) == std::vector<std::uint16_t>{1, 2, 3, 4});
    for (std::size_t k = 0; k < 4; ++k) CHECK((*after_three)[k].data == ifp(static_cast<std::uint8_t>((k + 1) * 10)));
    CHECK(decoder.recovered() == 3);
    CHECK(decoder.lost() == 0);

    // 5 to 8 lost: 9 restores 6, 7 and 8; 5 is gone.
    const auto after_four = decoder.decode(datagrams[9]);
    REQUIRE(after_four);
    CHECK(sequences(*after_four) == std::vector<std::uint16_t>{6, 7, 8, 9});
    CHECK(decoder.recovered() == 6);
    CHECK(decoder.lost() == 1);

    // Late and duplicate datagrams bring nothing.
    CHECK(decoder.decode(datagrams[5])->empty());
    CHECK(decoder.decode(datagrams[9])->empty());
    CHECK(sequences(*decoder.decode(datagrams[10])) == std::vector<std::uint16_t>{10});
}

TEST_CASE("udptl: packets of 128 bytes and more use two-byte lengths; the datagram limit drops copies first") {
    UdptlEncoder encoder(3, 400);
    UdptlDecoder decoder;
    const Bytes big = ifp(1, 200);
    const auto first = encoder.encode(big);
    CHECK(first[2] == (0x80 | (200 >> 8)));
    CHECK(first[3] == (200 & 0xFF));
    REQUIRE(decoder.decode(first));
    // A second 200-byte packet leaves no room for a copy of the first within 400 bytes.
    const auto second = encoder.encode(big);
    CHECK(second.size() <= 400);
    CHECK(second[2 + 2 + 200 + 1] == 0);  // no secondaries
    // A small packet carries the copies that fit: the 10-byte one and one 200-byte one (228
    // bytes); the other 200-byte copy would make 430.
    encoder.encode(ifp(9, 10));
    const auto fourth = encoder.encode(ifp(7, 10));
    CHECK(fourth.size() == 228);
    CHECK(fourth[2 + 1 + 10 + 1] == 2);
    CHECK_THROWS_AS(encoder.encode(ifp(0, 400)), ictcore::Error);
    CHECK_THROWS_AS(UdptlEncoder(0, 100000).encode(ifp(0, 0x4000)), ictcore::Error);
}

TEST_CASE("udptl: malformed datagrams are refused and change nothing; FEC datagrams still give their primary") {
    UdptlEncoder encoder(1);
    UdptlDecoder decoder;
    const auto d0 = encoder.encode(ifp(1));
    const auto d1 = encoder.encode(ifp(2));
    REQUIRE(decoder.decode(d0));

    CHECK_FALSE(decoder.decode(Bytes{}));
    CHECK_FALSE(decoder.decode(Bytes{0x00, 0x05}));
    CHECK_FALSE(decoder.decode(Bytes{0x00, 0x05, 0x09, 0x01}));                          // length beyond the end
    CHECK_FALSE(decoder.decode(Bytes{0x00, 0x05, 0xC1, 0x01}));                          // fragmented length form
    CHECK_FALSE(decoder.decode(Bytes{0x00, 0x05, 0x01, 0xAA, 0x42}));                    // unknown recovery choice
    CHECK_FALSE(decoder.decode(Bytes{0x00, 0x05, 0x01, 0xAA, 0x00, 0x02, 0x01, 0xBB}));  // a copy missing
    // None of those moved the expected sequence: the next real datagram is in order.
    const auto next = decoder.decode(d1);
    REQUIRE(next);
    CHECK(sequences(*next) == std::vector<std::uint16_t>{1});
    CHECK(decoder.lost() == 0);

    const auto fec = decoder.decode(Bytes{0x00, 0x02, 0x01, 0x33, 0x80, 0x01, 0x01, 0x00});
    REQUIRE(fec);
    CHECK(sequences(*fec) == std::vector<std::uint16_t>{2});
    CHECK(fec->front().data == Bytes{0x33});
}

TEST_CASE("udptl: a peer that starts its numbering again is followed, not ignored as late") {
    UdptlDecoder decoder;
    UdptlEncoder first(0);
    for (int i = 0; i < 3000; ++i) REQUIRE(decoder.decode(first.encode(ifp(1))));
    UdptlEncoder restarted(0);
    const auto got = decoder.decode(restarted.encode(ifp(5)));
    REQUIRE(got);
    CHECK(sequences(*got) == std::vector<std::uint16_t>{0});
}

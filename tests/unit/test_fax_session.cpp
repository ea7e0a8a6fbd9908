// FaxSession (src/fax/fax_session.*) back to back in memory: a sender and a receiver joined by a
// G.711 µ-law "line", and by T.38 through the project's UDPTL framing with lost datagrams. The
// received TIFF must match the sent pages pixel for pixel (`tiffcmp -t`, libtiff-tools).
#include "fax/fax_session.hpp"
#include "fax/udptl.hpp"
#include "fax_pages.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>
#include <spandsp.h>
#include <tiffio.h>

#include <cstdlib>
#include <deque>
#include <vector>

using ictcore::fax::FaxSession;
using ictcore::test::tiffcmp;
using ictcore::test::write_fax_tiff;

namespace {

FaxSession::Config config(FaxSession::Role role, bool calling, const std::filesystem::path& tiff, const char* id,
                          FaxSession::Transport transport = FaxSession::Transport::audio) {
    FaxSession::Config c;
    c.role = role;
    c.calling = calling;
    c.tiff = tiff;
    c.station_id = id;
    c.transport = transport;
    return c;
}

// One direction of a G.711 µ-law line, 20 ms.
void line(FaxSession& from, FaxSession& to) {
    std::int16_t pcm[160];
    from.transmit_audio(pcm);
    for (auto& sample : pcm) sample = ulaw_to_linear(linear_to_ulaw(sample));
    to.receive_audio(pcm);
}

constexpr long max_frames = 50L * 60 * 5;  // five minutes of line time

}  // namespace

TEST_CASE("fax session: two pages over a G.711 line arrive pixel for pixel; the outcome says so") {
    ictcore::test::TempDir dir;
    const auto sent = dir.path() / "sent.tif";
    const auto received = dir.path() / "received.tif";
    write_fax_tiff(sent, 2, 300, 1);
    FaxSession sender(config(FaxSession::Role::send, true, sent, "+1 555 0100"));
    FaxSession receiver(config(FaxSession::Role::receive, false, received, "+1 555 0200"));
    long frames = 0;
    for (; frames < max_frames && !(sender.finished() && receiver.finished()); ++frames) {
        line(sender, receiver);
        line(receiver, sender);
    }
    REQUIRE(sender.finished());
    REQUIRE(receiver.finished());
    const auto& out = sender.outcome();
    CHECK(out.success);
    CHECK(out.code == 0);
    CHECK(out.text == "OK");
    CHECK(out.pages == 2);
    CHECK(out.pages_in_file == 2);
    CHECK(out.bit_rate == 14400);
    CHECK(out.ecm);
    CHECK(out.remote_id == "+1 555 0200");
    CHECK(receiver.outcome().success);
    CHECK(receiver.outcome().pages == 2);
    CHECK(receiver.outcome().remote_id == "+1 555 0100");
    MESSAGE("line time " << frames / 50.0 << " s for 2 pages");
    CHECK(tiffcmp(sent, received) == 0);

    // The comparison can fail: another pattern differs.
    const auto other = dir.path() / "other.tif";
    write_fax_tiff(other, 2, 300, 2);
    CHECK(tiffcmp(other, received) != 0);
}

TEST_CASE("fax session: T.38 through UDPTL with redundancy survives lost datagrams; without a receiver it fails") {
    ictcore::test::TempDir dir;
    const auto sent = dir.path() / "sent.tif";
    const auto received = dir.path() / "received.tif";
    write_fax_tiff(sent, 1, 300, 3);

    ictcore::fax::UdptlEncoder to_receiver(3), to_sender(3);
    ictcore::fax::UdptlDecoder at_receiver, at_sender;
    std::deque<ictcore::fax::Bytes> toward_receiver, toward_sender;
    long datagrams = 0;
    const auto send = [&datagrams](ictcore::fax::UdptlEncoder& encoder, std::deque<ictcore::fax::Bytes>& wire) {
        return [&encoder, &wire, &datagrams](std::span<const std::uint8_t> packet, int copies) {
            const auto datagram = encoder.encode(packet);
            for (int i = 0; i < copies; ++i) {
                if (++datagrams % 5 != 0) wire.push_back(datagram);  // every fifth datagram is lost
            }
        };
    };
    auto sender_config = config(FaxSession::Role::send, true, sent, "SENDER", FaxSession::Transport::t38);
    sender_config.send_ifp = send(to_receiver, toward_receiver);
    auto receiver_config = config(FaxSession::Role::receive, false, received, "RECEIVER", FaxSession::Transport::t38);
    receiver_config.send_ifp = send(to_sender, toward_sender);
    FaxSession sender(sender_config);
    FaxSession receiver(receiver_config);
    const auto deliver = [](std::deque<ictcore::fax::Bytes>& wire, ictcore::fax::UdptlDecoder& decoder,
                            FaxSession& to) {
        while (!wire.empty()) {
            const auto packets = decoder.decode(wire.front());
            wire.pop_front();
            REQUIRE(packets);
            for (const auto& p : *packets) to.receive_ifp(p.data, p.sequence);
        }
    };
    for (long frame = 0; frame < max_frames && !(sender.finished() && receiver.finished()); ++frame) {
        sender.advance(160);
        receiver.advance(160);
        deliver(toward_receiver, at_receiver, receiver);
        deliver(toward_sender, at_sender, sender);
    }
    REQUIRE(sender.finished());
    CHECK(sender.outcome().success);
    CHECK(sender.outcome().pages == 1);
    CHECK(receiver.outcome().success);
    CHECK(at_receiver.recovered() + at_sender.recovered() > 0);
    CHECK(tiffcmp(sent, received) == 0);

    // Nobody answers: the sender gives up with a failure, not a success.
    auto lonely_config = config(FaxSession::Role::send, true, sent, "SENDER");
    FaxSession lonely(lonely_config);
    std::int16_t pcm[160];
    std::int16_t silence[160] = {};
    for (long frame = 0; frame < max_frames && !lonely.finished(); ++frame) {
        lonely.transmit_audio(pcm);
        lonely.receive_audio(silence);
    }
    REQUIRE(lonely.finished());
    CHECK_FALSE(lonely.outcome().success);
    CHECK(lonely.outcome().pages == 0);
}

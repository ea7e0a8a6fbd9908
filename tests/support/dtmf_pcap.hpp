// write_dtmf_pcap: a capture of one RTP stream (PCMU, 20 ms packets) carrying DTMF digits as
// in-band tones (spandsp's generator), for SIPp's play_pcap_audio: a callee that sends digits
// as sound, with no telephone-event, as many phones and PBXs still do.
#pragma once

#include <spandsp.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ictcore::test {

inline void write_dtmf_pcap(const std::filesystem::path& path, const std::string& digits) {
    // The audio: 200 ms of silence, then each digit as 100 ms of tone and 100 ms of silence.
    std::vector<std::int16_t> audio(1600, 0);
    dtmf_tx_state_t* tx = dtmf_tx_init(nullptr);
    dtmf_tx_set_level(tx, -10, 0);
    dtmf_tx_set_timing(tx, 100, 100);
    dtmf_tx_put(tx, digits.c_str(), -1);
    std::array<std::int16_t, 160> chunk{};
    for (int n; (n = dtmf_tx(tx, chunk.data(), static_cast<int>(chunk.size()))) > 0;)
        audio.insert(audio.end(), chunk.begin(), chunk.begin() + n);
    dtmf_tx_free(tx);
    audio.resize((audio.size() / 160 + 10) * 160, 0);  // and 200 ms of silence after

    std::ofstream out(path, std::ios::binary);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    auto le32 = [&out](std::uint32_t v) { out.write(reinterpret_cast<const char*>(&v), 4); };
    auto le16 = [&out](std::uint16_t v) { out.write(reinterpret_cast<const char*>(&v), 2); };
    le32(0xa1b2c3d4);  // pcap, microsecond timestamps
    le16(2);
    le16(4);
    le32(0);
    le32(0);
    le32(65535);
    le32(1);  // Ethernet
    const std::size_t frames = audio.size() / 160;
    for (std::size_t f = 0; f < frames; ++f) {
        std::vector<std::uint8_t> p;
        auto be16 = [&p](unsigned v) {
            p.push_back(static_cast<std::uint8_t>(v >> 8));
            p.push_back(static_cast<std::uint8_t>(v));
        };
        auto be32 = [&be16](std::uint32_t v) {
            be16(v >> 16);
            be16(v & 0xFFFF);
        };
        p.insert(p.end(), 12, 0);  // MAC addresses
        be16(0x0800);              // IPv4
        const unsigned udp_length = 8 + 12 + 160;
        p.insert(p.end(), {0x45, 0});
        be16(20 + udp_length);
        be16(static_cast<unsigned>(f));
        p.insert(p.end(), {0x40, 0, 64, 17});  // don't fragment, TTL 64, UDP
        be16(0);                               // header checksum, below
        p.insert(p.end(), {127, 0, 0, 1, 127, 0, 0, 1});
        std::uint32_t sum = 0;
        for (std::size_t i = 14; i < 34; i += 2) sum += static_cast<unsigned>(p[i] << 8 | p[i + 1]);
        while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
        p[24] = static_cast<std::uint8_t>(~sum >> 8);
        p[25] = static_cast<std::uint8_t>(~sum);
        be16(10000);  // ports: SIPp rewrites them
        be16(20000);
        be16(udp_length);
        be16(0);
        p.insert(p.end(), {0x80, static_cast<std::uint8_t>(f == 0 ? 0x80 : 0x00)});  // RTP v2, PCMU
        be16(static_cast<unsigned>(f));
        be32(static_cast<std::uint32_t>(f * 160));
        be32(0x1c7c0de);
        for (std::size_t i = 0; i < 160; ++i) p.push_back(linear_to_ulaw(audio[f * 160 + i]));
        le32(static_cast<std::uint32_t>(f / 50));
        le32(static_cast<std::uint32_t>(f % 50 * 20000));
        le32(static_cast<std::uint32_t>(p.size()));
        le32(static_cast<std::uint32_t>(p.size()));
        out.write(reinterpret_cast<const char*>(p.data()), static_cast<std::streamsize>(p.size()));
    }
}

}  // namespace ictcore::test

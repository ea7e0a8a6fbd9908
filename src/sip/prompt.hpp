// Prompt: a recording's telephony WAV (8 kHz mono 16-bit, as media/audio writes it) cut into
// 20 ms RTP payloads of G.711 — µ-law (PCMU, payload type 0) or A-law (PCMA, 8) — ready for a
// call to send one per tick. The last frame is padded with silence.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace ictcore::sip {

enum class G711 { pcmu, pcma };

class Prompt {
public:
    static constexpr std::size_t frame_samples = 160;  // 20 ms at 8 kHz

    // Throws Error(invalid) for a file that is not 8 kHz mono audio.
    Prompt(const std::filesystem::path& wav, G711 codec);

    std::size_t frames() const { return payload_.size() / frame_samples; }
    // Frame `n`'s payload (160 bytes).
    std::span<const std::uint8_t> frame(std::size_t n) const;
    // The payload of 20 ms of silence in this codec.
    std::span<const std::uint8_t> silence() const { return silence_; }
    double seconds() const { return static_cast<double>(frames()) * 0.02; }

private:
    std::vector<std::uint8_t> payload_;
    std::vector<std::uint8_t> silence_;
};

}  // namespace ictcore::sip

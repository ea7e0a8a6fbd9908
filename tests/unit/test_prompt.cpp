// Prompt (src/sip/prompt.*): a telephony WAV becomes 20 ms G.711 frames — the count, padding,
// silence, and the samples coming back within G.711's error for both laws; other formats refused.
#include "sip/prompt.hpp"
#include "temp_dir.hpp"

#include <ictcore/error.hpp>

#include <doctest/doctest.h>
#include <sndfile.h>
#include <spandsp.h>

#include <cmath>
#include <cstdlib>
#include <vector>

using ictcore::sip::G711;
using ictcore::sip::Prompt;

namespace {

std::vector<std::int16_t> tone(std::size_t samples, int rate = 8000) {
    std::vector<std::int16_t> out(samples);
    for (std::size_t i = 0; i < samples; ++i) {
        out[i] = static_cast<std::int16_t>(8000.0 * std::sin(2.0 * M_PI * 1000.0 * static_cast<double>(i) / rate));
    }
    return out;
}

void write_wav(const std::filesystem::path& path, const std::vector<std::int16_t>& samples, int rate = 8000,
               int channels = 1) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    REQUIRE(f);
    sf_write_short(f, samples.data(), static_cast<sf_count_t>(samples.size()));
    sf_close(f);
}

}  // namespace

TEST_CASE("prompt: 8 kHz mono audio becomes 20 ms G.711 frames that decode back to the samples") {
    ictcore::test::TempDir dir;
    const auto wav = dir.path() / "prompt.wav";
    const auto samples = tone(8000 + 100);  // 1 s and 100 samples: the last frame is padded
    write_wav(wav, samples);
    for (const auto codec : {G711::pcmu, G711::pcma}) {
        const Prompt prompt(wav, codec);
        CHECK(prompt.frames() == 51);
        CHECK(prompt.seconds() == doctest::Approx(1.02));
        int worst = 0;
        for (std::size_t i = 0; i < samples.size(); ++i) {
            const auto byte = prompt.frame(i / Prompt::frame_samples)[i % Prompt::frame_samples];
            const int back = codec == G711::pcmu ? ulaw_to_linear(byte) : alaw_to_linear(byte);
            worst = std::max(worst, std::abs(back - samples[i]));
        }
        CHECK(worst < 300);  // G.711 steps near 8000 are 256 (µ-law) and 256 (A-law) wide
        const auto last = prompt.frame(50);
        const int padded = codec == G711::pcmu ? ulaw_to_linear(last[159]) : alaw_to_linear(last[159]);
        CHECK(std::abs(padded) < 16);
        for (const auto byte : prompt.silence()) {
            CHECK(std::abs(codec == G711::pcmu ? ulaw_to_linear(byte) : alaw_to_linear(byte)) < 16);
        }
        CHECK_THROWS_AS(prompt.frame(51), ictcore::Error);
    }
}

TEST_CASE("prompt: audio that is not 8 kHz mono, or not audio, is refused") {
    ictcore::test::TempDir dir;
    write_wav(dir.path() / "cd.wav", tone(4410, 44100), 44100);
    CHECK_THROWS_AS(Prompt(dir.path() / "cd.wav", G711::pcmu), ictcore::Error);
    write_wav(dir.path() / "stereo.wav", tone(1600), 8000, 2);
    CHECK_THROWS_AS(Prompt(dir.path() / "stereo.wav", G711::pcmu), ictcore::Error);
    CHECK_THROWS_AS(Prompt(dir.path() / "missing.wav", G711::pcma), ictcore::Error);
}

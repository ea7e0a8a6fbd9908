// The tone analysis the SIP audio tests rely on (tests/support/tone_check.hpp), on WAVs
// written here with libsndfile: it must find a known tone's place, length and frequency, and
// must report a wrong frequency, a wrong length or silence as such.
#include "temp_dir.hpp"
#include "tone_check.hpp"

#include <doctest/doctest.h>
#include <sndfile.h>

#include <cmath>
#include <numbers>

namespace {

using namespace ictcore;

// `before` s of silence, a sine of `hz` at `amplitude` for `seconds`, `after` s of silence;
// 8 kHz mono 16-bit, written to `path` and read back.
test::Audio write_tone(const std::filesystem::path& path, double hz, double seconds, double before = 0.5,
                       double after = 0.5, double amplitude = 8000) {
    const int rate = 8000;
    std::vector<short> samples(static_cast<std::size_t>((before + seconds + after) * rate), 0);
    const auto first = static_cast<std::size_t>(before * rate);
    const auto count = static_cast<std::size_t>(seconds * rate);
    for (std::size_t i = 0; i < count; ++i)
        samples[first + i] = static_cast<short>(amplitude * std::sin(2 * std::numbers::pi * hz * i / rate));
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    REQUIRE(file != nullptr);
    sf_writef_short(file, samples.data(), static_cast<sf_count_t>(samples.size()));
    sf_close(file);
    return test::read_wav(path);
}

}  // namespace

TEST_CASE("tone check: a 1 kHz tone of 1 s between silences is found where it is") {
    test::TempDir dir;
    const auto audio = write_tone(dir.path() / "tone.wav", 1000, 1.0);
    CHECK(audio.rate == 8000);
    CHECK(audio.samples.size() == 16000);
    const auto span = test::find_tone(audio);
    INFO(test::describe(span));
    REQUIRE(span.found);
    CHECK(span.start == doctest::Approx(0.5).epsilon(0.001));
    CHECK(span.duration == doctest::Approx(1.0).epsilon(0.001));
    CHECK(span.active_frames == 50);
    CHECK(std::abs(span.peak_hz - 1000) <= 1);
    CHECK(std::abs(span.zero_crossing_hz - 1000) <= 2);
    CHECK(test::tone_mismatch(span, 1000, 20, 1.0, 0.06) == "");
}

TEST_CASE("tone check: a 440 Hz tone is reported as 440 Hz, not as the 1 kHz a test wants") {
    test::TempDir dir;
    const auto span = test::find_tone(write_tone(dir.path() / "a.wav", 440, 0.6, 0.2, 0.1));
    INFO(test::describe(span));
    REQUIRE(span.found);
    CHECK(std::abs(span.peak_hz - 440) <= 1);
    CHECK(std::abs(span.zero_crossing_hz - 440) <= 3);
    CHECK(span.duration == doctest::Approx(0.6).epsilon(0.001));
    const auto why = test::tone_mismatch(span, 1000, 20, 0.6, 0.06);
    CHECK(why.find("peak at 440 Hz") != std::string::npos);
    CHECK(why.find("zero crossings") != std::string::npos);
    CHECK(why.find("lasts") == std::string::npos);
    CHECK(test::tone_mismatch(span, 440, 20, 0.6, 0.06) == "");
}

TEST_CASE("tone check: a tone 100 ms short fails the duration check") {
    test::TempDir dir;
    const auto span = test::find_tone(write_tone(dir.path() / "short.wav", 1000, 0.9));
    INFO(test::describe(span));
    REQUIRE(span.found);
    const auto why = test::tone_mismatch(span, 1000, 20, 1.0, 0.06);
    CHECK(why.find("lasts 0.9 s") != std::string::npos);
    CHECK(why.find("Hz") == std::string::npos);
}

TEST_CASE("tone check: silence and sound below the threshold hold no tone") {
    test::TempDir dir;
    const auto silence = test::find_tone(write_tone(dir.path() / "silence.wav", 1000, 0.0, 1.0, 1.0));
    CHECK_FALSE(silence.found);
    CHECK(test::tone_mismatch(silence, 1000, 20, 1.0, 0.06) == "no sound above the threshold");
    // RMS of a sine of amplitude 400 is ~283: under the default threshold of 300.
    const auto faint = test::find_tone(write_tone(dir.path() / "faint.wav", 1000, 1.0, 0.5, 0.5, 400));
    CHECK_FALSE(faint.found);
    CHECK(test::find_tone(write_tone(dir.path() / "faint2.wav", 1000, 1.0, 0.5, 0.5, 400), 200).found);
}

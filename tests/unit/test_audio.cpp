// Audio conversion to 8 kHz mono 16-bit PCM WAV: real files written with libsndfile in many
// encodings, converted, then read back and measured (rate, channels, length, the tone's pitch).
#include "media/audio.hpp"
#include "temp_dir.hpp"

#include <ictcore/error.hpp>

#include <doctest/doctest.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numbers>
#include <random>
#include <string>
#include <vector>

using namespace ictcore;
using media::AudioInfo;
using media::convert_to_telephony_wav;
namespace fs = std::filesystem;

namespace {

constexpr double tone_hz = 440;
constexpr double amplitude = 0.5;

// Writes a 440 Hz sine at `amplitude`, identical on every channel. False when libsndfile
// cannot write `format` here (the caller decides whether that is a skip or a failure).
bool write_tone(const fs::path& path, int format, int rate, int channels, double seconds) {
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!f) return false;
    const auto frames = static_cast<sf_count_t>(std::llround(seconds * rate));
    constexpr sf_count_t block = 4096;
    std::vector<float> buf(static_cast<std::size_t>(block * channels));
    bool ok = true;
    for (sf_count_t done = 0; done < frames && ok;) {
        const sf_count_t n = std::min(block, frames - done);
        for (sf_count_t i = 0; i < n; ++i) {
            const double t = static_cast<double>(done + i) / rate;
            const auto v = static_cast<float>(amplitude * std::sin(2 * std::numbers::pi * tone_hz * t));
            for (int c = 0; c < channels; ++c) buf[static_cast<std::size_t>(i * channels + c)] = v;
        }
        ok = sf_writef_float(f, buf.data(), n) == n;
        done += n;
    }
    return sf_close(f) == 0 && ok;
}

struct Decoded {
    SF_INFO info{};
    std::vector<short> samples;  // channel 0 of every frame
};

Decoded read_back(const fs::path& path) {
    Decoded d;
    SNDFILE* f = sf_open(path.c_str(), SFM_READ, &d.info);
    REQUIRE_MESSAGE(f != nullptr, "converted file does not open: " << sf_strerror(nullptr));
    std::vector<short> buf(static_cast<std::size_t>(4096 * d.info.channels));
    sf_count_t n = 0;
    while ((n = sf_readf_short(f, buf.data(), 4096)) > 0) {
        for (sf_count_t i = 0; i < n; ++i) d.samples.push_back(buf[static_cast<std::size_t>(i * d.info.channels)]);
    }
    sf_close(f);
    return d;
}

// The middle 80%: the ends hold the resampler's ramp-in and ramp-out.
std::vector<short> middle(const std::vector<short>& s) {
    const std::size_t cut = s.size() / 10;
    return {s.begin() + static_cast<std::ptrdiff_t>(cut), s.end() - static_cast<std::ptrdiff_t>(cut)};
}

// Pitch from upward zero crossings: one per period of a pure tone.
double zero_crossing_hz(const std::vector<short>& s, int rate) {
    int crossings = 0;
    for (std::size_t i = 1; i < s.size(); ++i) {
        if (s[i - 1] < 0 && s[i] >= 0) ++crossings;
    }
    return crossings * static_cast<double>(rate) / static_cast<double>(s.size());
}

double rms_full_scale(const std::vector<short>& s) {
    double sum = 0;
    for (short v : s) sum += static_cast<double>(v) * v;
    return std::sqrt(sum / static_cast<double>(s.size())) / 32767.0;
}

// A KiB figure of /proc/self/status (VmRSS, VmHWM), or -1 when it is missing. Resetting VmHWM
// first lets a test measure its own peak resident size rather than the process's.
long status_kib(const std::string& key) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with(key + ":")) return std::stol(line.substr(key.size() + 1));
    }
    return -1;
}
bool reset_peak_rss() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";  // "5" resets VmHWM to the current VmRSS
    clear.flush();
    return static_cast<bool>(clear);
}

Errc code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    FAIL("expected an ictcore::Error");
    return Errc::internal;
}

// Converts `in` (a tone of `seconds`) and checks the output format, length and tone, and the
// reported input properties. `tolerance` is the allowed relative error of the frame count.
void check_conversion(const fs::path& in, const fs::path& out, double seconds, int rate, int channels,
                      const std::string& format, double tolerance) {
    const AudioInfo info = convert_to_telephony_wav(in, out);
    CHECK(info.format == format);
    CHECK(info.sample_rate == rate);
    CHECK(info.channels == channels);
    CHECK(info.seconds == doctest::Approx(seconds).epsilon(tolerance));

    const Decoded d = read_back(out);
    CHECK(d.info.samplerate == 8000);
    CHECK(d.info.channels == 1);
    CHECK((d.info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_WAV);
    CHECK((d.info.format & SF_FORMAT_SUBMASK) == SF_FORMAT_PCM_16);
    CHECK(static_cast<double>(d.info.frames) == doctest::Approx(seconds * 8000).epsilon(tolerance));
    CHECK(info.seconds == doctest::Approx(static_cast<double>(d.info.frames) / 8000));
    REQUIRE(d.samples.size() > 1000);
    const auto mid = middle(d.samples);
    CHECK(zero_crossing_hz(mid, 8000) == doctest::Approx(tone_hz).epsilon(0.02));
    // Same tone on every channel, so mixing down keeps its level: RMS of a sine is A/sqrt(2).
    CHECK(rms_full_scale(mid) == doctest::Approx(amplitude / std::sqrt(2.0)).epsilon(0.05));
}

}  // namespace

TEST_CASE("a 44.1 kHz stereo 16-bit WAV becomes 8 kHz mono 16-bit PCM with the tone intact") {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2, 2.5));
    check_conversion(in, dir.path() / "out.wav", 2.5, 44100, 2, "wav", 0.01);
}

TEST_CASE("an 8 kHz mono µ-law WAV converts") {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, 2.0));
    check_conversion(in, dir.path() / "out.wav", 2.0, 8000, 1, "wav", 0.01);
}

TEST_CASE("a 16 kHz A-law WAV converts") {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_ALAW, 16000, 1, 1.5));
    check_conversion(in, dir.path() / "out.wav", 1.5, 16000, 1, "wav", 0.01);
}

TEST_CASE("a 48 kHz float stereo WAV converts") {
    test::TempDir dir;
    const auto in = dir.path() / "in.wav";
    REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, 2.0));
    check_conversion(in, dir.path() / "out.wav", 2.0, 48000, 2, "wav", 0.01);
}

TEST_CASE("8-bit, 24-bit, 32-bit and double WAVs at 22.05 kHz convert") {
    for (int subtype : {SF_FORMAT_PCM_U8, SF_FORMAT_PCM_24, SF_FORMAT_PCM_32, SF_FORMAT_DOUBLE}) {
        CAPTURE(subtype);
        test::TempDir dir;
        const auto in = dir.path() / "in.wav";
        REQUIRE(write_tone(in, SF_FORMAT_WAV | subtype, 22050, 1, 1.0));
        check_conversion(in, dir.path() / "out.wav", 1.0, 22050, 1, "wav", 0.01);
    }
}

TEST_CASE("an MP3 converts") {
    test::TempDir dir;
    const auto in = dir.path() / "in.mp3";
    if (!write_tone(in, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, 2.5)) {
        MESSAGE("skipped: this libsndfile cannot write MP3 (no libmp3lame support), so there is no MP3 to decode: "
                << sf_strerror(nullptr));
        return;
    }
    // Encoder delay and padding may change the length by a few MP3 frames.
    check_conversion(in, dir.path() / "out.wav", 2.5, 44100, 2, "mp3", 0.05);
}

TEST_CASE("an MP3 cut in half is refused as truncated") {
    test::TempDir dir;
    const auto in = dir.path() / "in.mp3";
    if (!write_tone(in, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, 4.0)) {
        MESSAGE("skipped: this libsndfile cannot write MP3 (no libmp3lame support)");
        return;
    }
    fs::resize_file(in, fs::file_size(in) / 2);
    CHECK(code_of([&] { convert_to_telephony_wav(in, dir.path() / "out.wav"); }) == Errc::invalid);
}

TEST_CASE("random bytes are unsupported media") {
    test::TempDir dir;
    const auto in = dir.path() / "noise.wav";
    {
        std::mt19937 rng(20261128);
        std::ofstream f(in, std::ios::binary);
        for (int i = 0; i < 65536; ++i) f.put(static_cast<char>(rng() & 0xFF));
    }
    CHECK(code_of([&] { convert_to_telephony_wav(in, dir.path() / "out.wav"); }) == Errc::unsupported_media);
}

TEST_CASE("an empty file is unsupported media") {
    test::TempDir dir;
    const auto in = dir.path() / "empty.wav";
    std::ofstream(in, std::ios::binary).close();
    REQUIRE(fs::exists(in));
    CHECK(code_of([&] { convert_to_telephony_wav(in, dir.path() / "out.wav"); }) == Errc::unsupported_media);
}

TEST_CASE("a WAV whose data chunk is cut to half is refused as truncated") {
    test::TempDir dir;
    const auto in = dir.path() / "cut.wav";
    REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 1.0));
    // PCM WAV from libsndfile: header, then the data chunk to the end of the file.
    const std::uintmax_t data_bytes = 16000 * 2;
    const std::uintmax_t header = fs::file_size(in) - data_bytes;
    fs::resize_file(in, header + data_bytes / 2);
    try {
        convert_to_telephony_wav(in, dir.path() / "out.wav");
        FAIL("a truncated WAV was converted");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::invalid);
        CHECK(std::string(e.what()).find("truncated") != std::string::npos);
    }
}

TEST_CASE("a WAV with 3 channels is unsupported media") {
    test::TempDir dir;
    const auto in = dir.path() / "three.wav";
    REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 3, 0.5));
    CHECK(code_of([&] { convert_to_telephony_wav(in, dir.path() / "out.wav"); }) == Errc::unsupported_media);
}

TEST_CASE("audio libsndfile reads but we do not accept is unsupported media") {
    test::TempDir dir;
    SUBCASE("AIFF") {
        const auto in = dir.path() / "in.aiff";
        REQUIRE(write_tone(in, SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 8000, 1, 0.5));
        CHECK(code_of([&] { convert_to_telephony_wav(in, dir.path() / "out.wav"); }) == Errc::unsupported_media);
    }
    SUBCASE("IMA ADPCM in WAV") {
        const auto in = dir.path() / "in.wav";
        REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, 8000, 1, 0.5));
        CHECK(code_of([&] { convert_to_telephony_wav(in, dir.path() / "out.wav"); }) == Errc::unsupported_media);
    }
}

TEST_CASE("a WAV without samples is invalid") {
    test::TempDir dir;
    const auto in = dir.path() / "silent.wav";
    REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.0));
    CHECK(code_of([&] { convert_to_telephony_wav(in, dir.path() / "out.wav"); }) == Errc::invalid);
}

TEST_CASE("a missing input is an internal error, not a verdict on the content") {
    test::TempDir dir;
    CHECK(code_of([&] { convert_to_telephony_wav(dir.path() / "nope.wav", dir.path() / "out.wav"); }) ==
          Errc::internal);
}

TEST_CASE("memory stays flat for a long input") {
#if defined(__SANITIZE_ADDRESS__)
    MESSAGE("skipped under AddressSanitizer: its quarantine and shadow memory distort resident size");
    return;
#endif
    test::TempDir dir;
    const auto in = dir.path() / "long.wav";
    // A minute of 48 kHz stereo float: 23 MB of samples, which a whole-file decode would hold.
    REQUIRE(write_tone(in, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 48000, 2, 60.0));
    if (!reset_peak_rss()) {
        MESSAGE("skipped: /proc/self/clear_refs cannot reset the peak resident size here");
        return;
    }
    const long before = status_kib("VmRSS");
    const AudioInfo info = convert_to_telephony_wav(in, dir.path() / "out.wav");
    const long peak = status_kib("VmHWM");
    REQUIRE(before > 0);
    REQUIRE(peak > 0);
    CHECK(info.seconds == doctest::Approx(60.0).epsilon(0.01));
    CHECK_MESSAGE(peak - before < 8 * 1024, "peak resident size grew by " << peak - before << " KiB");
}

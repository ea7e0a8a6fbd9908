// Tone analysis of a recorded call (e.g. what baresip received): where the sound is (20 ms
// frames whose RMS exceeds a threshold), how long it lasts and its dominant frequency, by
// zero crossings and by a Goertzel scan. Pure functions over samples, plus a WAV reader
// (libsndfile), so tests can say "a 1 kHz tone for 1 s arrived" and be wrong when it did not.
#pragma once

#include <sndfile.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <numbers>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ictcore::test {

struct Audio {
    std::vector<std::int16_t> samples;  // mono (the first channel of a multi-channel file)
    int rate = 0;
};

// Reads any WAV libsndfile understands as 16-bit samples.
inline Audio read_wav(const std::filesystem::path& path) {
    SF_INFO info{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
    if (!file) throw std::runtime_error("cannot read " + path.string() + ": " + sf_strerror(nullptr));
    std::vector<std::int16_t> interleaved(static_cast<std::size_t>(info.frames) *
                                          static_cast<std::size_t>(info.channels));
    const auto frames = sf_readf_short(file, interleaved.data(), info.frames);
    sf_close(file);
    Audio audio;
    audio.rate = info.samplerate;
    for (sf_count_t i = 0; i < frames; ++i)
        audio.samples.push_back(interleaved[static_cast<std::size_t>(i * info.channels)]);
    return audio;
}

struct ToneSpan {
    bool found = false;
    double start = 0;     // seconds from the start of the recording
    double duration = 0;  // seconds, from the first to the end of the last active frame
    int active_frames = 0;
    double zero_crossing_hz = 0;  // over the span
    double peak_hz = 0;           // strongest Goertzel bin over the span, 1 Hz resolution
};

// Energy at `hz` of samples [first, last) (Goertzel), normalised by the length.
inline double goertzel_power(const std::vector<std::int16_t>& samples, std::size_t first, std::size_t last, int rate,
                             double hz) {
    const double coeff = 2 * std::cos(2 * std::numbers::pi * hz / rate);
    double s1 = 0, s2 = 0;
    for (std::size_t i = first; i < last; ++i) {
        const double s0 = samples[i] + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    const double n = static_cast<double>(last - first);
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n);
}

// The active span: 20 ms frames whose RMS exceeds `rms_threshold` (full scale 32767). Gaps
// inside the span count towards its duration, so a tone that stutters is still one span.
inline ToneSpan find_tone(const Audio& audio, double rms_threshold = 300) {
    ToneSpan span;
    if (audio.rate <= 0) return span;
    const std::size_t frame = static_cast<std::size_t>(audio.rate) / 50;
    std::size_t first = 0, last = 0;
    for (std::size_t at = 0; at + frame <= audio.samples.size(); at += frame) {
        double energy = 0;
        for (std::size_t i = at; i < at + frame; ++i) energy += double(audio.samples[i]) * audio.samples[i];
        if (std::sqrt(energy / frame) <= rms_threshold) continue;
        if (!span.found) first = at;
        span.found = true;
        last = at + frame;
        ++span.active_frames;
    }
    if (!span.found) return span;
    span.start = double(first) / audio.rate;
    span.duration = double(last - first) / audio.rate;
    int crossings = 0;
    for (std::size_t i = first + 1; i < last; ++i) crossings += (audio.samples[i - 1] < 0) != (audio.samples[i] < 0);
    span.zero_crossing_hz = crossings / 2.0 / span.duration;
    // Coarse scan in 10 Hz steps over the telephone band, then 1 Hz steps around the best.
    const auto best_between = [&](double from, double to, double step) {
        double best_hz = from, best = -1;
        for (double hz = from; hz <= to; hz += step) {
            const double power = goertzel_power(audio.samples, first, last, audio.rate, hz);
            if (power > best) best = power, best_hz = hz;
        }
        return best_hz;
    };
    const double coarse = best_between(100, audio.rate / 2.0 - 100, 10);
    span.peak_hz = best_between(coarse - 10, coarse + 10, 1);
    return span;
}

// Empty when `span` is a tone of `hz` (± hz_tolerance, by both measures) lasting `seconds`
// (± seconds_tolerance); otherwise what differs, for the failure message.
inline std::string tone_mismatch(const ToneSpan& span, double hz, double hz_tolerance, double seconds,
                                 double seconds_tolerance) {
    std::ostringstream why;
    if (!span.found) return "no sound above the threshold";
    if (std::abs(span.peak_hz - hz) > hz_tolerance) why << "peak at " << span.peak_hz << " Hz, not " << hz << " Hz; ";
    if (std::abs(span.zero_crossing_hz - hz) > hz_tolerance)
        why << "zero crossings give " << span.zero_crossing_hz << " Hz, not " << hz << " Hz; ";
    if (std::abs(span.duration - seconds) > seconds_tolerance)
        why << "lasts " << span.duration << " s, not " << seconds << " s; ";
    return why.str();
}

// For failure messages.
inline std::string describe(const ToneSpan& span) {
    std::ostringstream out;
    if (!span.found) return "no tone";
    out << "tone from " << span.start << " s for " << span.duration << " s (" << span.active_frames
        << " active frames), zero crossings " << span.zero_crossing_hz << " Hz, peak " << span.peak_hz << " Hz";
    return out.str();
}

}  // namespace ictcore::test

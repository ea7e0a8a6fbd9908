// Prompt (see prompt.hpp): libsndfile reads the samples, spandsp's G.711 tables encode them.
#include "sip/prompt.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>
#include <sndfile.h>
#include <spandsp.h>

#include <memory>

namespace ictcore::sip {

namespace {

std::uint8_t encode(std::int16_t sample, G711 codec) {
    return codec == G711::pcmu ? linear_to_ulaw(sample) : linear_to_alaw(sample);
}

}  // namespace

Prompt::Prompt(const std::filesystem::path& wav, G711 codec) {
    SF_INFO info{};
    std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> file(sf_open(wav.c_str(), SFM_READ, &info), sf_close);
    if (!file)
        throw Error(Errc::invalid, fmt::format("cannot read the prompt {}: {}", wav.string(), sf_strerror(nullptr)));
    if (info.samplerate != 8000 || info.channels != 1) {
        throw Error(Errc::invalid, fmt::format("the prompt {} is {} Hz with {} channel(s), not 8 kHz mono",
                                               wav.string(), info.samplerate, info.channels));
    }
    std::vector<std::int16_t> samples(static_cast<std::size_t>(info.frames));
    samples.resize(static_cast<std::size_t>(sf_read_short(file.get(), samples.data(), info.frames)));
    const std::size_t padded = (samples.size() + frame_samples - 1) / frame_samples * frame_samples;
    payload_.reserve(padded);
    for (const auto sample : samples) payload_.push_back(encode(sample, codec));
    payload_.resize(padded, encode(0, codec));
    silence_.assign(frame_samples, encode(0, codec));
}

std::span<const std::uint8_t> Prompt::frame(std::size_t n) const {
    if (n >= frames()) throw Error(Errc::invalid, fmt::format("the prompt has no frame {}", n));
    return {payload_.data() + n * frame_samples, frame_samples};
}

}  // namespace ictcore::sip

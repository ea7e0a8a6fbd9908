// Telephony audio conversion: libsndfile decodes WAV/MP3, the channels are averaged,
// libsamplerate resamples to 8 kHz and libsndfile writes 16-bit PCM WAV, one block at a time.
#include "media/audio.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>
#include <samplerate.h>
#include <sndfile.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string_view>
#include <vector>

namespace ictcore::media {

namespace {

constexpr int telephony_rate = 8000;
// Frames per block read from the input; also the output buffer size. The three buffers stay
// at this size whatever the file length.
constexpr sf_count_t block_frames = 4096;
// An MP3 announces its length from the Xing/LAME header or, without one, estimates it from
// the file size and the first frame's bitrate; a VBR file without that header can decode a
// little short of the estimate, so only a larger shortfall counts as truncation.
constexpr double mp3_shortfall_tolerance = 0.10;

struct SndfileCloser {
    void operator()(SNDFILE* f) const noexcept { sf_close(f); }
};
using Sndfile = std::unique_ptr<SNDFILE, SndfileCloser>;

struct SrcDeleter {
    void operator()(SRC_STATE* s) const noexcept { src_delete(s); }
};
using Resampler = std::unique_ptr<SRC_STATE, SrcDeleter>;

[[noreturn]] void corrupt(const std::filesystem::path& input, std::string_view why) {
    throw Error(Errc::invalid,
                fmt::format("audio file {} is truncated or corrupt: {}", input.filename().string(), why));
}

[[noreturn]] void unsupported(std::string_view why) { throw Error(Errc::unsupported_media, std::string(why)); }

std::uint32_t read_u32(const unsigned char* p, bool big_endian) {
    if (big_endian) {
        return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
    }
    return std::uint32_t{p[3]} << 24 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[1]} << 8 | p[0];
}

// WAVE format tags whose encodings we accept (the subtype is checked again after libsndfile
// opened the file, which resolves the extensible tag's sub-format).
bool accepted_wave_tag(std::uint16_t tag) {
    switch (tag) {
        case 0x0001:  // PCM
        case 0x0003:  // IEEE float
        case 0x0006:  // A-law
        case 0x0007:  // µ-law
        case 0xFFFE:  // WAVE_FORMAT_EXTENSIBLE
            return true;
        default:
            return false;
    }
}

// Walks the RIFF chunks up to "data". libsndfile silently clamps a data chunk that runs past
// the end of the file to the bytes that are there, so a cut-off upload would otherwise become
// a shorter prompt without any error; the announced size is only visible here.
void check_wav_layout(std::ifstream& in, const std::filesystem::path& input, bool big_endian, std::uint64_t file_size) {
    constexpr int max_chunks = 1024;  // a real WAV has a handful; this bounds hostile input
    bool fmt_seen = false;
    std::uint64_t pos = 12;  // after "RIFF" <size> "WAVE"
    for (int i = 0; i < max_chunks && pos + 8 <= file_size; ++i) {
        std::array<unsigned char, 10> head{};
        in.seekg(static_cast<std::streamoff>(pos));
        if (!in.read(reinterpret_cast<char*>(head.data()), 8)) corrupt(input, "unreadable chunk header");
        const std::string_view id(reinterpret_cast<const char*>(head.data()), 4);
        const std::uint32_t size = read_u32(head.data() + 4, big_endian);
        if (id == "fmt ") {
            if (size < 2 || !in.read(reinterpret_cast<char*>(head.data() + 8), 2)) corrupt(input, "short fmt chunk");
            const auto tag = static_cast<std::uint16_t>(big_endian ? head[8] << 8 | head[9] : head[9] << 8 | head[8]);
            if (!accepted_wave_tag(tag)) unsupported(fmt::format("WAV encoding 0x{:04x} is not supported", tag));
            fmt_seen = true;
        } else if (id == "data") {
            if (!fmt_seen) corrupt(input, "data chunk before fmt chunk");
            // 0 and 0xFFFFFFFF are what streaming writers leave when the length is unknown.
            const bool announced = size != 0 && size != 0xFFFFFFFF;
            if (announced && pos + 8 + size > file_size) {
                corrupt(input, fmt::format("the data chunk announces {} bytes, the file holds {}", size,
                                           file_size - (pos + 8)));
            }
            return;
        }
        pos += 8 + std::uint64_t{size} + (size & 1);  // chunks are padded to even sizes
    }
    corrupt(input, "no data chunk");
}

struct Probe {
    std::uint64_t size = 0;
    bool riff_wave = false;
};

// Reads the file ourselves before libsndfile does: libsndfile reports why sf_open failed only
// through a process-wide error variable, which concurrent conversions would race on.
Probe probe(const std::filesystem::path& input) {
    std::error_code ec;
    Probe p;
    p.size = std::filesystem::file_size(input, ec);
    std::ifstream in(input, std::ios::binary);
    if (ec || !in) throw Error(Errc::internal, "cannot read " + input.string());
    if (p.size == 0) unsupported("the audio file is empty");
    std::array<unsigned char, 12> head{};
    in.read(reinterpret_cast<char*>(head.data()), head.size());
    const std::string_view magic(reinterpret_cast<const char*>(head.data()), static_cast<std::size_t>(in.gcount()));
    const bool riff = magic.starts_with("RIFF"), rifx = magic.starts_with("RIFX");
    if ((riff || rifx) && magic.size() == 12 && magic.substr(8) == "WAVE") {
        p.riff_wave = true;
        in.clear();
        check_wav_layout(in, input, rifx, p.size);
    }
    return p;
}

bool accepted_wav_subtype(int subtype) {
    switch (subtype) {
        case SF_FORMAT_PCM_U8:
        case SF_FORMAT_PCM_16:
        case SF_FORMAT_PCM_24:
        case SF_FORMAT_PCM_32:
        case SF_FORMAT_FLOAT:
        case SF_FORMAT_DOUBLE:
        case SF_FORMAT_ULAW:
        case SF_FORMAT_ALAW:
            return true;
        default:
            return false;
    }
}

// "wav" or "mp3" for the formats we accept; throws unsupported_media for the others.
std::string format_name(int format) {
    const int major = format & SF_FORMAT_TYPEMASK, subtype = format & SF_FORMAT_SUBMASK;
    if (major == SF_FORMAT_WAV || major == SF_FORMAT_WAVEX) {
        if (!accepted_wav_subtype(subtype)) unsupported("this WAV encoding is not supported");
        return "wav";
    }
    if (major == SF_FORMAT_MPEG && subtype == SF_FORMAT_MPEG_LAYER_III) return "mp3";
    unsupported("only WAV and MP3 audio are accepted");
}

// Averages the channels of `frames` interleaved frames into `mono`.
void mix_down(const std::vector<float>& interleaved, std::size_t channels, sf_count_t frames,
              std::vector<float>& mono) {
    for (std::size_t f = 0; f < static_cast<std::size_t>(frames); ++f) {
        float sum = 0;
        for (std::size_t c = 0; c < channels; ++c) sum += interleaved[f * channels + c];
        mono[f] = sum / static_cast<float>(channels);
    }
}

// Whether fewer frames were decoded than the file announced.
bool decoded_short(const std::string& format, sf_count_t announced, sf_count_t decoded) {
    if (format != "mp3") return decoded != announced;
    // SF_COUNT_MAX: mpg123 could not tell the length at all, so there is nothing to compare.
    if (announced == SF_COUNT_MAX) return false;
    return static_cast<double>(decoded) < static_cast<double>(announced) * (1 - mp3_shortfall_tolerance);
}

}  // namespace

AudioInfo convert_to_telephony_wav(const std::filesystem::path& input, const std::filesystem::path& output) {
    const Probe probed = probe(input);

    SF_INFO in_info{};
    Sndfile in(sf_open(input.c_str(), SFM_READ, &in_info));
    if (!in) {
        // The header walk above found a well-formed WAV layout with an accepted encoding, so
        // libsndfile refusing it means the contents are broken.
        if (probed.riff_wave) corrupt(input, "libsndfile cannot open it");
        unsupported("only WAV and MP3 audio are accepted");
    }
    AudioInfo info;
    info.format = format_name(in_info.format);
    info.sample_rate = in_info.samplerate;
    info.channels = in_info.channels;
    if (info.channels < 1 || info.channels > 2) {
        unsupported(fmt::format("audio with {} channels is not supported (mono or stereo only)", info.channels));
    }
    const double ratio = static_cast<double>(telephony_rate) / info.sample_rate;
    if (info.sample_rate <= 0 || !src_is_valid_ratio(ratio)) {
        unsupported(fmt::format("a sample rate of {} Hz is not supported", info.sample_rate));
    }

    int src_error = 0;
    Resampler resampler(src_new(SRC_SINC_MEDIUM_QUALITY, 1, &src_error));
    if (!resampler) throw Error(Errc::internal, fmt::format("cannot create a resampler: {}", src_strerror(src_error)));

    SF_INFO out_info{};
    out_info.samplerate = telephony_rate;
    out_info.channels = 1;
    out_info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    Sndfile out(sf_open(output.c_str(), SFM_WRITE, &out_info));
    if (!out) throw Error(Errc::internal, "cannot write " + output.string());
    // The resampler's ringing can overshoot full scale slightly; clip instead of wrapping.
    sf_command(out.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);

    const auto channels = static_cast<std::size_t>(info.channels);
    std::vector<float> interleaved(static_cast<std::size_t>(block_frames) * channels);
    std::vector<float> mono(static_cast<std::size_t>(block_frames));
    std::vector<float> resampled(static_cast<std::size_t>(block_frames));

    SRC_DATA data{};
    data.src_ratio = ratio;
    sf_count_t frames_read = 0, frames_written = 0, block = 0, used = 0;
    bool end_of_input = false;
    for (;;) {
        if (used == block && !end_of_input) {
            block = sf_readf_float(in.get(), interleaved.data(), block_frames);
            if (block <= 0) {
                block = 0;
                end_of_input = true;
            }
            used = 0;
            frames_read += block;
            mix_down(interleaved, channels, block, mono);
        }
        data.data_in = mono.data() + used;
        data.input_frames = static_cast<long>(block - used);
        data.data_out = resampled.data();
        data.output_frames = static_cast<long>(resampled.size());
        data.end_of_input = end_of_input ? 1 : 0;
        if (const int rc = src_process(resampler.get(), &data); rc != 0) {
            throw Error(Errc::internal, fmt::format("resampling failed: {}", src_strerror(rc)));
        }
        used += data.input_frames_used;
        if (data.output_frames_gen > 0) {
            if (sf_writef_float(out.get(), resampled.data(), data.output_frames_gen) != data.output_frames_gen) {
                throw Error(Errc::internal, "cannot write " + output.string());
            }
            frames_written += data.output_frames_gen;
        }
        // With the input exhausted, the resampler drains its delay line; nothing more is done.
        if (end_of_input && data.output_frames_gen == 0) break;
    }

    // A decoder error ends sf_readf_float early like the end of the file does; tell them apart.
    if (const int err = sf_error(in.get()); err != SF_ERR_NO_ERROR) corrupt(input, sf_error_number(err));
    if (decoded_short(info.format, in_info.frames, frames_read)) {
        corrupt(input, fmt::format("{} frames announced, {} decoded", in_info.frames, frames_read));
    }
    if (frames_read == 0) throw Error(Errc::invalid, "the audio file holds no audio");

    if (sf_close(out.release()) != 0) throw Error(Errc::internal, "cannot write " + output.string());
    info.seconds = static_cast<double>(frames_written) / telephony_rate;
    return info;
}

}  // namespace ictcore::media

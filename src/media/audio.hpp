// Audio conversion to the telephony format (8 kHz mono 16-bit PCM WAV) with libsndfile and
// libsamplerate, so every recording or prompt the library keeps plays on any channel.
#pragma once

#include <filesystem>
#include <string>

namespace ictcore::media {

struct AudioInfo {
    double seconds = 0;   // duration of the converted audio
    int sample_rate = 0;  // of the input
    int channels = 0;     // of the input
    std::string format;   // of the input: "wav" or "mp3"
};

// Reads `input` — WAV (PCM 8/16/24/32-bit, float or double, µ-law, A-law; any sample rate;
// mono or stereo) or MP3 (MPEG-1/2 layer III) — and writes `output` as 8 kHz mono 16-bit PCM
// WAV: channels are averaged, then resampled with libsamplerate (SRC_SINC_MEDIUM_QUALITY) in
// fixed-size blocks, so memory stays flat however long the file is.
//
// Writes to `output` only (the caller renames it into place); after a failure `output` may
// hold a partial file, which the caller discards (MediaStore::Temp does).
// Throws Error(Errc::unsupported_media) when the content is not WAV/MP3, uses another WAV
// encoding, has more than 2 channels or an unusable sample rate; Error(Errc::invalid) when the
// file is truncated or corrupt (a WAV data chunk running past the end of the file, fewer
// frames decoded than announced, a decoder error) or holds no audio; Error(Errc::internal)
// when `input` cannot be read or `output` cannot be written.
AudioInfo convert_to_telephony_wav(const std::filesystem::path& input, const std::filesystem::path& output);

}  // namespace ictcore::media

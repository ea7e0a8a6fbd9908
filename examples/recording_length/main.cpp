// recording_length: the library without the server. Writes a 3-second 44.1 kHz stereo WAV
// (or takes a WAV/MP3 path as argument), uploads it as a recording, and prints the length of
// the converted telephony audio. Exits 0 when a generated file comes back 3 s long.
#include <ictcore/ictcore.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include <unistd.h>

namespace {

void put_le(std::string& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

std::string tone_wav(std::uint32_t rate, std::uint32_t channels, std::uint32_t seconds) {
    const std::uint32_t frames = rate * seconds;
    std::string w = "RIFF";
    put_le(w, 36 + frames * channels * 2, 4);
    w += "WAVEfmt ";
    for (auto [v, n] : {std::pair{16u, 4},
                        {1u, 2},
                        {channels, 2},
                        {rate, 4},
                        {rate * channels * 2, 4},
                        {channels * 2, 2},
                        {16u, 2}}) {
        put_le(w, v, n);
    }
    w += "data";
    put_le(w, frames * channels * 2, 4);
    for (std::uint32_t i = 0; i < frames; ++i) {
        const auto s = static_cast<std::int16_t>(8000 * std::sin(2 * 3.14159265358979 * 440.0 * i / rate));
        for (std::uint32_t c = 0; c < channels; ++c) put_le(w, static_cast<std::uint16_t>(s), 2);
    }
    return w;
}

}  // namespace

int main(int argc, char** argv) {
    const auto dir =
        std::filesystem::temp_directory_path() / ("ictcore-recording-example-" + std::to_string(::getpid()));
    std::string bytes;
    if (argc > 1) {
        std::ifstream in(argv[1], std::ios::binary);
        bytes.assign(std::istreambuf_iterator<char>(in), {});
    } else {
        bytes = tone_wav(44100, 2, 3);
    }
    int status = 1;
    try {
        ictcore::Options options;
        options.data_dir = dir;
        options.admin_password = "example-admin";
        options.password_cost = ictcore::PasswordCost::minimal;
        ictcore::Core core(options);
        const auto admin = core.auth().from_password("admin", "example-admin");

        ictcore::Recording recording;
        recording.name = "welcome prompt";
        const auto id = core.recordings().create(admin, recording);
        const auto stored = core.recordings().put_media(admin, id, {bytes, "", argc > 1 ? argv[1] : "tone.wav"});
        const auto file = core.recordings().media(admin, id);
        std::cout << "recording " << id << " (" << stored.type.value_or("?") << "): " << stored.length
                  << " s, telephony WAV " << file.size << " bytes at " << file.path << "\n";
        status = (argc > 1 || std::fabs(stored.length - 3.0) < 0.01) ? 0 : 1;
    } catch (const ictcore::Error& e) {
        std::cerr << "recording_length: " << e.what() << "\n";
    }
    std::filesystem::remove_all(dir);
    return status;
}

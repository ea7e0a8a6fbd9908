// bench-media-convert: how long media conversions take and how much memory they need.
// Converts a generated 60-second 44.1 kHz stereo 16-bit WAV to the telephony format, and a
// generated 10-page PDF to a fax TIFF, and prints the times and peak RSS (Ghostscript runs as
// a child process: its peak is reported separately). No target yet (issue: "print the
// figures"); run by hand, never in CI.
//
//   bench-media-convert [--seconds N] [--dir DIR]
#include "media/audio.hpp"
#include "media/fax.hpp"
#include "pdf_writer.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {

void put_le(std::ofstream& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.put(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// Streams the WAV to disk so the generator itself does not inflate the peak RSS.
void write_tone_wav(const std::filesystem::path& path, std::uint32_t rate, std::uint32_t channels,
                    std::uint32_t seconds) {
    std::ofstream out(path, std::ios::binary);
    const std::uint32_t frames = rate * seconds;
    const std::uint32_t data_bytes = frames * channels * 2;
    out << "RIFF";
    put_le(out, 36 + data_bytes, 4);
    out << "WAVEfmt ";
    put_le(out, 16, 4);
    put_le(out, 1, 2);
    put_le(out, channels, 2);
    put_le(out, rate, 4);
    put_le(out, rate * channels * 2, 4);
    put_le(out, channels * 2, 2);
    put_le(out, 16, 2);
    out << "data";
    put_le(out, data_bytes, 4);
    for (std::uint32_t i = 0; i < frames; ++i) {
        const auto s = static_cast<std::int16_t>(9000 * std::sin(2 * M_PI * 440.0 * i / rate) +
                                                 3000 * std::sin(2 * M_PI * 1230.0 * i / rate));
        for (std::uint32_t c = 0; c < channels; ++c) put_le(out, static_cast<std::uint16_t>(s), 2);
    }
}

// A PDF of `pages` A4 pages, each with a line of text and a dozen filled bars.
std::string make_pdf(int pages) {
    std::vector<std::string> contents;
    for (int p = 0; p < pages; ++p) {
        std::string content = "BT /F1 24 Tf 72 760 Td (Fax page " + std::to_string(p + 1) + ") Tj ET ";
        for (int r = 0; r < 12; ++r) {
            content += std::to_string(72 + r * 30) + " " + std::to_string(100 + r * 40) + " 200 20 re f ";
        }
        contents.push_back(content);
    }
    return ictcore::test::pdf_of_pages(contents);
}

double children_peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_CHILDREN, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
    std::uint32_t seconds = 60;
    std::filesystem::path base = std::filesystem::temp_directory_path();
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--seconds")
            seconds = static_cast<std::uint32_t>(std::stoul(argv[i + 1]));
        else if (arg == "--dir")
            base = argv[i + 1];
    }
    const auto dir = base / ("ictcore-bench-media-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    int status = 0;
    try {
        const auto wav = dir / "in.wav";
        write_tone_wav(wav, 44100, 2, seconds);
        const double rss_before = peak_rss_mb();
        const auto start = std::chrono::steady_clock::now();
        const auto info = ictcore::media::convert_to_telephony_wav(wav, dir / "out.wav");
        const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::cout << "wav_seconds=" << info.seconds << " input_mb=" << std::filesystem::file_size(wav) / 1e6
                  << " convert_seconds=" << elapsed << " realtime_factor=" << info.seconds / elapsed
                  << " peak_rss_mb_before=" << rss_before << " peak_rss_mb=" << peak_rss_mb() << "\n";

        const auto pdf = dir / "in.pdf";
        std::ofstream(pdf, std::ios::binary) << make_pdf(10);
        const auto pdf_start = std::chrono::steady_clock::now();
        const auto fax = ictcore::media::convert_to_fax(pdf, "pdf", dir / "out.tif", dir / "out.pdf");
        const double pdf_elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - pdf_start).count();
        std::cout << "pdf_pages=" << fax.pages << " fax_width=" << fax.width << " convert_seconds=" << pdf_elapsed
                  << " seconds_per_page=" << pdf_elapsed / fax.pages
                  << " tiff_kb=" << std::filesystem::file_size(dir / "out.tif") / 1024
                  << " peak_rss_mb=" << peak_rss_mb() << " ghostscript_peak_rss_mb=" << children_peak_rss_mb() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "bench-media-convert: " << e.what() << "\n";
        status = 1;
    }
    std::filesystem::remove_all(dir);
    return status;
}

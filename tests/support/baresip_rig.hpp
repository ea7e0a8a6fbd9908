// BaresipRig: baresip (Debian baresip-core) as an auto-answering softphone for one test, with
// no audio hardware: it sends silence (aufile) and records what it receives (sndfile), so a
// test can check the audio our gateway played. One directory per rig holds its config,
// recordings and output (baresip.out).
#pragma once

#include "sipp_rig.hpp"  // free_udp_port, process_bound_udp

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace ictcore::test {

class BaresipRig {
public:
    // Answers calls to sip:<user>@127.0.0.1:port() (baresip refuses other users with 404).
    explicit BaresipRig(std::filesystem::path dir, std::string user = "ictcore")
        : dir_(std::move(dir)), user_(std::move(user)) {
        std::filesystem::create_directories(dir_ / "rec");
        write_silence(dir_ / "silence.wav", 30);
        {
            std::ofstream accounts(dir_ / "accounts");
            accounts << "<sip:" << user_ << "@127.0.0.1>;regint=0;answermode=auto\n";
        }
        // A port taken between our probe and baresip's bind makes it exit: start again elsewhere.
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (start()) return;
        }
        throw std::runtime_error("baresip did not start: " + output());
    }
    ~BaresipRig() { stop(); }
    BaresipRig(const BaresipRig&) = delete;
    BaresipRig& operator=(const BaresipRig&) = delete;

    int port() const { return port_; }
    const std::string& user() const { return user_; }
    const std::filesystem::path& dir() const { return dir_; }
    std::string output() const { return read_text(dir_ / "baresip.out"); }

    // The recording of what baresip received in the (first) call, once that call has ended and
    // the file is complete; empty when there is none within `within`.
    std::filesystem::path received_recording(std::chrono::milliseconds within = std::chrono::seconds(10)) const {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (;;) {
            if (output().find(" terminated (duration") != std::string::npos) {
                std::error_code ec;
                for (const auto& entry : std::filesystem::directory_iterator(dir_ / "rec", ec)) {
                    const auto name = entry.path().filename().string();
                    if (name.ends_with("-dec.wav") && wav_complete(entry.path())) return entry.path();
                }
            }
            if (std::chrono::steady_clock::now() >= deadline) return {};
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    // SIGTERM (baresip exits 0 and closes its recordings), SIGKILL after 5 s.
    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        int status = 0;
        for (int i = 0; i < 500 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(10000);
        if (::waitpid(pid_, &status, WNOHANG) == 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
        }
        pid_ = -1;
    }

private:
    static std::string read_text(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }

    // libsndfile writes the final RIFF size when it closes the file: until then the recording
    // may still grow.
    static bool wav_complete(const std::filesystem::path& path) {
        std::ifstream in(path, std::ios::binary);
        unsigned char header[8];
        if (!in.read(reinterpret_cast<char*>(header), sizeof header)) return false;
        const std::uint32_t riff_size = header[4] | header[5] << 8 | header[6] << 16 | std::uint32_t(header[7]) << 24;
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        return !ec && size > 44 && riff_size + 8 == size;
    }

    // baresip's audio source: aufile needs the codec's own rate and channels (8 kHz mono).
    static void write_silence(const std::filesystem::path& path, int seconds) {
        const std::uint32_t data_bytes = static_cast<std::uint32_t>(seconds) * 8000 * 2;
        std::ofstream out(path, std::ios::binary);
        const auto u32 = [&](std::uint32_t v) {
            for (int i = 0; i < 4; ++i) out.put(static_cast<char>(v >> (8 * i) & 0xff));
        };
        const auto u16 = [&](std::uint16_t v) {
            out.put(static_cast<char>(v & 0xff));
            out.put(static_cast<char>(v >> 8));
        };
        out.write("RIFF", 4);
        u32(36 + data_bytes);
        out.write("WAVEfmt ", 8);
        u32(16);
        u16(1);  // PCM
        u16(1);  // mono
        u32(8000);
        u32(16000);  // byte rate
        u16(2);      // block align
        u16(16);     // bits per sample
        out.write("data", 4);
        u32(data_bytes);
        const std::vector<char> zeros(data_bytes, 0);
        out.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }

    void write_config() const {
        std::ofstream config(dir_ / "config");
        const auto d = dir_.string();
        // jitter_buffer_delay 0-0: with the default 5-10 the last 100 ms of our prompt stay in
        // the jitter buffer when our RTP stops and never reach the recording.
        // net_interface 127.0.0.1: otherwise baresip offers the address of eth0 in its SDP.
        config << "poll_method\tepoll\n"
               << "sip_listen\t127.0.0.1:" << port_ << "\n"
               << "call_local_timeout\t120\n"
               << "call_max_calls\t4\n"
               << "audio_player\taubridge,play\n"
               << "audio_source\taufile," << d << "/silence.wav\n"
               << "audio_alert\taubridge,alert\n"
               << "rtp_ports\t30000-39999\n"
               << "module_path\t/usr/lib/baresip/modules\n"
               << "module\tg711.so\n"
               << "module\taubridge.so\n"
               << "module\taufile.so\n"
               << "module\tsndfile.so\n"
               << "module_tmp\taccount.so\n"
               << "module_app\tmenu.so\n"  // answermode=auto needs the menu module
               << "snd_path\t" << d << "/rec\n"
               << "net_interface\t127.0.0.1\n"
               << "jitter_buffer_delay\t0-0\n";
    }

    bool start() {
        port_ = free_udp_port();
        write_config();
        pid_ = spawn_logged({"/usr/bin/baresip", "-f", dir_.string()}, dir_ / "baresip.out");
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return false;
            }
            if (output().find("baresip is ready.") != std::string::npos && process_bound_udp(pid_, port_)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop();
        throw std::runtime_error("baresip was not ready within 10 s: " + output());
    }

    std::filesystem::path dir_;
    std::string user_;
    pid_t pid_ = -1;
    int port_ = 0;
};

}  // namespace ictcore::test

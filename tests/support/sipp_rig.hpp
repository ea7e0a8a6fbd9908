// SippRig: SIPp (Debian sip-tester) as the callee of one test, running one of the UAS
// scenarios in tests/rigs/sipp/ in the foreground as a child process. Its exit code is the
// verdict on the SIP side (0: every call went as the scenario says); its message and error
// logs land in the test's directory for failure messages.
// Needs ICTCORE_TEST_RIGS (the tests/rigs directory).
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef ICTCORE_TEST_RIGS
#error "define ICTCORE_TEST_RIGS as the tests/rigs directory"
#endif

namespace ictcore::test {

// A UDP port on 127.0.0.1 that was free a moment ago (another process may take it before the
// caller binds it: callers retry). With `also_free_offset`, port + offset was free too.
inline int free_udp_port(int also_free_offset = 0) {
    for (int attempt = 0; attempt < 50; ++attempt) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) throw std::runtime_error("socket failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        int port = 0;
        if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
            port = ntohs(addr.sin_port);
        }
        bool ok = port != 0;
        if (ok && also_free_offset != 0) {
            ok = port + also_free_offset < 65536;
            if (ok) {
                const int other = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                sockaddr_in second = addr;
                second.sin_port = htons(static_cast<std::uint16_t>(port + also_free_offset));
                ok = other >= 0 && ::bind(other, reinterpret_cast<sockaddr*>(&second), sizeof second) == 0;
                if (other >= 0) ::close(other);
            }
        }
        ::close(fd);
        if (ok) return port;
    }
    throw std::runtime_error("no free UDP port");
}

// True when process `pid` owns a UDP socket bound to 127.0.0.1:`port` (its inode from
// /proc/net/udp among the process's descriptors), so a port taken by someone else in the
// meantime does not pass for ours.
inline bool process_bound_udp(pid_t pid, int port) {
    char local[32];
    std::snprintf(local, sizeof local, "0100007F:%04X", port);
    std::ifstream table("/proc/net/udp");
    std::string line;
    std::vector<std::string> inodes;
    std::getline(table, line);  // header
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local_address, remote, state, queues, timer, retransmits, uid, timeout, inode;
        fields >> slot >> local_address >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
        if (local_address == local) inodes.push_back("socket:[" + inode + "]");
    }
    if (inodes.empty()) return false;
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
        std::error_code link_ec;
        const auto target = std::filesystem::read_symlink(fd.path(), link_ec).string();
        for (const auto& inode : inodes)
            if (target == inode) return true;
    }
    return false;
}

// Starts `argv` as a child with stdin from /dev/null and stdout and stderr into `log`, in
// `workdir` when given. Returns its pid; the child exits 126/127 when it cannot start.
inline pid_t spawn_logged(std::vector<std::string> argv, const std::filesystem::path& log,
                          const std::filesystem::path& workdir = {}) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        if (!workdir.empty() && ::chdir(workdir.c_str()) != 0) ::_exit(126);
        const int null_in = ::open("/dev/null", O_RDONLY);
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (null_in < 0 || out < 0) ::_exit(126);
        ::dup2(null_in, STDIN_FILENO);
        ::dup2(out, STDOUT_FILENO);
        ::dup2(out, STDERR_FILENO);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(a.data());
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

struct SippOptions {
    int calls = 1;                             // -m: SIPp exits after this many calls
    std::chrono::seconds timeout{30};          // -timeout: SIPp gives up (exit code 255) after this
    std::vector<std::string> extra_args = {};  // appended to the command line
};

class SippRig {
public:
    // `scenario`: a file name in tests/rigs/sipp without ".xml" (e.g. "uas_dtmf"). SIPp runs in
    // `dir`, where it writes <scenario>_<pid>_messages.log / _errors.log and sipp.out.
    SippRig(std::filesystem::path dir, std::string scenario, SippOptions options = {})
        : dir_(std::move(dir)), scenario_(std::move(scenario)), options_(std::move(options)) {
        std::filesystem::create_directories(dir_);
        const auto file = scenario_file();
        if (!std::filesystem::exists(file)) throw std::runtime_error("no SIPp scenario " + file.string());
        // A port taken between our probe and SIPp's bind makes SIPp exit at once (254 or 255):
        // then start again on other ports.
        for (int attempt = 0; attempt < 5; ++attempt) {
            if (start()) return;
        }
        throw std::runtime_error("sipp did not start: " + messages_log());
    }
    ~SippRig() { kill(); }
    SippRig(const SippRig&) = delete;
    SippRig& operator=(const SippRig&) = delete;

    int port() const { return port_; }
    int media_port() const { return media_port_; }
    const std::filesystem::path& dir() const { return dir_; }

    // SIPp's exit code (0: all calls succeeded; 1: some failed; 255: timeout or fatal error),
    // or -1 when it is still running after `within`.
    int wait_exit(std::chrono::milliseconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (;;) {
            if (reap(false)) return *exit_code_;
            if (std::chrono::steady_clock::now() >= deadline) return -1;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    // The SIP messages SIPp saw and sent, its errors and the tail of its screen: for failure
    // messages.
    std::string messages_log() const {
        std::string out;
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
            const auto name = entry.path().filename().string();
            if (name.ends_with("_messages.log") || name.ends_with("_errors.log")) {
                out += "==== " + name + "\n" + read_file(entry.path(), 16000);
            }
        }
        out += "==== sipp.out (tail)\n" + read_file(dir_ / "sipp.out", 2000);
        return out;
    }

    // SIGKILL, for a test that is done with SIPp before it would exit by itself.
    void kill() {
        if (pid_ > 0 && !exit_code_) {
            ::kill(pid_, SIGKILL);
            reap(true);
        }
    }

private:
    std::filesystem::path scenario_file() const {
        return std::filesystem::path(ICTCORE_TEST_RIGS) / "sipp" / (scenario_ + ".xml");
    }

    static std::string read_file(const std::filesystem::path& path, std::size_t tail) {
        std::ifstream in(path, std::ios::binary);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.size() > tail) text = "[...]\n" + text.substr(text.size() - tail);
        return text;
    }

    // Non-blocking (or blocking) waitpid; records the exit code once SIPp is gone.
    bool reap(bool block) {
        if (exit_code_) return true;
        if (pid_ <= 0) return false;
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
        if (r != pid_) return false;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return true;
    }

    bool start() {
        port_ = free_udp_port();
        media_port_ = free_udp_port(2);  // SIPp binds the media port and media port + 2
        exit_code_.reset();
        std::vector<std::string> argv{"/usr/bin/sipp",
                                      "-sf",
                                      scenario_file().string(),
                                      "-i",
                                      "127.0.0.1",
                                      "-p",
                                      std::to_string(port_),
                                      "-mi",
                                      "127.0.0.1",
                                      "-mp",
                                      std::to_string(media_port_),
                                      "-m",
                                      std::to_string(options_.calls),
                                      "-nostdin",
                                      "-timeout",
                                      std::to_string(options_.timeout.count()) + "s",
                                      "-timeout_error",
                                      "-trace_err",
                                      "-trace_msg"};
        argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
        // SIPp writes its logs to the working directory; its screen goes to sipp.out.
        pid_ = spawn_logged(std::move(argv), dir_ / "sipp.out", dir_);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (reap(false)) {
                if (*exit_code_ == 254 || *exit_code_ == 255) return false;  // a port was taken
                throw std::runtime_error("sipp exited with " + std::to_string(*exit_code_) +
                                         " before listening: " + messages_log());
            }
            if (process_bound_udp(pid_, port_) && process_bound_udp(pid_, media_port_)) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        kill();
        throw std::runtime_error("sipp did not bind 127.0.0.1:" + std::to_string(port_) + ": " + messages_log());
    }

    std::filesystem::path dir_;
    std::string scenario_;
    SippOptions options_;
    pid_t pid_ = -1;
    int port_ = 0;
    int media_port_ = 0;
    std::optional<int> exit_code_;
};

}  // namespace ictcore::test

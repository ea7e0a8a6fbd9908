// RigProcess: a real server the tests talk to (tests/rigs/*), started as a child process that
// prints "listening PORT" once ready, and stopped with SIGTERM when the test ends. Rigs that
// take commands (kannel_rig.py) get signals and answer with further stdout lines.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ictcore::test {

class RigProcess {
public:
    explicit RigProcess(std::vector<std::string> argv,
                        std::chrono::milliseconds ready_within = std::chrono::seconds(15)) {
        int out[2];
        if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            ::dup2(out[1], STDOUT_FILENO);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        ::close(out[1]);
        out_ = out[0];
        const auto deadline = std::chrono::steady_clock::now() + ready_within;
        std::string& seen = output_;
        while (port_ == 0) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{out_, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
                stop();
                throw std::runtime_error(argv[0] + " did not report listening: " + seen);
            }
            char buf[256];
            const auto n = ::read(out_, buf, sizeof buf);
            if (n <= 0) {
                stop();
                throw std::runtime_error(argv[0] + " exited before listening: " + seen);
            }
            seen.append(buf, static_cast<std::size_t>(n));
            const auto at = seen.find("listening ");
            if (at != std::string::npos && seen.find('\n', at) != std::string::npos) {
                port_ = std::stoi(seen.substr(at + 10));
                consumed_ = seen.find('\n', at) + 1;
            }
        }
    }
    ~RigProcess() { stop(); }
    RigProcess(const RigProcess&) = delete;
    RigProcess& operator=(const RigProcess&) = delete;

    int port() const { return port_; }

    // Everything the rig printed so far (wait_for_line reads more).
    const std::string& output() const { return output_; }

    void signal(int signum) {
        if (pid_ > 0) ::kill(pid_, signum);
    }

    // Waits for the next stdout line containing `text` (lines before it are passed over);
    // false on timeout or if the rig exits first.
    bool wait_for_line(std::string_view text, std::chrono::milliseconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (;;) {
            for (auto end = output_.find('\n', consumed_); end != std::string::npos;
                 end = output_.find('\n', consumed_)) {
                const bool found =
                    std::string_view(output_).substr(consumed_, end - consumed_).find(text) != std::string_view::npos;
                consumed_ = end + 1;
                if (found) return true;
            }
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            pollfd p{out_, POLLIN, 0};
            if (out_ < 0 || left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
            char buf[256];
            const auto n = ::read(out_, buf, sizeof buf);
            if (n <= 0) return false;
            output_.append(buf, static_cast<std::size_t>(n));
        }
    }

    // SIGTERM, then wait (SIGKILL after 5 s).
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            for (int i = 0; i < 500 && ::waitpid(pid_, &status, WNOHANG) == 0; ++i) ::usleep(10000);
            if (::waitpid(pid_, &status, WNOHANG) == 0) {
                ::kill(pid_, SIGKILL);
                ::waitpid(pid_, &status, 0);
            }
            pid_ = -1;
        }
        if (out_ >= 0) ::close(out_);
        out_ = -1;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    int port_ = 0;
    std::string output_;
    std::size_t consumed_ = 0;  // output_ up to here was matched (or passed over) already
};

}  // namespace ictcore::test

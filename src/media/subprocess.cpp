// Helper programs run with posix_spawnp (no shell) and a deadline; stderr is captured through a
// pipe that is read while the program runs, so a chatty program cannot fill it and stall.
#include "media/subprocess.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

extern char** environ;

namespace ictcore::media {

namespace {

constexpr std::size_t max_stderr = 16 * 1024;

struct Fd {
    int fd = -1;
    Fd() = default;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }
    void reset() noexcept {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

struct SpawnActions {
    posix_spawn_file_actions_t actions;
    SpawnActions() {
        if (posix_spawn_file_actions_init(&actions) != 0) throw Error(Errc::internal, "posix_spawn_file_actions_init");
    }
    SpawnActions(const SpawnActions&) = delete;
    SpawnActions& operator=(const SpawnActions&) = delete;
    ~SpawnActions() { posix_spawn_file_actions_destroy(&actions); }
};

struct SpawnAttr {
    posix_spawnattr_t attr;
    SpawnAttr() {
        if (posix_spawnattr_init(&attr) != 0) throw Error(Errc::internal, "posix_spawnattr_init");
    }
    SpawnAttr(const SpawnAttr&) = delete;
    SpawnAttr& operator=(const SpawnAttr&) = delete;
    ~SpawnAttr() { posix_spawnattr_destroy(&attr); }
};

int exit_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 255;
}

void reap(pid_t pid, int* status) {
    while (::waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
}

// Owns a started child: unless it was waited for, it is killed with its whole process group and
// reaped when the guard goes, whatever ended the wait (time limit, error, exception).
class Child {
public:
    explicit Child(pid_t pid) : pid_(pid) {}
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() { kill(); }
    // The exit status once it has exited, -1 while it runs.
    int poll() {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return exit_status(status);
        }
        if (r < 0 && errno != EINTR) throw Error(Errc::internal, fmt::format("waitpid: {}", std::strerror(errno)));
        return -1;
    }
    void kill() noexcept {
        if (pid_ <= 0) return;
        ::kill(-pid_, SIGKILL);
        int status = 0;
        reap(pid_, &status);
        pid_ = -1;
    }

private:
    pid_t pid_;
};

}  // namespace

int run_program(const std::vector<std::string>& argv, std::chrono::seconds limit, std::string* stderr_text) {
    if (argv.empty()) throw Error(Errc::internal, "run_program: empty argument vector");
    const std::string& program = argv.front();
    if (stderr_text) stderr_text->clear();

    // O_CLOEXEC on both ends: a program spawned concurrently by another thread must not
    // inherit this pipe, or our read would not see end-of-file until that one exits too.
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) throw Error(Errc::internal, fmt::format("pipe: {}", std::strerror(errno)));
    Fd read_end(ends[0]), write_end(ends[1]);

    SpawnActions actions;
    posix_spawn_file_actions_addopen(&actions.actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions.actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions.actions, write_end.fd, 2);

    // Its own process group, so a timeout kills whatever it started too; default signal
    // dispositions and an empty mask, since a server ignoring SIGPIPE would otherwise pass
    // that on through exec.
    SpawnAttr attr;
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setpgroup(&attr.attr, 0);
    posix_spawnattr_setsigmask(&attr.attr, &empty);
    posix_spawnattr_setsigdefault(&attr.attr, &defaults);
    posix_spawnattr_setflags(&attr.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);

    pid_t pid = -1;
    // glibc's posix_spawnp reports a failed exec (ENOENT, EACCES) as its return value.
    if (const int rc = posix_spawnp(&pid, program.c_str(), &actions.actions, &attr.attr, args.data(), environ);
        rc != 0) {
        if (rc == ENOENT) throw Error(Errc::internal, fmt::format("{} is not installed", program));
        throw Error(Errc::internal, fmt::format("cannot run {}: {}", program, std::strerror(rc)));
    }
    Child child(pid);
    write_end.reset();

    const auto deadline = std::chrono::steady_clock::now() + limit;
    auto remaining_ms = [&] {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        return static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, left.count()));
    };
    auto timed_out = [&] {
        child.kill();
        return Error(Errc::failed, fmt::format("{} timed out after {} s", program, limit.count()));
    };

    // Read stderr until end-of-file (the program and everything it started closed it).
    char buf[4096];
    for (;;) {
        pollfd p{read_end.fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, remaining_ms());
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) throw Error(Errc::internal, fmt::format("poll: {}", std::strerror(errno)));
        if (ready == 0) throw timed_out();
        const ssize_t n = ::read(read_end.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (stderr_text && stderr_text->size() < max_stderr) {
            stderr_text->append(buf, std::min(static_cast<std::size_t>(n), max_stderr - stderr_text->size()));
        }
    }

    // It may still be running after closing stderr; poll for its exit until the deadline.
    for (;;) {
        if (const int status = child.poll(); status >= 0) return status;
        if (remaining_ms() == 0) throw timed_out();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace ictcore::media

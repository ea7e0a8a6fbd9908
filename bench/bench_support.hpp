// Helpers shared by the benchmark programs: an fsync/fdatasync counter, process and thread
// CPU, peak RSS and number formatting. Include from exactly one source file of a benchmark
// executable built with ENABLE_EXPORTS (it defines the exported fsync wrappers).
#pragma once

#include <dlfcn.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

// ---- fsync counter ------------------------------------------------------------------------
// SQLite (a shared library) calls fdatasync()/fsync() once per WAL commit with
// synchronous=FULL, plus a few per checkpoint. The executable exports these two (CMake
// ENABLE_EXPORTS), so the dynamic linker binds SQLite's calls here: counting them estimates
// how many commits the store's group commit made, without touching the store.
namespace {
std::atomic<std::int64_t> sync_calls{0};  // fdatasync/fsync calls so far

template <class Fn>
Fn next_symbol(const char* name) {
    return reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, name));
}

std::atomic<std::int64_t> sync_ns{0};  // time spent in them
std::atomic<pid_t> sync_tid{0};        // the thread that syncs: the store's writer

int timed_sync(int (*real)(int), int fd) {
    const auto start = std::chrono::steady_clock::now();
    const int rc = real(fd);
    sync_ns.fetch_add(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count(),
        std::memory_order_relaxed);
    sync_calls.fetch_add(1, std::memory_order_relaxed);
    sync_tid.store(::gettid(), std::memory_order_relaxed);
    return rc;
}
}  // namespace

extern "C" int fdatasync(int fd) {
    static const auto real = next_symbol<int (*)(int)>("fdatasync");
    return timed_sync(real, fd);
}

extern "C" int fsync(int fd) {
    static const auto real = next_symbol<int (*)(int)>("fsync");
    return timed_sync(real, fd);
}

namespace bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// /proc/self/status VmHWM (KiB) in MB (10^6 bytes), as bench/run.sh reports memory.
inline double peak_rss_mb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) * 1024.0 / 1e6;
    }
    return -1;
}

// CPU seconds (user + system) of each thread of the process, by thread id.
inline std::map<pid_t, double> thread_cpu() {
    std::map<pid_t, double> out;
    static const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
        std::ifstream in(entry.path() / "stat");
        std::string stat;
        std::getline(in, stat);
        const auto paren = stat.rfind(')');
        if (paren == std::string::npos) continue;
        std::istringstream fields(stat.substr(paren + 2));
        std::string field;
        double utime = 0, stime = 0;
        for (int i = 3; fields >> field; ++i) {  // field 3 is the state
            if (i == 14) utime = std::stod(field);
            if (i == 15) {
                stime = std::stod(field);
                break;
            }
        }
        out[static_cast<pid_t>(std::stol(entry.path().filename().string()))] = (utime + stime) / tick;
    }
    return out;
}

inline double thread_cpu_now() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

inline double process_cpu() {
    rusage usage{};
    ::getrusage(RUSAGE_SELF, &usage);
    auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return secs(usage.ru_utime) + secs(usage.ru_stime);
}

inline int thread_count() {
    int n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) ++n;
    return n;
}

inline std::string num(double x) {
    std::string s = std::to_string(static_cast<long long>(std::llround(x)));
    for (int i = static_cast<int>(s.size()) - 3; i > (s[0] == '-' ? 1 : 0); i -= 3) s.insert(i, ",");
    return s;
}

inline std::string fixed(double x, int digits) {
    std::ostringstream out;
    out.setf(std::ios::fixed);
    out.precision(digits);
    out << x;
    return out.str();
}

// CPU seconds used since `before` (a thread_cpu() sample) by the store's writer (the thread
// that syncs) and by the busiest other thread that outlived the run, not counting the caller.
struct CpuSplit {
    double writer = 0;
    double other = 0;
};
inline CpuSplit cpu_since(const std::map<pid_t, double>& before) {
    CpuSplit split;
    for (const auto& [tid, cpu] : thread_cpu()) {
        const auto it = before.find(tid);
        if (it == before.end()) continue;
        const double used = cpu - it->second;
        if (tid == sync_tid.load())
            split.writer = used;
        else if (tid != ::gettid())
            split.other = std::max(split.other, used);
    }
    return split;
}

// CSV lines of `n` numbered contacts ("+14150000007,Bench7"), for a group import.
inline std::string numbered_contacts_csv(std::int64_t n) {
    std::string csv;
    csv.reserve(static_cast<std::size_t>(n) * 24);
    for (std::int64_t i = 0; i < n; ++i) {
        const std::string digits = std::to_string(i);
        csv +=
            "+1415" + std::string(digits.size() < 7 ? 7 - digits.size() : 0, '0') + digits + ",Bench" + digits + "\n";
    }
    return csv;
}

inline std::string verdict(bool met) { return met ? "MET" : "NOT MET"; }

// Forgets the peak RSS so far: VmHWM restarts from the current RSS (Linux clear_refs 5).
inline bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

// A fresh directory under `parent`, named after `prefix`.
inline std::filesystem::path make_scratch_dir(const std::filesystem::path& parent, const std::string& prefix) {
    std::string pattern = (parent / (prefix + "-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr)
        throw std::runtime_error("cannot create a directory under " + parent.string());
    return pattern;
}

}  // namespace bench

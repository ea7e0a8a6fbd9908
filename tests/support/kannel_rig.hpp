// KannelRig: a real Kannel (bearerbox + smsbox + fakesmsc, tests/rigs/kannel_rig.py) for one
// test. It gives the sendsms port, the MTs that reached the SMSCs (DIR/mt.jsonl), MO
// injection (DIR/mo.in) and stop/start of Kannel on the same ports. The rig's header comment
// says how the test SMSC "http1" answers each destination and which DLRs Kannel then sends.
// Needs ICTCORE_TEST_RIGS (the tests/rigs directory) and Boost.JSON (link Boost::json).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "rig_process.hpp"

#ifndef ICTCORE_TEST_RIGS
#error "define ICTCORE_TEST_RIGS as the tests/rigs directory"
#endif

namespace ictcore::test {

// One MT as the SMSC got it. coding: 0 GSM/text, 1 8-bit, 2 UCS-2; text is decoded UTF-8.
struct KannelMessage {
    std::string smsc;  // "fake1" or "http1": the sendsms smsc= that routed it
    std::string from;
    std::string to;
    int coding = 0;
    std::string text;
    std::string raw;  // as the SMSC received it (fake1: fakesmsc's field; http1: urlencoded)
};

struct KannelRigOptions {
    std::string get_url;  // Kannel's sms-service get-url for MOs; empty: MOs are answered, not passed on
    std::string user = "ictcore";
    std::string password = "secret";
    int http_smsc_delay_ms = 0;  // how long http1 waits before its DLR callbacks
};

class KannelRig {
public:
    explicit KannelRig(std::filesystem::path dir, std::string get_url = {})
        : KannelRig(std::move(dir), KannelRigOptions{.get_url = std::move(get_url)}) {}

    KannelRig(std::filesystem::path dir, KannelRigOptions options)
        : dir_(std::move(dir)), options_(std::move(options)), rig_(arguments(dir_, options_)) {
        admin_port_ = admin_port_from(rig_.output());
    }

    int sendsms_port() const { return rig_.port(); }
    int admin_port() const { return admin_port_; }
    const std::string& user() const { return options_.user; }
    const std::string& password() const { return options_.password; }
    const std::filesystem::path& dir() const { return dir_; }
    std::string sendsms_url() const {
        return "http://127.0.0.1:" + std::to_string(sendsms_port()) + "/cgi-bin/sendsms";
    }

    // Every MT that reached fake1 or http1 so far, in arrival order.
    std::vector<KannelMessage> messages() const {
        std::vector<KannelMessage> out;
        std::ifstream file(dir_ / "mt.jsonl");
        std::string line;
        while (std::getline(file, line)) {
            if (file.eof()) break;  // no newline yet: a record still being written
            const auto record = boost::json::parse(line).as_object();
            KannelMessage message;
            message.smsc = std::string(record.at("smsc").as_string());
            message.from = std::string(record.at("from").as_string());
            message.to = std::string(record.at("to").as_string());
            message.coding = static_cast<int>(record.at("coding").as_int64());
            message.text = std::string(record.at("text").as_string());
            message.raw = std::string(record.at("raw").as_string());
            out.push_back(std::move(message));
        }
        return out;
    }

    // Waits until at least `count` MTs reached the SMSCs.
    bool wait_for_messages(std::size_t count, std::chrono::milliseconds within) const {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (;;) {
            if (message_count() >= count) return true;
            if (std::chrono::steady_clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    }

    // A handset sends `text` (UTF-8, no newline) from `from` to `to`; Kannel calls the get-url.
    void send_mo(std::string_view from, std::string_view to, std::string_view text) {
        if (from.empty() || to.empty() || from.find_first_of(" \n") != std::string_view::npos ||
            to.find_first_of(" \n") != std::string_view::npos || text.find('\n') != std::string_view::npos) {
            throw std::invalid_argument("send_mo: numbers without spaces, text without newlines");
        }
        std::string line;
        line.append(from).append(" ").append(to).append(" ").append(text).append("\n");
        // A FIFO write up to PIPE_BUF is atomic; the rig keeps the FIFO open, so this never blocks.
        if (line.size() > 4096) throw std::invalid_argument("send_mo: text too long");
        const int fd = ::open((dir_ / "mo.in").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) throw std::runtime_error("send_mo: cannot open mo.in");
        const auto written = ::write(fd, line.data(), line.size());
        ::close(fd);
        if (written != static_cast<ssize_t>(line.size())) throw std::runtime_error("send_mo: short write");
    }

    // Kannel down (sendsms refuses connections) / up again on the same ports.
    void stop_kannel() { command(SIGUSR1, "kannel stopped"); }
    void start_kannel() { command(SIGUSR2, "kannel started"); }

private:
    static std::vector<std::string> arguments(const std::filesystem::path& dir, const KannelRigOptions& options) {
        std::filesystem::create_directories(dir);
        std::vector<std::string> argv{"/usr/bin/python3",
                                      std::string(ICTCORE_TEST_RIGS) + "/kannel_rig.py",
                                      dir.string(),
                                      "--user",
                                      options.user,
                                      "--password",
                                      options.password,
                                      "--http-smsc-delay-ms",
                                      std::to_string(options.http_smsc_delay_ms)};
        if (!options.get_url.empty()) {
            argv.push_back("--get-url");
            argv.push_back(options.get_url);
        }
        return argv;
    }

    static int admin_port_from(const std::string& output) {
        const auto at = output.find("admin ");
        return at == std::string::npos ? 0 : std::stoi(output.substr(at + 6));
    }

    std::size_t message_count() const {
        std::ifstream file(dir_ / "mt.jsonl", std::ios::binary);
        std::size_t lines = 0;
        char buffer[65536];
        while (file.read(buffer, sizeof buffer) || file.gcount() > 0) {
            for (std::streamsize i = 0; i < file.gcount(); ++i) lines += buffer[i] == '\n';
        }
        return lines;
    }

    void command(int signum, std::string_view answer) {
        rig_.signal(signum);
        if (!rig_.wait_for_line(answer, std::chrono::seconds(30))) {
            throw std::runtime_error("kannel rig did not answer '" + std::string(answer) + "': " + rig_.output());
        }
    }

    std::filesystem::path dir_;
    KannelRigOptions options_;
    RigProcess rig_;
    int admin_port_ = 0;
};

}  // namespace ictcore::test

// voicemessage over the SIP gateway against real SIP peers on loopback: SIPp callees (tests/rigs/sipp/*.xml: answer
// with RFC 4733 DTMF, busy, ringing until CANCEL, 503, digest auth, PCMA only, plain answer) whose exit code says the
// SIP dialogue went as scripted, and baresip, whose recording of the call must hold the prompt we played. Prompts are
// short so the file runs in well under a minute.
#include "baresip_rig.hpp"
#include "core_options.hpp"
#include "dtmf_pcap.hpp"
#include "sipp_rig.hpp"
#include "temp_dir.hpp"
#include "tone_check.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <numbers>
#include <optional>
#include <thread>

namespace {

using namespace ictcore;
using namespace std::chrono_literals;

// A WAV of a sine of `hz` at a third of full scale for `seconds`, 8 kHz mono 16-bit.
std::string tone_wav(const std::filesystem::path& path, double hz, double seconds) {
    const int rate = 8000;
    std::vector<short> samples(static_cast<std::size_t>(seconds * rate));
    for (std::size_t i = 0; i < samples.size(); ++i)
        samples[i] = static_cast<short>(10000 * std::sin(2 * std::numbers::pi * hz * i / rate));
    SF_INFO info{};
    info.samplerate = rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
    SNDFILE* file = sf_open(path.c_str(), SFM_WRITE, &info);
    if (!file) throw std::runtime_error("cannot write " + path.string());
    sf_writef_short(file, samples.data(), static_cast<sf_count_t>(samples.size()));
    sf_close(file);
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

struct SipProvider {
    int port = 0;
    std::string username = "ictcore";
    std::optional<std::string> password = std::nullopt;
    std::string settings = R"({"listen": "127.0.0.1:0"})";
};

// A Core with no loopback providers, a voicemessage program playing a 1 s 1 kHz tone, and a SIP provider per test.
struct Voice {
    test::TempDir dir;
    std::unique_ptr<Core> core;
    Principal admin;
    std::int64_t program_id = 0;

    Voice() {
        auto options = test::core_options(dir);
        options.seed_loopback_providers = false;
        options.retry_delay = 1s;
        core = std::make_unique<Core>(options);
        admin = core->auth().from_password("admin", *options.admin_password);
        Recording recording;
        recording.name = "one second of 1 kHz";
        const auto recording_id = core->recordings().create(admin, recording);
        const auto wav = tone_wav(dir.path() / "prompt.wav", 1000, 1.0);
        core->recordings().put_media(admin, recording_id, Upload{wav, "audio/wav", "prompt.wav"});
        Program program;
        program.name = "tone";
        program.recording_id = recording_id;
        program_id = core->programs().create(admin, "voicemessage", program);
    }

    std::int64_t provider(const SipProvider& sip) {
        Provider p;
        p.name = "sip peer";
        p.type = "sip";
        p.service_flag = service::voice;
        p.host = "127.0.0.1";
        p.port = sip.port;
        p.username = sip.username;
        p.password = sip.password;
        p.settings = sip.settings;
        return core->providers().create(admin, p);
    }

    std::int64_t transmission(const std::string& phone = "15550001", std::int64_t try_allowed = 1) {
        Contact contact;
        contact.first_name = "Callee";
        contact.phone = phone;
        Transmission t;
        t.contact_id = core->contacts().create(admin, contact);
        t.program_id = program_id;
        t.try_allowed = try_allowed;
        return core->transmissions().create(admin, t);
    }

    std::int64_t send(std::int64_t id) { return core->transmissions().send(admin, id); }

    // The transmission once it completed or failed for good (or as it is after `within`).
    Transmission await_end(std::int64_t id, std::chrono::milliseconds within = 20s) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (;;) {
            auto t = core->transmissions().get(admin, id);
            if (t.status == "completed" || t.status == "failed" || t.status == "invalid") return t;
            if (std::chrono::steady_clock::now() > deadline) return t;
            std::this_thread::sleep_for(20ms);
        }
    }

    std::vector<Spool> spools(std::int64_t id) { return core->transmissions().detail(admin, id); }

    // The data of the result `type`/`name` of spool `spool_id`, if there is one.
    std::optional<std::string> result(std::int64_t spool_id, std::string_view type, std::string_view name) {
        for (const auto& r : core->transmissions().spool_result(admin, spool_id))
            if (r.type == type && r.name == name) return r.data;
        return std::nullopt;
    }

    std::string results_text(std::int64_t spool_id) {
        std::string out;
        for (const auto& r : core->transmissions().spool_result(admin, spool_id))
            out += r.type + "/" + r.name + "=" + r.data + " ";
        return out;
    }
};

std::string describe(const Transmission& t) {
    return "status " + t.status + ", response '" + t.response.value_or("") + "', try_done " +
           std::to_string(t.try_done);
}

}  // namespace

TEST_CASE(
    "sip voice: an answered call completes with the callee's RFC 4733 "
    "digits, billsec and codec") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: SIPp needs a raw socket (root) to play its DTMF pcaps");
        return;
    }
    Voice voice;
    test::SippRig sipp(voice.dir.path() / "sipp", "uas_dtmf");
    // The digits arrive within ~0.5 s of the answer, and SIPp counts a BYE before then as a failed call: waiting a
    // second for digits after the prompt keeps the call up well past them even on a loaded machine.
    voice.provider({.port = sipp.port(), .settings = R"({"listen": "127.0.0.1:0", "digit_wait": 1})"});
    const auto id = voice.transmission();
    const auto spool_id = voice.send(id);
    const auto t = voice.await_end(id);
    INFO(describe(t));
    INFO("sipp:\n" << sipp.messages_log());
    CHECK(t.status == "completed");
    const auto spool = voice.core->transmissions().spool(voice.admin, spool_id);
    CHECK(spool.status == "completed");
    CHECK(spool.response.value_or("") == "200 OK");
    CHECK(spool.time_connect.has_value());
    CHECK(spool.time_end.has_value());
    INFO("results: " << voice.results_text(spool_id));
    CHECK(voice.result(spool_id, "dtmf", "dtmf").value_or("(none)") == "1#");
    CHECK(voice.result(spool_id, "info", "codec").value_or("(none)") == "PCMU");
    const auto billsec = voice.result(spool_id, "info", "billsec");
    REQUIRE(billsec.has_value());
    // 1 s of prompt + 1 s of waiting for digits, in whole seconds.
    CHECK(std::stoi(*billsec) >= 1);
    CHECK(std::stoi(*billsec) <= 4);
    CHECK(sipp.wait_exit(10s) == 0);
}

TEST_CASE("sip voice: a callee without telephone-event has its in-band DTMF tones detected") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: SIPp needs a raw socket (root) to play a pcap");
        return;
    }
    Voice voice;
    std::filesystem::create_directories(voice.dir.path() / "sipp");
    test::write_dtmf_pcap(voice.dir.path() / "sipp" / "inband_dtmf.pcap", "407*");
    test::SippRig sipp(voice.dir.path() / "sipp", "uas_inband_dtmf");
    // The tones last ~1 s from the answer; the call stays up 1 s after the 1 s prompt.
    voice.provider({.port = sipp.port(), .settings = R"({"listen": "127.0.0.1:0", "digit_wait": 1})"});
    const auto id = voice.transmission();
    const auto spool_id = voice.send(id);
    const auto t = voice.await_end(id);
    INFO(describe(t));
    INFO("sipp:\n" << sipp.messages_log());
    CHECK(t.status == "completed");
    INFO("results: " << voice.results_text(spool_id));
    CHECK(voice.result(spool_id, "dtmf", "dtmf").value_or("(none)") == "407*");
    CHECK(sipp.wait_exit(10s) == 0);
}

TEST_CASE("sip voice: 486 Busy Here is 'busy' and retried within try_allowed") {
    Voice voice;
    test::SippRig sipp(voice.dir.path() / "sipp", "uas_486", {.calls = 2});
    voice.provider({.port = sipp.port()});
    const auto id = voice.transmission("15550001", 2);
    voice.send(id);
    const auto t = voice.await_end(id);
    INFO(describe(t));
    INFO("sipp:\n" << sipp.messages_log());
    CHECK(t.status == "failed");
    CHECK(t.response.value_or("") == "busy");
    CHECK(t.try_done == 2);
    const auto spools = voice.spools(id);
    REQUIRE(spools.size() == 2);
    for (const auto& s : spools) {
        CHECK(s.status == "failed");
        CHECK(s.response.value_or("") == "busy");
        CHECK_FALSE(s.time_connect.has_value());
    }
    CHECK(sipp.wait_exit(10s) == 0);  // both INVITEs arrived and both 486 were ACKed
}

TEST_CASE(
    "sip voice: a callee that only rings is cancelled at ring_timeout: "
    "'no_answer'") {
    Voice voice;
    test::SippRig sipp(voice.dir.path() / "sipp", "uas_ring");
    voice.provider({.port = sipp.port(), .settings = R"({"listen": "127.0.0.1:0", "ring_timeout": 2})"});
    const auto id = voice.transmission();
    const auto started = std::chrono::steady_clock::now();
    const auto spool_id = voice.send(id);
    const auto t = voice.await_end(id);
    const auto took = std::chrono::steady_clock::now() - started;
    INFO(describe(t));
    INFO("sipp:\n" << sipp.messages_log());
    CHECK(t.status == "failed");
    CHECK(t.response.value_or("") == "no_answer");
    CHECK(took >= 1900ms);
    CHECK(took < 10s);
    const auto spool = voice.core->transmissions().spool(voice.admin, spool_id);
    CHECK(spool.response.value_or("") == "no_answer");
    CHECK_FALSE(spool.time_connect.has_value());
    CHECK(sipp.wait_exit(10s) == 0);  // CANCEL sent, 487 ACKed
}

TEST_CASE("sip voice: 503 Service Unavailable fails the attempt with the SIP cause") {
    Voice voice;
    test::SippRig sipp(voice.dir.path() / "sipp", "uas_503");
    voice.provider({.port = sipp.port()});
    const auto id = voice.transmission();
    voice.send(id);
    const auto t = voice.await_end(id);
    INFO(describe(t));
    INFO("sipp:\n" << sipp.messages_log());
    CHECK(t.status == "failed");
    CHECK(t.response.value_or("").find("503") != std::string::npos);
    CHECK(sipp.wait_exit(10s) == 0);
}

TEST_CASE(
    "sip voice: digest authentication with the provider's username and "
    "password") {
    SUBCASE("the right password: the challenged INVITE is answered") {
        Voice voice;
        test::SippRig sipp(voice.dir.path() / "sipp", "uas_auth");
        voice.provider({.port = sipp.port(), .username = "ictcore", .password = "secret"});
        const auto id = voice.transmission();
        const auto spool_id = voice.send(id);
        const auto t = voice.await_end(id);
        INFO(describe(t));
        INFO("sipp:\n" << sipp.messages_log());
        CHECK(t.status == "completed");
        CHECK(voice.result(spool_id, "info", "codec").value_or("(none)") == "PCMA");
        CHECK(sipp.wait_exit(10s) == 0);
    }
    SUBCASE("a wrong password: 403 after the challenge is a provider error") {
        Voice voice;
        test::SippRig sipp(voice.dir.path() / "sipp", "uas_auth");
        voice.provider({.port = sipp.port(), .username = "ictcore", .password = "not-the-secret"});
        const auto id = voice.transmission();
        voice.send(id);
        const auto t = voice.await_end(id);
        INFO(describe(t));
        INFO("sipp:\n" << sipp.messages_log());
        CHECK(t.status == "failed");
        CHECK(t.response.value_or("").find("403") != std::string::npos);
        CHECK(sipp.wait_exit(10s) == 0);  // the scenario's 403 branch ran to its end
    }
}

TEST_CASE("sip voice: a callee that answers with PCMA only gets A-law") {
    Voice voice;
    test::SippRig sipp(voice.dir.path() / "sipp", "uas_pcma");
    voice.provider({.port = sipp.port()});
    const auto id = voice.transmission();
    const auto spool_id = voice.send(id);
    const auto t = voice.await_end(id);
    INFO(describe(t));
    INFO("sipp:\n" << sipp.messages_log());
    CHECK(t.status == "completed");
    CHECK(voice.result(spool_id, "info", "codec").value_or("(none)") == "PCMA");
    CHECK(sipp.wait_exit(10s) == 0);
}

TEST_CASE("sip voice: baresip receives our 1 s 1 kHz prompt intact") {
    Voice voice;
    test::BaresipRig baresip(voice.dir.path() / "baresip", "15550001");
    voice.provider({.port = baresip.port()});
    const auto id = voice.transmission("15550001");
    const auto spool_id = voice.send(id);
    const auto t = voice.await_end(id);
    INFO(describe(t));
    INFO("baresip:\n" << baresip.output());
    REQUIRE(t.status == "completed");
    CHECK(voice.result(spool_id, "info", "codec").value_or("(none)") == "PCMU");
    const auto recording = baresip.received_recording();
    REQUIRE_FALSE(recording.empty());
    const auto span = test::find_tone(test::read_wav(recording));
    INFO(test::describe(span));
    CHECK(test::tone_mismatch(span, 1000, 20, 1.0, 0.06) == "");
}

TEST_CASE("sip voice: ten calls at once all complete") {
    Voice voice;
    test::SippRig sipp(voice.dir.path() / "sipp", "uas_answer", {.calls = 10});
    voice.provider({.port = sipp.port()});
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 10; ++i) ids.push_back(voice.transmission("1555000" + std::to_string(i)));
    const auto started = std::chrono::steady_clock::now();
    voice.core->transmissions().send_many(voice.admin, ids);
    for (const auto id : ids) {
        const auto t = voice.await_end(id);
        INFO("transmission " << id << ": " << describe(t));
        CHECK(t.status == "completed");
    }
    // One after another, ten 1 s prompts would take over 10 s.
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    INFO("sipp:\n" << sipp.messages_log());
    CHECK(sipp.wait_exit(10s) == 0);
}

TEST_CASE("sip voice: a provider that never responds is a provider error, and the standby one takes the call") {
    Voice voice;
    // The first provider is a UDP socket nobody answers on: not an unanswered call (its ring
    // timeout of 1 s must not fire without a provisional response) but an unreachable provider,
    // known when SIP's Timer B gives up (32 s). The standby provider (weight 0) then gets it.
    const int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::getsockname(silent, reinterpret_cast<sockaddr*>(&addr), &length) == 0);
    test::SippRig standby(voice.dir.path() / "sipp", "uas_answer", {.calls = 1, .timeout = 90s});
    voice.provider({.port = ntohs(addr.sin_port), .settings = R"({"listen": "127.0.0.1:0", "ring_timeout": 1})"});
    const auto standby_id = voice.provider({.port = standby.port()});
    voice.core->providers().update(voice.admin, standby_id, [](Provider& p) { p.weight = 0; });
    const auto id = voice.transmission();
    const auto spool_id = voice.send(id);
    const auto t = voice.await_end(id, 60s);
    ::close(silent);
    INFO(describe(t));
    INFO("sipp:\n" << standby.messages_log());
    CHECK(t.status == "completed");
    const auto spool = voice.core->transmissions().spool(voice.admin, spool_id);
    CHECK(spool.provider_id == standby_id);
    CHECK(standby.wait_exit(10s) == 0);
}

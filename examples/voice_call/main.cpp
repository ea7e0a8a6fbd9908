// voice_call: one voice message call through the SIP gateway, from a program that embeds the
// library (no HTTP server, no PBX: the SIP user agent and RTP run inside ictcore).
//
//   voice_call --sip HOST:PORT --to NUMBER --wav FILE [--digit-wait S] [--data DIR] [--listen IP:PORT]
//
// Opens a Core on DIR (default: a scratch directory, removed on exit), makes sure a SIP provider
// for HOST:PORT exists (reused when DIR already has one), uploads FILE as a recording and sends a
// voicemessage program of it to a contact whose phone is NUMBER. The gateway calls
// sip:NUMBER@HOST:PORT, plays the recording once the call is answered, collects DTMF digits until
// the prompt has ended and S seconds passed without one, then hangs up. Prints how the call
// went; exits 0 only when it completed.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

namespace {

struct Args {
    std::string host;
    int port = 5060;
    std::string number;
    std::filesystem::path wav;
    int digit_wait = 3;
    std::optional<std::filesystem::path> data;
    std::string listen;
};

[[noreturn]] void usage(const std::string& problem) {
    std::cerr << "voice_call: " << problem << "\n"
              << "usage: voice_call --sip HOST:PORT --to NUMBER --wav FILE [--digit-wait S] [--data DIR]"
                 " [--listen IP:PORT]\n";
    std::exit(2);
}

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) usage(flag + " needs a value");
        const std::string value = argv[++i];
        if (flag == "--sip") {
            const auto colon = value.rfind(':');
            a.host = value.substr(0, colon);
            if (colon != std::string::npos) a.port = std::atoi(value.c_str() + colon + 1);
        } else if (flag == "--to") {
            a.number = value;
        } else if (flag == "--wav") {
            a.wav = value;
        } else if (flag == "--digit-wait") {
            a.digit_wait = std::atoi(value.c_str());
        } else if (flag == "--data") {
            a.data = value;
        } else if (flag == "--listen") {
            a.listen = value;
        } else {
            usage("unknown option " + flag);
        }
    }
    if (a.host.empty() || a.number.empty() || a.wav.empty()) usage("--sip, --to and --wav are required");
    return a;
}

// A fresh private directory under the system temp dir, removed again on scope exit.
class ScratchDir {
public:
    ScratchDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "ictcore-voice-call-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// The provider's settings JSON (see src/gateways/sip.hpp for all of them).
std::string settings_for(const Args& a) {
    std::string listen = a.listen;
    // A peer on this machine is reached from loopback; a free port avoids clashing with a PBX on
    // 5060. Elsewhere the gateway's default applies: the address that routes to HOST, port 5060.
    if (listen.empty() && (a.host == "127.0.0.1" || a.host == "localhost")) listen = "127.0.0.1:0";
    std::string s = "{\"digit_wait\": " + std::to_string(a.digit_wait) + ", \"ring_timeout\": 30";
    if (!listen.empty()) s += ", \"listen\": \"" + listen + "\"";
    return s + "}";
}

// The SIP provider for the peer: the one already in the data directory, brought up to date,
// or a new one.
std::int64_t sip_provider(ictcore::Core& core, const ictcore::Principal& admin, const Args& a) {
    std::int64_t existing = 0;
    {
        // A cursor holds a read connection: closed (end of scope) before the update.
        auto providers = core.providers().list(admin, {});
        for (ictcore::Provider p; existing == 0 && providers.next(p);) {
            if (p.type == "sip" && p.host == a.host && p.port == a.port) existing = p.provider_id;
        }
    }
    if (existing != 0) {
        core.providers().update(admin, existing, [&](ictcore::Provider& p) {
            p.settings = settings_for(a);
            p.active = 1;
        });
        return existing;
    }
    ictcore::Provider p;
    p.name = "SIP peer " + a.host + ":" + std::to_string(a.port);
    p.type = "sip";  // the SIP gateway, registered in every Core
    p.service_flag = ictcore::service::voice;
    p.host = a.host;
    p.port = a.port;
    p.username = "voice_call";  // our From user when the account has no phone
    p.settings = settings_for(a);
    return core.providers().create(admin, p);
}

bool ended(const std::string& status) { return status != "pending" && status != "processing"; }

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    try {
        std::optional<ScratchDir> scratch;
        if (!args.data) scratch.emplace();
        // On the first start of a data directory `admin` gets this password (set
        // ICTCORE_ADMIN_PASSWORD to use a directory made with another one). No loopback providers:
        // the SIP provider is the only one that carries voice here.
        const char* env_password = std::getenv("ICTCORE_ADMIN_PASSWORD");
        const std::string password = env_password ? env_password : "voice-call-admin";
        ictcore::Core core(ictcore::Options{
            .data_dir = args.data ? *args.data : scratch->path(),
            .admin_password = password,
            .seed_loopback_providers = false,
        });
        const ictcore::Principal admin = core.auth().from_password("admin", password);
        const std::int64_t provider_id = sip_provider(core, admin, args);

        // The prompt: any WAV (or MP3) the library can read; it is stored as 8 kHz mono telephony
        // audio, which the gateway sends as G.711 RTP.
        std::ifstream in(args.wav, std::ios::binary);
        if (!in) throw std::runtime_error("cannot read " + args.wav.string());
        const std::string bytes{std::istreambuf_iterator<char>(in), {}};
        ictcore::Recording recording;
        recording.name = args.wav.filename().string();
        recording.recording_id = core.recordings().create(admin, recording);
        recording = core.recordings().put_media(admin, recording.recording_id,
                                                {bytes, "audio/wav", args.wav.filename().string()});

        // What to do on the call (play the recording), to whom (a contact): a transmission.
        ictcore::Program program;
        program.name = "voice message " + recording.name;
        program.recording_id = recording.recording_id;
        ictcore::Contact contact;
        contact.first_name = "Callee";
        contact.phone = args.number;
        ictcore::Transmission transmission;
        transmission.program_id = core.programs().create(admin, "voicemessage", program);
        transmission.contact_id = core.contacts().create(admin, contact);
        const std::int64_t transmission_id = core.transmissions().create(admin, transmission);

        // send() commits the attempt and returns; the call runs on the library's SIP thread.
        core.transmissions().send(admin, transmission_id);
        std::cout << "calling " << args.number << " through provider " << provider_id << " (sip:" << args.host << ":"
                  << args.port << "), prompt " << recording.length << " s\n";
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60 + args.digit_wait) +
                              std::chrono::seconds(static_cast<int>(recording.length));
        ictcore::Transmission done = core.transmissions().get(admin, transmission_id);
        while (!ended(done.status) && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            done = core.transmissions().get(admin, transmission_id);
        }

        // The attempt's results: billsec and codec for every answered call, dtmf when the callee
        // pressed keys (RFC 4733 events or in-band tones).
        std::map<std::string, std::string> results;
        for (const ictcore::SpoolResult& r : core.transmissions().result(admin, transmission_id)) {
            results[r.name] = r.data;
        }
        const auto spools = core.transmissions().detail(admin, transmission_id);
        const std::string response = !spools.empty() ? spools.back().response.value_or("") : "";
        std::cout << "status: " << done.status << "\n"
                  << "response: " << response << "\n"
                  << "billsec: " << results["billsec"] << "\n"
                  << "codec: " << results["codec"] << "\n"
                  << "dtmf: " << results["dtmf"] << "\n";
        return done.status == "completed" ? EXIT_SUCCESS : EXIT_FAILURE;
    } catch (const ictcore::Error& e) {
        std::cerr << "voice_call: " << ictcore::to_string(e.code()) << ": " << e.what() << "\n";
    } catch (const std::exception& e) {
        std::cerr << "voice_call: " << e.what() << "\n";
    }
    return EXIT_FAILURE;
}

// bench-sip: voice and fax over the SIP gateway (issue 7), each against the same work done
// without the engine, in the same run. Run by hand (bench/run.sh runs it too), never in CI.
//
//   bench-sip [--calls N] [--prompt-seconds S] [--pages P] [--no-fax] [--dir DIR]
//
//  (n) N (default 100) simultaneous voicemessage calls of an S s prompt (default 10; a 1 kHz
//      tone) through an embedded Core — one `sip` provider, concurrency 2N — to SIPp answering
//      every call (tests/rigs/sipp/uas_answer.xml, -m N): from send_many() until none is
//      processing. CPU seconds of the process (getrusage, user + system), wall time, peak RSS
//      (VmHWM, reset before the run), and the RTP send pacing from the spool results (largest
//      rtp_max_gap_ms, mean of rtp_mean_gap_ms, packets).
//  (o) baseline: the same N calls placed straight on the library's SIP layer (ReLoop, one
//      UserAgent on its thread, N CallPlans of the same prompt) without Core, engine or store,
//      to a fresh SIPp: the same figures from the CallReports. Ratio CPU(n)/CPU(o).
//  (p) a P-page fax (default 3; full A4 pages of text-like lines) over G.711 through one Core
//      calling itself (sendfax to a receivefax account, as tests/unit/test_sip_fax.cpp): from
//      send() until the transmission completed, seconds per page; baseline: the same pages
//      through two FaxSessions joined back to back in memory, whose line time (20 ms per
//      exchanged frame) is what T.30 itself needs. Ratio measured/baseline.
//  (q) the same over T.38 (re-INVITE; UDPTL), baseline two FaxSessions exchanging IFP packets
//      through the UDPTL codec without loss.
#include "bench_support.hpp"
#include "fax/fax_session.hpp"
#include "fax/udptl.hpp"
#include "sip/re_loop.hpp"
#include "sip/user_agent.hpp"
#include "sipp_rig.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <fmt/format.h>
#include <spandsp.h>
#include <tiffio.h>
#include <CLI/CLI.hpp>

#include <condition_variable>
#include <deque>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

namespace {

using namespace bench;
using namespace std::chrono_literals;
namespace sip = ictcore::sip;
namespace fax = ictcore::fax;

struct Args {
    int calls = 100;
    int prompt_seconds = 10;
    int pages = 3;
    bool fax = true;
    std::filesystem::path dir;
};

// ---- media -----------------------------------------------------------------------------------

void put_le(std::string& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// A 1 kHz tone, 8 kHz mono 16-bit: already the telephony format, so (n) and (o) send the same
// samples.
void write_tone_wav(const std::filesystem::path& path, int seconds) {
    const std::uint32_t frames = 8000u * static_cast<std::uint32_t>(seconds);
    std::string w = "RIFF";
    put_le(w, 36 + frames * 2, 4);
    w += "WAVEfmt ";
    for (auto [v, n] : {std::pair{16u, 4}, {1u, 2}, {1u, 2}, {8000u, 4}, {16000u, 4}, {2u, 2}, {16u, 2}}) {
        put_le(w, v, n);
    }
    w += "data";
    put_le(w, frames * 2, 4);
    for (std::uint32_t i = 0; i < frames; ++i) {
        put_le(w, static_cast<std::uint16_t>(static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 1000.0 * i / 8000))),
               2);
    }
    std::ofstream(path, std::ios::binary) << w;
}

// Fax pages as a letter looks to T.4: 1728 x 2292 (A4 at 204x196 dpi), margins, ~50 lines of
// ~95 "characters" (12x20 cells of 2-pixel strokes, chosen pseudo-randomly) with word gaps and
// ragged line ends. Run lengths like text, so the pages code to about what a typed page does.
void write_text_pages(const std::filesystem::path& path, int pages) {
    constexpr int width = 1728, height = 2292, margin_x = 96, margin_y = 160, pitch_x = 16, pitch_y = 40;
    constexpr int cell_w = 12, cell_h = 20;
    TIFF* t = TIFFOpen(path.c_str(), "w");
    if (!t) throw std::runtime_error("cannot write " + path.string());
    std::vector<std::uint8_t> row(width / 8);
    auto hash = [](std::uint32_t x) {
        x ^= x >> 16;
        x *= 0x7feb352dU;
        x ^= x >> 15;
        x *= 0x846ca68bU;
        return x ^ (x >> 16);
    };
    for (int p = 0; p < pages; ++p) {
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, width);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, height);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
        TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, 196.0);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, height);
        TIFFSetField(t, TIFFTAG_PAGENUMBER, p, pages);
        for (int y = 0; y < height; ++y) {
            std::fill(row.begin(), row.end(), 0);
            const int line = (y - margin_y) / pitch_y;
            const int dy = (y - margin_y) % pitch_y;
            const int line_chars = 40 + static_cast<int>(hash(static_cast<std::uint32_t>(p * 1000 + line)) % 56);
            if (y >= margin_y && dy < cell_h && y < height - margin_y) {
                for (int c = 0; c < line_chars; ++c) {
                    const std::uint32_t g = hash(static_cast<std::uint32_t>((p * 100 + line) * 128 + c));
                    if (g % 6 == 0) continue;  // a word gap
                    for (int dx = 0; dx < cell_w; ++dx) {
                        const bool ink = ((g & 1) && dx < 2) ||                                  // left stem
                                         ((g & 2) && dx >= cell_w - 2) ||                        // right stem
                                         ((g & 4) && dy < 2) ||                                  // top bar
                                         ((g & 8) && dy >= 9 && dy < 11) ||                      // middle bar
                                         ((g & 16) && dy >= cell_h - 2) ||                       // bottom bar
                                         ((g & 32) && dx >= 5 && dx < 7) ||                      // centre stem
                                         ((g & 64) && std::abs(dx - dy * cell_w / cell_h) < 2);  // diagonal
                        if (!ink) continue;
                        const int x = margin_x + c * pitch_x + dx;
                        row[static_cast<std::size_t>(x / 8)] |= static_cast<std::uint8_t>(0x80 >> (x % 8));
                    }
                }
            }
            TIFFWriteScanline(t, row.data(), static_cast<std::uint32_t>(y), 0);
        }
        TIFFWriteDirectory(t);
    }
    TIFFClose(t);
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

// ---- voice -----------------------------------------------------------------------------------

struct VoiceRun {
    double wall = 0;
    double cpu = 0;
    double peak_rss = 0;
    double rss_before = 0;
    int completed = 0;
    std::uint64_t packets = 0;
    double max_gap = 0;
    double mean_gap = 0;  // mean over the calls of each call's mean gap
    int sipp_exit = -1;
};

ictcore::test::SippOptions sipp_options(const Args& args) {
    // SIPp's own call limit (-l) well above N, so it never turns a call away.
    return {.calls = args.calls,
            .timeout = std::chrono::seconds(args.prompt_seconds + 90),
            .extra_args = {"-l", std::to_string(2 * args.calls)}};
}

double current_rss_mb() {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) * 1024.0 / 1e6;
    }
    return -1;
}

VoiceRun run_core_calls(const Args& args, const std::filesystem::path& dir, const std::filesystem::path& wav) {
    ictcore::test::SippRig sipp(dir / "sipp", "uas_answer", sipp_options(args));
    ictcore::Options o;
    o.data_dir = dir / "data";
    o.admin_password = "bench-admin-password";
    o.password_cost = ictcore::PasswordCost::minimal;
    o.seed_loopback_providers = false;
    ictcore::Core core(o);
    const auto admin = core.auth().from_password("admin", *o.admin_password);
    ictcore::Provider p;
    p.name = "sipp";
    p.type = "sip";
    p.service_flag = ictcore::service::voice;
    p.username = "bench";
    p.host = "127.0.0.1";
    p.port = sipp.port();
    p.settings = fmt::format(R"({{"listen": "127.0.0.1:0", "concurrency": {}}})", 2 * args.calls);
    core.providers().create(admin, p);
    ictcore::Recording r;
    r.name = "tone";
    const auto recording_id = core.recordings().create(admin, r);
    const auto bytes = read_file(wav);
    core.recordings().put_media(admin, recording_id, {bytes, "audio/wav", "tone.wav"});
    ictcore::Program program;
    program.name = "tone";
    program.recording_id = recording_id;
    const auto program_id = core.programs().create(admin, "voicemessage", program);
    std::vector<ictcore::Transmission> ts;
    for (int i = 0; i < args.calls; ++i) {
        ictcore::Contact c;
        c.first_name = fmt::format("Callee {}", i);
        c.phone = fmt::format("1415{:07}", i);
        ictcore::Transmission t;
        t.contact_id = core.contacts().create(admin, c);
        t.program_id = program_id;
        ts.push_back(t);
    }
    const auto ids = core.transmissions().create_many(admin, ts);

    ictcore::ListQuery busy;
    busy.filters = {{"status", "processing"}};
    busy.limit = 1;
    VoiceRun run;
    run.rss_before = current_rss_mb();
    reset_peak_rss();
    const double cpu_start = process_cpu();
    const auto start = Clock::now();
    core.transmissions().send_many(admin, ids);
    const auto deadline = start + std::chrono::seconds(args.prompt_seconds + 120);
    while (core.transmissions().list(admin, busy).total() > 0 && Clock::now() < deadline) {
        std::this_thread::sleep_for(50ms);
    }
    run.wall = seconds_since(start);
    run.cpu = process_cpu() - cpu_start;
    run.peak_rss = peak_rss_mb();

    double gap_sum = 0;
    for (const auto id : ids) {
        if (core.transmissions().status(admin, id) != "completed") continue;
        ++run.completed;
        for (const auto& result : core.transmissions().result(admin, id)) {
            if (result.name == "rtp_packets") run.packets += std::stoull(result.data);
            if (result.name == "rtp_max_gap_ms") run.max_gap = std::max(run.max_gap, std::stod(result.data));
            if (result.name == "rtp_mean_gap_ms") gap_sum += std::stod(result.data);
        }
    }
    run.mean_gap = run.completed > 0 ? gap_sum / run.completed : 0;
    run.sipp_exit = sipp.wait_exit(30s);
    if (run.sipp_exit != 0) std::cerr << "[bench-sip] (n) SIPp:\n" << sipp.messages_log() << "\n";
    return run;
}

// Runs `work` on the loop thread and waits for it.
void on_loop(sip::ReLoop& loop, std::function<void()> work) {
    std::promise<void> done;
    auto finished = done.get_future();
    loop.post([&] {
        work();
        done.set_value();
    });
    finished.get();
}

VoiceRun run_direct_calls(const Args& args, const std::filesystem::path& dir, const std::filesystem::path& wav) {
    ictcore::test::SippRig sipp(dir / "sipp", "uas_answer", sipp_options(args));
    auto loop = sip::ReLoop::acquire();
    std::unique_ptr<sip::UserAgent> agent;
    on_loop(*loop,
            [&] { agent = std::make_unique<sip::UserAgent>(loop, "127.0.0.1:0", sip::UserAgent::InboundRouting{}); });

    std::mutex mutex;
    std::condition_variable changed;
    std::vector<sip::CallReport> reports;
    VoiceRun run;
    run.rss_before = current_rss_mb();
    reset_peak_rss();
    const double cpu_start = process_cpu();
    const auto start = Clock::now();
    // One job per call, as the gateway posts one per delivery.
    for (int i = 0; i < args.calls; ++i) {
        loop->post([&, i] {
            sip::CallPlan plan;
            plan.purpose = sip::CallPlan::Purpose::voice;
            plan.request_uri = fmt::format("sip:1415{:07}@127.0.0.1:{}", i, sipp.port());
            plan.from_user = plan.from_name = "bench";
            plan.prompt_wav = wav;
            sip::CallEvents events;
            events.ended = [&](sip::CallReport report) {
                std::lock_guard lock(mutex);
                reports.push_back(std::move(report));
                changed.notify_all();
            };
            agent->place(std::move(plan), std::move(events));
        });
    }
    {
        std::unique_lock lock(mutex);
        changed.wait_for(lock, std::chrono::seconds(args.prompt_seconds + 120),
                         [&] { return reports.size() == static_cast<std::size_t>(args.calls); });
    }
    run.wall = seconds_since(start);
    run.cpu = process_cpu() - cpu_start;
    run.peak_rss = peak_rss_mb();
    on_loop(*loop, [&] { agent.reset(); });  // ends any call still up
    loop.reset();

    double gap_sum = 0;
    std::lock_guard lock(mutex);
    for (const auto& r : reports) {
        if (r.end != sip::CallReport::End::answered) continue;
        ++run.completed;
        run.packets += r.rtp_packets;
        run.max_gap = std::max(run.max_gap, r.rtp_max_gap_ms);
        gap_sum += r.rtp_mean_gap_ms;
    }
    run.mean_gap = run.completed > 0 ? gap_sum / run.completed : 0;
    run.sipp_exit = sipp.wait_exit(30s);
    if (run.sipp_exit != 0) std::cerr << "[bench-sip] (o) SIPp:\n" << sipp.messages_log() << "\n";
    return run;
}

// ---- fax -------------------------------------------------------------------------------------

struct FaxRun {
    double wall = 0;
    int pages = 0;
    std::string bit_rate;
    std::string transport;
    std::string t30;
    std::string status;
    std::string received_status;
    std::string received_pages;
};

struct FaxBaseline {
    double line_seconds = 0;  // frames exchanged × 20 ms
    double cpu = 0;
    int pages = 0;
    int bit_rate = 0;
    bool success = false;
};

constexpr const char* fax_number = "15550001111";

std::map<std::string, std::string> results_of(ictcore::Core& core, const ictcore::Principal& who, std::int64_t id) {
    std::map<std::string, std::string> out;
    for (const auto& r : core.transmissions().result(who, id)) out[r.name] = r.data;
    return out;
}

// Sends the pages through one Core whose provider calls its own listening address; keeps a copy
// of the fax TIFF the Core made of them in `sent_copy` for the baseline.
FaxRun run_core_fax(const std::filesystem::path& dir, const std::filesystem::path& pages, bool t38,
                    const std::filesystem::path& sent_copy) {
    ictcore::Options o;
    o.data_dir = dir / "data";
    o.admin_password = "bench-admin-password";
    o.password_cost = ictcore::PasswordCost::minimal;
    o.seed_loopback_providers = false;
    ictcore::Core core(o);
    const auto admin = core.auth().from_password("admin", *o.admin_password);
    const int port = ictcore::test::free_udp_port();
    ictcore::Provider p;
    p.name = "loop";
    p.type = "sip";
    p.service_flag = ictcore::service::fax;
    p.username = "bench";
    p.host = "127.0.0.1";
    p.port = port;
    p.settings = fmt::format(R"({{"listen": "127.0.0.1:{}", "t38": {}, "station_id": "+1 555 0100"}})", port, t38);
    core.providers().create(admin, p);

    ictcore::User u;
    u.username = "faxdesk";
    u.passwd = "faxdesk-password";
    u.phone = fax_number;
    core.users().create(admin, u);
    const auto receiver = core.auth().from_password("faxdesk", "faxdesk-password");
    ictcore::Program receive;
    receive.name = "fax in";
    core.programs().create(receiver, "receivefax", receive);

    ictcore::Document d;
    d.name = "letter";
    const auto document_id = core.documents().create(admin, d);
    const auto bytes = read_file(pages);
    core.documents().put_media(admin, document_id, {bytes, "image/tiff", "letter.tif"});
    std::filesystem::copy_file(core.documents().fax_tiff(admin, document_id).path, sent_copy,
                               std::filesystem::copy_options::overwrite_existing);
    ictcore::Program send;
    send.name = "fax out";
    send.document_id = document_id;
    const auto program_id = core.programs().create(admin, "sendfax", send);
    ictcore::Contact c;
    c.first_name = "Fax desk";
    c.phone = fax_number;
    ictcore::Transmission t;
    t.contact_id = core.contacts().create(admin, c);
    t.program_id = program_id;
    const auto id = core.transmissions().create(admin, t);

    FaxRun run;
    const auto start = Clock::now();
    core.transmissions().send(admin, id);
    const auto deadline = start + 15min;
    for (;;) {
        run.status = core.transmissions().status(admin, id);
        if (run.status != "pending" && run.status != "processing") break;
        if (Clock::now() > deadline) break;
        std::this_thread::sleep_for(50ms);
    }
    run.wall = seconds_since(start);
    auto out = results_of(core, admin, id);
    run.pages = out.contains("pages") ? std::stoi(out["pages"]) : 0;
    run.bit_rate = out["bit_rate"];
    run.transport = out["transport"];
    run.t30 = out["t30"];
    // The receiving side records its transmission once the call is over.
    const auto received_by = Clock::now() + 30s;
    while (run.received_status.empty() && Clock::now() < received_by) {
        for (const auto& in : core.transmissions().list(receiver, {}).all()) {
            if (in.direction != "inbound") continue;
            run.received_status = in.status;
            run.received_pages = results_of(core, receiver, in.transmission_id)["pages"];
        }
        if (run.received_status.empty()) std::this_thread::sleep_for(100ms);
    }
    return run;
}

fax::FaxSession::Config session_config(fax::FaxSession::Role role, bool calling, const std::filesystem::path& tiff,
                                       const char* id, fax::FaxSession::Transport transport) {
    fax::FaxSession::Config c;
    c.role = role;
    c.calling = calling;
    c.tiff = tiff;
    c.station_id = id;
    c.transport = transport;
    return c;
}

constexpr long max_frames = 50L * 60 * 15;  // fifteen minutes of line time

// The same pages between two FaxSessions in memory, as fast as the CPU goes; the line time is
// the count of 20 ms frames T.30 needed.
FaxBaseline run_baseline_fax(const std::filesystem::path& sent, const std::filesystem::path& received, bool t38) {
    using fax::FaxSession;
    const auto transport = t38 ? FaxSession::Transport::t38 : FaxSession::Transport::audio;
    auto sender_config = session_config(FaxSession::Role::send, true, sent, "+1 555 0200", transport);
    auto receiver_config = session_config(FaxSession::Role::receive, false, received, "+1 555 0100", transport);
    fax::UdptlEncoder to_receiver(3, 400), to_sender(3, 400);
    fax::UdptlDecoder at_receiver, at_sender;
    std::deque<fax::Bytes> toward_receiver, toward_sender;
    const auto wire = [](fax::UdptlEncoder& encoder, std::deque<fax::Bytes>& queue) {
        return [&encoder, &queue](std::span<const std::uint8_t> packet, int copies) {
            const auto datagram = encoder.encode(packet);
            for (int i = 0; i < std::max(copies, 1); ++i) queue.push_back(datagram);
        };
    };
    if (t38) {
        sender_config.send_ifp = wire(to_receiver, toward_receiver);
        receiver_config.send_ifp = wire(to_sender, toward_sender);
    }
    FaxSession sender(sender_config);
    FaxSession receiver(receiver_config);
    const auto deliver = [](std::deque<fax::Bytes>& queue, fax::UdptlDecoder& decoder, FaxSession& to) {
        for (; !queue.empty(); queue.pop_front()) {
            if (const auto packets = decoder.decode(queue.front())) {
                for (const auto& p : *packets) to.receive_ifp(p.data, p.sequence);
            }
        }
    };
    const auto line = [](FaxSession& from, FaxSession& to) {  // one direction, 20 ms of µ-law
        std::int16_t pcm[160];
        from.transmit_audio(pcm);
        for (auto& sample : pcm) sample = ulaw_to_linear(linear_to_ulaw(sample));
        to.receive_audio(pcm);
    };
    const double cpu_start = thread_cpu_now();
    long frames = 0;
    for (; frames < max_frames && !(sender.finished() && receiver.finished()); ++frames) {
        if (t38) {
            sender.advance(160);
            receiver.advance(160);
            deliver(toward_receiver, at_receiver, receiver);
            deliver(toward_sender, at_sender, sender);
        } else {
            line(sender, receiver);
            line(receiver, sender);
        }
    }
    FaxBaseline b;
    b.cpu = thread_cpu_now() - cpu_start;
    b.line_seconds = static_cast<double>(frames) / 50.0;
    if (sender.finished()) {
        b.success = sender.outcome().success && receiver.finished() && receiver.outcome().success;
        b.pages = sender.outcome().pages;
        b.bit_rate = sender.outcome().bit_rate;
    }
    return b;
}

// ---- report ----------------------------------------------------------------------------------

std::string pacing(const VoiceRun& r) {
    return fmt::format("max gap {:.1f} ms, mean gap {:.3f} ms, {} RTP packets", r.max_gap, r.mean_gap,
                       num(static_cast<double>(r.packets)));
}

std::string voice_result(const VoiceRun& r, int calls) {
    return fmt::format(
        "{:.2f} s CPU; {:.2f} s wall; peak RSS {:.1f} MB ({:.1f} MB before); {}; {}/{} completed, SIPp exit {}", r.cpu,
        r.wall, r.peak_rss, r.rss_before, pacing(r), r.completed, calls, r.sipp_exit);
}

bool fax_ok(const FaxRun& run, const FaxBaseline& base, int pages) {
    return run.status == "completed" && run.pages == pages && run.received_status == "completed" && base.success &&
           base.pages == pages;
}

void print_fax(const char* label, const char* transport, const FaxRun& run, const FaxBaseline& base, int pages) {
    const double per_page = run.wall / std::max(run.pages, 1);
    const double base_per_page = base.line_seconds / std::max(base.pages, 1);
    std::cout << fmt::format(
        "| ({}) {}-page fax over {} through one Core calling itself (sendfax → receivefax) | {:.1f} s per page "
        "({:.1f} s for {} pages at {} bit/s, transport {}, T.30 '{}'; sent {}, received {} with {} pages) | | |\n",
        label, pages, transport, per_page, run.wall, run.pages, run.bit_rate, run.transport, run.t30, run.status,
        run.received_status.empty() ? "nothing" : run.received_status, run.received_pages);
    std::cout << fmt::format(
        "| ({}') baseline: the same pages between two FaxSessions in memory ({}) | {:.1f} s line time per page "
        "({:.1f} s for {} pages at {} bit/s; {:.2f} s CPU) | baseline | |\n",
        label, transport, base_per_page, base.line_seconds, base.pages, base.bit_rate, base.cpu);
    std::cout << fmt::format("| **{}/{}'** per page | **{:.2f}** | (information) | {} |\n", label, label,
                             per_page / base_per_page, fax_ok(run, base, pages) ? "" : "FAILED");
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    const char* tmp = std::getenv("TMPDIR");
    args.dir = tmp && *tmp ? tmp : "/tmp";
    CLI::App app{"bench-sip: voice and fax through the SIP gateway against the SIP layer / FaxSessions alone"};
    app.add_option("--calls", args.calls, "simultaneous voice calls in (n) and (o)")
        ->capture_default_str()
        ->check(CLI::Range(1, 1000));
    app.add_option("--prompt-seconds", args.prompt_seconds, "length of the voice prompt")
        ->capture_default_str()
        ->check(CLI::Range(1, 600));
    app.add_option("--pages", args.pages, "pages of the fax in (p) and (q)")
        ->capture_default_str()
        ->check(CLI::Range(1, 20));
    app.add_flag("!--no-fax", args.fax, "skip (p) and (q)");
    app.add_option("--dir", args.dir, "directory for the scratch data")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    std::filesystem::path dir;
    int status = 0;
    try {
        dir = make_scratch_dir(args.dir, "ictcore-bench-sip");
        const auto wav = dir / "tone.wav";
        write_tone_wav(wav, args.prompt_seconds);

        std::cerr << "[bench-sip] (o) " << args.calls << " calls of " << args.prompt_seconds
                  << " s on the SIP layer alone\n";
        const auto o = run_direct_calls(args, dir / "o", wav);
        std::cerr << "[bench-sip] (n) " << args.calls << " voicemessage calls through an embedded Core\n";
        const auto n = run_core_calls(args, dir / "n", wav);
        const bool voice_ok =
            n.completed == args.calls && o.completed == args.calls && n.sipp_exit == 0 && o.sipp_exit == 0;
        std::cout << "| (n) " << args.calls << " simultaneous voicemessage calls of a " << args.prompt_seconds
                  << " s prompt through an embedded Core to SIPp (uas_answer) | " << voice_result(n, args.calls)
                  << " | | |\n";
        std::cout << "| (o) baseline: the same calls on the SIP layer alone (ReLoop + UserAgent, no Core) | "
                  << voice_result(o, args.calls) << " | baseline | |\n";
        std::cout << fmt::format(
            "| **CPU n/o** | **{:.2f}** ({:.1f} ms vs {:.1f} ms CPU per call) | (information) | {} |\n", n.cpu / o.cpu,
            1000 * n.cpu / args.calls, 1000 * o.cpu / args.calls, voice_ok ? "" : "FAILED");
        std::cout << fmt::format(
            "| RTP pacing n vs o | max gap {:.1f} vs {:.1f} ms; mean gap {:.3f} vs {:.3f} ms (nominal 20) | | |\n",
            n.max_gap, o.max_gap, n.mean_gap, o.mean_gap);
        if (!voice_ok) status = 1;

        if (args.fax) {
            const auto pages = dir / "letter.tif";
            write_text_pages(pages, args.pages);
            for (const bool t38 : {false, true}) {
                const char* label = t38 ? "q" : "p";
                const auto run_dir = dir / label;
                std::filesystem::create_directories(run_dir);
                std::cerr << "[bench-sip] (" << label << ") " << args.pages << "-page fax over "
                          << (t38 ? "T.38" : "G.711") << " through one Core\n";
                const auto sent = run_dir / "sent.tif";
                const auto run = run_core_fax(run_dir, pages, t38, sent);
                const auto base = run_baseline_fax(sent, run_dir / "received.tif", t38);
                print_fax(label, t38 ? "T.38" : "G.711", run, base, args.pages);
                if (!fax_ok(run, base, args.pages)) status = 1;
            }
        }
        std::cout << fmt::format("info: load average {}\n", read_file("/proc/loadavg").substr(0, 14));
    } catch (const std::exception& e) {
        std::cerr << "bench-sip: " << e.what() << '\n';
        status = 1;
    }
    if (!dir.empty()) {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
    }
    return status;
}

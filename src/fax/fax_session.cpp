// FaxSession over spandsp 0.0.6 (see fax_session.hpp): fax_state_t for audio, a T.38 terminal
// for T.38, both driven through their T.30 state; the phase E handler records the outcome.
#include "fax/fax_session.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>
#include <spandsp.h>
#include <tiffio.h>

namespace ictcore::fax {

struct FaxSession::State {
    Config config;
    fax_state_t* audio = nullptr;
    t38_terminal_state_t* t38 = nullptr;
    bool finished = false;
    FaxOutcome outcome;

    t30_state_t* t30() const { return audio ? fax_get_t30_state(audio) : t38_terminal_get_t30_state(t38); }
};

namespace {

int pages_of(const std::filesystem::path& tiff) {
    TIFFSetErrorHandler(nullptr);
    TIFF* t = TIFFOpen(tiff.c_str(), "r");
    if (!t) throw Error(Errc::invalid, fmt::format("cannot read the fax TIFF {}", tiff.string()));
    const int pages = TIFFNumberOfDirectories(t);
    TIFFClose(t);
    return pages;
}

void phase_e(t30_state_t* t30, void* user, int code) {
    auto& s = *static_cast<FaxSession::State*>(user);
    t30_stats_t stats{};
    t30_get_transfer_statistics(t30, &stats);
    auto& o = s.outcome;
    o.code = code;
    o.text = t30_completion_code_to_str(code);
    o.pages = s.config.role == FaxSession::Role::send ? stats.pages_tx : stats.pages_rx;
    o.bit_rate = stats.bit_rate;
    o.ecm = stats.error_correcting_mode != 0;
    if (const char* id = t30_get_rx_ident(t30)) o.remote_id = id;
    o.success = code == T30_ERR_OK && (s.config.role == FaxSession::Role::receive || o.pages == o.pages_in_file);
    s.finished = true;
}

int send_packet(t38_core_state_t*, void* user, const std::uint8_t* packet, int length, int copies) {
    auto& s = *static_cast<FaxSession::State*>(user);
    if (s.config.send_ifp) s.config.send_ifp({packet, static_cast<std::size_t>(length)}, copies);
    return 0;
}

}  // namespace

FaxSession::FaxSession(Config config) : state_(std::make_unique<State>()) {
    auto& s = *state_;
    s.config = std::move(config);
    const bool sending = s.config.role == Role::send;
    if (sending) s.outcome.pages_in_file = pages_of(s.config.tiff);
    if (s.config.transport == Transport::audio) {
        s.audio = fax_init(nullptr, s.config.calling);
        if (!s.audio) throw Error(Errc::internal, "spandsp: cannot start a fax session");
        fax_set_transmit_on_idle(s.audio, true);
    } else {
        if (!s.config.send_ifp) throw Error(Errc::invalid, "a T.38 fax session needs a packet sender");
        s.t38 = t38_terminal_init(nullptr, s.config.calling, send_packet, &s);
        if (!s.t38) throw Error(Errc::internal, "spandsp: cannot start a T.38 session");
        t38_core_state_t* core = t38_terminal_get_t38_core_state(s.t38);
        t38_set_t38_version(core, 0);
        // UDPTL: the training check is transferred, and sequence numbers are checked.
        t38_set_data_rate_management_method(core, T38_DATA_RATE_MANAGEMENT_TRANSFERRED_TCF);
        t38_set_max_datagram_size(core, 400);
        t38_set_sequence_number_handling(core, true);
        t38_terminal_set_config(s.t38, 0);
    }
    t30_state_t* t30 = s.t30();
    t30_set_tx_ident(t30, s.config.station_id.substr(0, 20).c_str());
    t30_set_ecm_capability(t30, s.config.ecm);
    t30_set_supported_modems(t30, T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER);
    // T.6 (MMR) is used only with ECM, and then shortens the line time by about a fifth.
    t30_set_supported_compressions(
        t30, T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION);
    if (sending)
        t30_set_tx_file(t30, s.config.tiff.c_str(), -1, -1);
    else
        t30_set_rx_file(t30, s.config.tiff.c_str(), -1);
    t30_set_phase_e_handler(t30, phase_e, &s);
}

FaxSession::~FaxSession() {
    if (state_->audio) fax_free(state_->audio);
    if (state_->t38) t38_terminal_free(state_->t38);
}

void FaxSession::receive_audio(std::span<const std::int16_t> samples) {
    if (!state_->audio) return;
    // spandsp takes a non-const buffer but does not write to it.
    fax_rx(state_->audio, const_cast<std::int16_t*>(samples.data()), static_cast<int>(samples.size()));
}

void FaxSession::transmit_audio(std::span<std::int16_t> samples) {
    std::size_t made = 0;
    if (state_->audio)
        made = static_cast<std::size_t>(fax_tx(state_->audio, samples.data(), static_cast<int>(samples.size())));
    std::fill(samples.begin() + static_cast<std::ptrdiff_t>(made), samples.end(), std::int16_t{0});
}

void FaxSession::receive_ifp(std::span<const std::uint8_t> packet, std::uint16_t sequence) {
    if (!state_->t38) return;
    t38_core_rx_ifp_packet(t38_terminal_get_t38_core_state(state_->t38), packet.data(), static_cast<int>(packet.size()),
                           sequence);
}

void FaxSession::advance(int samples) {
    if (state_->t38) t38_terminal_send_timeout(state_->t38, samples);
}

void FaxSession::terminate() {
    if (!state_->finished) t30_terminate(state_->t30());
}

bool FaxSession::finished() const { return state_->finished; }
const FaxOutcome& FaxSession::outcome() const { return state_->outcome; }

}  // namespace ictcore::fax

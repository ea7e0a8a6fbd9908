// Call (see call.hpp). One object per call on the ReLoop thread: the SIP session (libre sipsess),
// the SDP session, the RTP socket and, for T.38, a UDPTL socket. Media run on one libre timer per
// call, re-armed against an absolute schedule (start + n × 20 ms) so that timer lateness never
// accumulates into drift.
#include "sip/call.hpp"

#include "sip/call_sdp.hpp"

#include "fax/udptl.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>
#include <re.h>
#include <spandsp.h>
#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace ictcore::sip {

namespace {

constexpr int frame_ms = 20;
constexpr std::size_t frame_samples = Prompt::frame_samples;
// How long a sender waits for the answer to its T.38 re-INVITE before faxing over audio.
constexpr std::uint64_t t38_answer_wait_ms = 5000;
// A finished fax keeps the line open a moment so the far end hears the last frames (DCN).
constexpr std::uint64_t fax_hangup_delay_ms = 500;

std::string text_of(const struct pl& pl) { return std::string(pl.p ? pl.p : "", pl.l); }

std::string sip_cause(const sip_msg* msg) { return fmt::format("{} {}", msg->scode, text_of(msg->reason)); }

template <typename T>
void release(T*& p) {
    p = static_cast<T*>(mem_deref(p));
}

class CallImpl final : public Call {
public:
    CallImpl(const SipEndpoint& endpoint, CallPlan plan, CallEvents events, bool outbound)
        : endpoint_(endpoint), plan_(std::move(plan)), events_(std::move(events)), outbound_(outbound) {
        tmr_init(&ring_timer_);
        tmr_init(&media_timer_);
        tmr_init(&end_timer_);
        tmr_init(&limit_timer_);
        tmr_init(&t38_timer_);
    }

    ~CallImpl() override {
        cancel_timers();
        release(session_);
        close_media();
    }

    // ---- setting up ---------------------------------------------------------------------

    int open_media() {
        struct sa ip;
        if (int err = sa_set_str(&ip, endpoint_.local_ip.c_str(), 0)) return err;
        if (int err = rtp_listen(&rtp_, IPPROTO_UDP, &ip, 10000, 60000, true, on_rtp, nullptr, this)) return err;
        if (int err = telev_alloc(&telev_, TELEV_PTIME)) return err;
        const bool voice = plan_.purpose == CallPlan::Purpose::voice;
        if (int err = sdp_.open(ip, sa_port(rtp_local(rtp_)), plan_.codecs, voice)) return err;
        // A fax call that may use T.38 has the image stream ready but disabled, whichever side
        // sends the re-INVITE (receiving gateways usually do).
        if (!voice && plan_.t38) return add_image_media();
        return 0;
    }

    int add_image_media() {
        struct sa ip;
        sa_set_str(&ip, endpoint_.local_ip.c_str(), 0);
        if (int err = udp_listen(&udptl_, &ip, on_udptl, this)) return err;
        struct sa bound;
        udp_local_get(udptl_, &bound);
        return sdp_.add_image(sa_port(&bound));
    }

    void start_outbound() {
        int err = open_media();
        struct mbuf* offer = nullptr;
        if (!err) err = sdp_.encode(&offer, true);
        if (!err) {
            const std::string from = fmt::format("sip:{}@{}", plan_.from_user, endpoint_.contact_host);
            err = sipsess_connect(&session_, endpoint_.sessions, plan_.request_uri.c_str(), plan_.from_name.c_str(),
                                  from.c_str(), plan_.from_user.c_str(), nullptr, 0, "application/sdp", offer, on_auth,
                                  this, false, on_offer, on_answer, on_progress, on_established, nullptr, nullptr,
                                  on_closed, this, nullptr);
        }
        mem_deref(offer);
        if (err) {
            end(CallReport::End::unavailable,
                fmt::format("cannot place the call to {}: {}", plan_.request_uri, std::strerror(err)));
            return;
        }
        // The ring timer starts with the first provisional response (on_progress): a far end that
        // never responds is not an unanswered call but an unreachable provider (Timer B, 32 s).
    }

    void start_inbound(const sip_msg* invite) {
        report_.caller = text_of(invite->from.uri.user);
        report_.called = text_of(invite->uri.user);
        if (mbuf_get_left(invite->mb) == 0) {
            sip_treply(nullptr, endpoint_.stack, invite, 488, "Not Acceptable Here");
            end(CallReport::End::declined, "an INVITE without an SDP offer");
            return;
        }
        int err = open_media();
        if (!err) err = sdp_.decode(invite->mb, true);
        if (!err && !choose_codec()) {
            sip_treply(nullptr, endpoint_.stack, invite, 488, "Not Acceptable Here");
            end(CallReport::End::declined, "no common codec");
            return;
        }
        struct mbuf* answer = nullptr;
        if (!err) err = sdp_.encode(&answer, false);
        if (!err) {
            err = sipsess_accept(&session_, endpoint_.sessions, invite, 200, "OK", plan_.from_user.c_str(),
                                 "application/sdp", answer, nullptr, nullptr, false, on_offer, on_answer,
                                 on_established, nullptr, nullptr, on_closed, this, nullptr);
        }
        mem_deref(answer);
        if (err) {
            sip_treply(nullptr, endpoint_.stack, invite, 500, "Server Internal Error");
            end(CallReport::End::unavailable, fmt::format("cannot answer: {}", std::strerror(err)));
            return;
        }
        // The caller hears our answer tone at once; ACK need not be waited for.
        answered();
    }

    // The far end's audio format: the first of ours it accepted, and its telephone-event type.
    bool choose_codec() {
        const auto remote = sdp_.remote_audio(plan_.codecs);
        if (!remote) return false;
        codec_ = remote->codec;
        report_.codec = codec_name(codec_);
        audio_raddr_ = remote->address;
        telev_pt_ = remote->telephone_event_pt;
        return true;
    }

    // ---- the call answered: media ------------------------------------------------------

    void answered() {
        if (is_answered_) return;
        is_answered_ = true;
        answered_at_ = std::chrono::steady_clock::now();
        tmr_cancel(&ring_timer_);
        tmr_start(&limit_timer_, static_cast<std::uint64_t>(plan_.max_duration.count()), on_limit, this);
        try {
            switch (plan_.purpose) {
                case CallPlan::Purpose::voice:
                    prompt_ = std::make_unique<Prompt>(plan_.prompt_wav, codec_);
                    if (telev_pt_ < 0) dtmf_ = dtmf_rx_init(nullptr, on_inband_digits, this);
                    break;
                case CallPlan::Purpose::send_fax:
                    if (plan_.t38) {
                        request_t38();
                    } else {
                        start_fax(fax::FaxSession::Transport::audio);
                    }
                    break;
                case CallPlan::Purpose::receive_fax:
                    start_fax(fax::FaxSession::Transport::audio);
                    break;
            }
        } catch (const std::exception& e) {
            end(CallReport::End::unavailable, e.what());
            return;
        }
        media_start_ = tmr_jiffies();
        on_media_tick(this);
    }

    void start_fax(fax::FaxSession::Transport transport) {
        fax::FaxSession::Config config;
        config.role =
            plan_.purpose == CallPlan::Purpose::send_fax ? fax::FaxSession::Role::send : fax::FaxSession::Role::receive;
        config.calling = outbound_;
        config.tiff = plan_.tiff;
        config.station_id = plan_.station_id;
        config.ecm = plan_.ecm;
        config.transport = transport;
        if (transport == fax::FaxSession::Transport::t38) {
            udptl_out_.emplace(3, 400);
            config.send_ifp = [this](std::span<const std::uint8_t> packet, int copies) { send_ifp(packet, copies); };
        }
        fax_.reset();  // an audio session replaced by T.38 closes its (still empty) file first
        fax_ = std::make_unique<fax::FaxSession>(std::move(config));
        report_.transport = transport == fax::FaxSession::Transport::t38 ? "t38" : "audio";
    }

    // Sender: offer T.38 in place of audio (RFC 3264: the audio stream goes to port 0).
    void request_t38() {
        int err = sdp_.has_image() ? 0 : add_image_media();
        struct mbuf* offer = nullptr;
        if (!err) {
            sdp_.offer_t38();
            err = sdp_.encode(&offer, true);
        }
        if (!err) err = sipsess_modify(session_, offer);
        mem_deref(offer);
        if (err) {
            spdlog::warn("sip: T.38 re-INVITE failed ({}); faxing over audio", std::strerror(err));
            start_fax(fax::FaxSession::Transport::audio);
            return;
        }
        t38_requested_ = true;
        tmr_start(&t38_timer_, t38_answer_wait_ms, on_t38_timeout, this);
    }

    void t38_answered(std::optional<struct sa> image) {
        if (!t38_requested_) return;
        t38_requested_ = false;
        tmr_cancel(&t38_timer_);
        if (image) {
            image_raddr_ = *image;
            start_fax(fax::FaxSession::Transport::t38);
        } else {
            start_fax(fax::FaxSession::Transport::audio);
        }
    }

    void send_ifp(std::span<const std::uint8_t> packet, int copies) {
        if (!udptl_ || !sa_isset(&image_raddr_, SA_ALL)) return;
        const auto datagram = udptl_out_->encode(packet);
        for (int i = 0; i < std::max(copies, 1); ++i) {
            struct mbuf* mb = mbuf_alloc(datagram.size());
            if (!mb) return;
            mbuf_write_mem(mb, datagram.data(), datagram.size());
            mb->pos = 0;
            udp_send(udptl_, &image_raddr_, mb);
            mem_deref(mb);
        }
    }

    static void on_media_tick(void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        c.media_tick();
    }

    void media_tick() {
        if (fax_ && fax_->finished()) {
            if (!fax_done_at_) fax_done_at_ = tmr_jiffies();
            // The caller hangs up; the answering side only if the caller does not.
            const auto delay = outbound_ ? fax_hangup_delay_ms : 4 * fax_hangup_delay_ms + 3000;
            if (tmr_jiffies() - *fax_done_at_ >= delay) {
                end(CallReport::End::answered, "200 OK");
                return;
            }
        }
        std::array<std::uint8_t, frame_samples> payload{};
        bool send_audio = !t38_active();
        if (prompt_) {
            if (next_frame_ < prompt_->frames()) {
                const auto frame = prompt_->frame(next_frame_++);
                std::copy(frame.begin(), frame.end(), payload.begin());
            } else {
                const auto silence = prompt_->silence();
                std::copy(silence.begin(), silence.end(), payload.begin());
                if (!prompt_done_) prompt_ended();
                if (finished_) return;
            }
        } else if (fax_ && !t38_active()) {
            std::array<std::int16_t, frame_samples> samples{};
            fax_->transmit_audio(samples);
            for (std::size_t i = 0; i < frame_samples; ++i) payload[i] = encode(samples[i]);
        } else if (fax_) {
            fax_->advance(static_cast<int>(frame_samples));
        } else {
            payload.fill(encode(0));  // waiting for the T.38 answer: keep the line alive
        }
        if (send_audio) send_rtp(payload);
        ++ticks_;
        const std::uint64_t due = media_start_ + ticks_ * frame_ms;
        const std::uint64_t now = tmr_jiffies();
        tmr_start(&media_timer_, due > now ? due - now : 0, on_media_tick, this);
    }

    bool t38_active() const { return report_.transport == "t38"; }

    std::uint8_t encode(std::int16_t sample) const {
        return codec_ == G711::pcmu ? linear_to_ulaw(sample) : linear_to_alaw(sample);
    }

    void send_rtp(const std::array<std::uint8_t, frame_samples>& payload) {
        struct mbuf* mb = mbuf_alloc(RTP_HEADER_SIZE + payload.size());
        if (!mb) return;
        mb->pos = mb->end = RTP_HEADER_SIZE;  // rtp_send writes the header in front
        mbuf_write_mem(mb, payload.data(), payload.size());
        mb->pos = RTP_HEADER_SIZE;
        rtp_send(rtp_, &audio_raddr_, false, report_.rtp_packets == 0, payload_type(codec_), timestamp_, mb);
        mem_deref(mb);
        timestamp_ += frame_samples;
        const auto now = std::chrono::steady_clock::now();
        if (report_.rtp_packets > 0) {
            const double gap = std::chrono::duration<double, std::milli>(now - last_sent_).count();
            gap_sum_ += gap;
            report_.rtp_max_gap_ms = std::max(report_.rtp_max_gap_ms, gap);
        }
        last_sent_ = now;
        ++report_.rtp_packets;
    }

    void prompt_ended() {
        prompt_done_ = true;
        if (plan_.digit_wait.count() == 0) {
            end(CallReport::End::answered, "200 OK");
            return;
        }
        tmr_start(&end_timer_, static_cast<std::uint64_t>(plan_.digit_wait.count()), on_end_timer, this);
    }

    static void on_end_timer(void* arg) { static_cast<CallImpl*>(arg)->end(CallReport::End::answered, "200 OK"); }

    void add_digit(char digit) {
        report_.digits += digit;
        // Each digit after the prompt gives the caller the whole wait again for the next one.
        if (prompt_done_ && plan_.digit_wait.count() > 0)
            tmr_start(&end_timer_, static_cast<std::uint64_t>(plan_.digit_wait.count()), on_end_timer, this);
    }

    static void on_inband_digits(void* user, const char* digits, int length) {
        auto& c = *static_cast<CallImpl*>(user);
        for (int i = 0; i < length; ++i) c.add_digit(digits[i]);
    }

    // ---- receiving -----------------------------------------------------------------------

    static void on_rtp(const struct sa*, const struct rtp_header* header, struct mbuf* mb, void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        if (c.finished_ || !c.is_answered_) return;
        if (c.telev_pt_ >= 0 && header->pt == c.telev_pt_) {
            int event = 0;
            bool end = false;
            // telev_recv reports each event once, on its first end packet.
            if (telev_recv(c.telev_, mb, &event, &end) == 0 && end) {
                const int digit = telev_code2digit(event);
                if (digit > 0) c.add_digit(static_cast<char>(digit));
            }
            return;
        }
        if (header->pt != 0 && header->pt != 8) return;
        const std::size_t n = std::min<std::size_t>(mbuf_get_left(mb), 1024);
        std::array<std::int16_t, 1024> samples{};
        const std::uint8_t* data = mbuf_buf(mb);
        for (std::size_t i = 0; i < n; ++i)
            samples[i] = header->pt == 0 ? ulaw_to_linear(data[i]) : alaw_to_linear(data[i]);
        if (c.dtmf_) dtmf_rx(c.dtmf_, samples.data(), static_cast<int>(n));
        if (c.fax_ && !c.t38_active()) c.fax_->receive_audio({samples.data(), n});
    }

    static void on_udptl(const struct sa*, struct mbuf* mb, void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        if (c.finished_ || !c.fax_ || !c.t38_active()) return;
        const auto packets = c.udptl_in_.decode({mbuf_buf(mb), mbuf_get_left(mb)});
        if (!packets) return;
        for (const auto& packet : *packets) c.fax_->receive_ifp(packet.data, packet.sequence);
    }

    // ---- SIP -----------------------------------------------------------------------------

    static int on_auth(char** user, char** password, const char*, void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        // Without a password there is nothing to answer a challenge with: the call fails 401/407.
        if (c.plan_.auth_password.empty()) return EAUTH;
        int err = str_dup(user, c.plan_.auth_user.c_str());
        err |= str_dup(password, c.plan_.auth_password.c_str());
        return err;
    }

    static void on_progress(const sip_msg*, void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        if (c.ringing_ || c.is_answered_) return;
        c.ringing_ = true;
        tmr_start(&c.ring_timer_, static_cast<std::uint64_t>(c.plan_.ring_timeout.count()), on_ring_timeout, &c);
    }

    // The SDP answer to our INVITE, or to our T.38 re-INVITE.
    static int on_answer(const sip_msg* msg, void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        if (int err = c.sdp_.decode(msg->mb, false)) return err;
        if (c.t38_requested_) {
            c.t38_answered(c.sdp_.remote_image());
            return 0;
        }
        if (c.outbound_ && !c.is_answered_ && !c.choose_codec()) return EPROTO;
        return 0;
    }

    // A re-INVITE from the far end: a fax call takes T.38 if its provider allows it; anything
    // else is answered as it stands (a declined stream stays at port 0).
    static int on_offer(struct mbuf** answer, const sip_msg* msg, void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        if (int err = c.sdp_.decode(msg->mb, true)) return err;
        const auto image = c.sdp_.remote_image();
        const bool take_t38 = image && !c.t38_active();
        if (take_t38) c.sdp_.enable_image();
        if (int err = c.sdp_.encode(answer, false)) return err;
        if (take_t38) {
            c.t38_requested_ = false;  // their offer crossed ours: theirs wins
            tmr_cancel(&c.t38_timer_);
            c.image_raddr_ = *image;
            try {
                c.start_fax(fax::FaxSession::Transport::t38);
            } catch (const std::exception& e) {
                spdlog::warn("sip: cannot switch the fax to T.38: {}", e.what());
            }
        }
        return 0;
    }

    static void on_established(const sip_msg*, void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        if (c.outbound_ && !c.is_answered_) {
            if (c.events_.connected) c.events_.connected();
            c.answered();
        }
    }

    static void on_closed(int err, const sip_msg* msg, void* arg) {
        auto& c = *static_cast<CallImpl*>(arg);
        if (c.is_answered_) {
            c.end(CallReport::End::answered, "200 OK");  // the far end hung up
            return;
        }
        if (msg && msg->scode >= 300) {
            const auto code = msg->scode;
            CallReport::End kind = CallReport::End::declined;
            if (code == 486 || code == 600)
                kind = CallReport::End::busy;
            else if (code >= 500 || code == 401 || code == 403 || code == 407)
                kind = CallReport::End::unavailable;
            c.end(kind, sip_cause(msg));
            return;
        }
        c.end(CallReport::End::unavailable,
              err == ETIMEDOUT ? std::string("no response (Connection timed out)")
                               : fmt::format("the call failed: {}", err ? std::strerror(err) : "closed"));
    }

    static void on_ring_timeout(void* arg) {
        // Releasing an unanswered session sends CANCEL.
        static_cast<CallImpl*>(arg)->end(CallReport::End::no_answer, "no_answer");
    }

    static void on_t38_timeout(void* arg) {
        spdlog::info("sip: no answer to the T.38 re-INVITE; faxing over audio");
        static_cast<CallImpl*>(arg)->t38_answered(std::nullopt);
    }

    static void on_limit(void* arg) {
        static_cast<CallImpl*>(arg)->end(CallReport::End::answered, "200 OK (maximum call duration reached)");
    }

    // ---- ending ----------------------------------------------------------------------------

    void hang_up(const std::string& cause) override {
        end(is_answered_ ? CallReport::End::answered : CallReport::End::unavailable, cause);
    }

    void end(CallReport::End kind, std::string cause) {
        if (finished_) return;
        finished_ = true;
        cancel_timers();
        release(session_);  // BYE when answered, CANCEL while ringing; libre completes it
        report_.end = kind;
        report_.cause = std::move(cause);
        if (is_answered_) {
            report_.answered_seconds =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - answered_at_).count();
        }
        if (report_.rtp_packets > 1) report_.rtp_mean_gap_ms = gap_sum_ / static_cast<double>(report_.rtp_packets - 1);
        if (fax_) {
            fax_->terminate();
            report_.fax = fax_->outcome();
            if (!fax_->finished()) {
                report_.fax->success = false;
                report_.fax->text = "the call ended before the fax was complete";
            }
        }
        close_media();
        auto ended = std::move(events_.ended);
        if (ended) ended(std::move(report_));
        if (endpoint_.release) endpoint_.release(this);
    }

    void cancel_timers() {
        tmr_cancel(&ring_timer_);
        tmr_cancel(&media_timer_);
        tmr_cancel(&end_timer_);
        tmr_cancel(&limit_timer_);
        tmr_cancel(&t38_timer_);
    }

    void close_media() {
        fax_.reset();  // closes the received TIFF before anyone reads it
        if (dtmf_) {
            dtmf_rx_free(dtmf_);
            dtmf_ = nullptr;
        }
        release(rtp_);
        release(udptl_);
        release(telev_);
    }

private:
    SipEndpoint endpoint_;
    CallPlan plan_;
    CallEvents events_;
    CallReport report_;
    bool outbound_;

    struct sipsess* session_ = nullptr;
    CallSdp sdp_;
    struct rtp_sock* rtp_ = nullptr;
    struct udp_sock* udptl_ = nullptr;
    struct telev* telev_ = nullptr;
    dtmf_rx_state_t* dtmf_ = nullptr;
    struct tmr ring_timer_, media_timer_, end_timer_, limit_timer_, t38_timer_;

    struct sa audio_raddr_ {};
    struct sa image_raddr_ {};
    G711 codec_ = G711::pcmu;
    int telev_pt_ = -1;

    std::unique_ptr<Prompt> prompt_;
    std::size_t next_frame_ = 0;
    bool prompt_done_ = false;

    std::unique_ptr<fax::FaxSession> fax_;
    std::optional<fax::UdptlEncoder> udptl_out_;
    fax::UdptlDecoder udptl_in_;
    bool t38_requested_ = false;
    std::optional<std::uint64_t> fax_done_at_;

    bool ringing_ = false;  // a provisional response came
    bool is_answered_ = false;
    bool finished_ = false;
    std::chrono::steady_clock::time_point answered_at_;
    std::uint64_t media_start_ = 0;
    std::uint64_t ticks_ = 0;
    std::uint32_t timestamp_ = 0;
    std::chrono::steady_clock::time_point last_sent_;
    double gap_sum_ = 0;
};

}  // namespace

std::unique_ptr<Call> Call::place(const SipEndpoint& endpoint, CallPlan plan, CallEvents events) {
    auto call = std::make_unique<CallImpl>(endpoint, std::move(plan), std::move(events), true);
    call->start_outbound();
    return call;
}

std::unique_ptr<Call> Call::answer(const SipEndpoint& endpoint, const sip_msg* invite, CallPlan plan,
                                   CallEvents events) {
    auto call = std::make_unique<CallImpl>(endpoint, std::move(plan), std::move(events), false);
    call->start_inbound(invite);
    return call;
}

}  // namespace ictcore::sip

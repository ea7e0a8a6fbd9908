// FaxSession: one fax call's T.30 session (spandsp), sending a fax TIFF or receiving into one,
// over G.711 audio or over T.38. The call's media side feeds it 20 ms at a time from one thread;
// spandsp keeps no global state, so sessions of different calls are independent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace ictcore::fax {

struct FaxOutcome {
    bool success = false;   // T.30 ended normally and, sending, every page of the file was confirmed
    int code = -1;          // spandsp's T.30 completion code (0: OK)
    std::string text;       // its description, e.g. "OK" or "Disconnected after permitted retries"
    int pages = 0;          // pages sent or received
    int pages_in_file = 0;  // sending: pages of the TIFF
    int bit_rate = 0;
    bool ecm = false;
    std::string remote_id;  // the far end's station identifier
};

class FaxSession {
public:
    enum class Role { send, receive };
    enum class Transport { audio, t38 };
    struct Config {
        Role role = Role::send;
        bool calling = true;         // we placed the call (CNG) or answered it (CED)
        std::filesystem::path tiff;  // sent from, or received into
        std::string station_id;      // our T.30 identifier (at most 20 characters)
        bool ecm = true;
        Transport transport = Transport::audio;
        // T.38: an IFP packet to send, `copies` times (the UDPTL layer numbers it).
        std::function<void(std::span<const std::uint8_t> packet, int copies)> send_ifp;
    };

    explicit FaxSession(Config config);
    ~FaxSession();
    FaxSession(const FaxSession&) = delete;
    FaxSession& operator=(const FaxSession&) = delete;

    // Audio: 8 kHz linear samples from the line, and the next samples to send (all filled;
    // silence while idle).
    void receive_audio(std::span<const std::int16_t> samples);
    void transmit_audio(std::span<std::int16_t> samples);
    // T.38: a received IFP packet with its UDPTL sequence number, and the passing of time
    // (call every 20 ms with 160 samples).
    void receive_ifp(std::span<const std::uint8_t> packet, std::uint16_t sequence);
    void advance(int samples);

    // The call ended (the far end hung up): T.30 ends here, with its outcome as far as it got
    // (a sender's confirmed pages count; a receiver keeps the pages it has).
    void terminate();

    bool finished() const;
    // Valid once finished().
    const FaxOutcome& outcome() const;

    struct State;

private:
    std::unique_ptr<State> state_;
};

}  // namespace ictcore::fax

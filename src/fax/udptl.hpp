// UDPTL (ITU-T T.38 Annex A): the datagram framing of T.38 fax over UDP. Each datagram carries a
// sequence number, one IFP packet and, for error recovery, copies of the previous IFP packets
// (the redundancy scheme; T.38's alternative, FEC, is accepted on receipt but not used), so a
// receiver gets back what single lost datagrams carried. IFP packets themselves are spandsp's
// business: this codec only frames them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

namespace ictcore::fax {

using Bytes = std::vector<std::uint8_t>;

struct IfpPacket {
    std::uint16_t sequence = 0;
    Bytes data;
};

class UdptlEncoder {
public:
    // `redundancy`: how many earlier IFP packets each datagram repeats; fewer go in when the
    // datagram would exceed `max_datagram` (the far end's T38FaxMaxDatagram).
    explicit UdptlEncoder(unsigned redundancy = 3, std::size_t max_datagram = 400);

    // The next datagram, carrying `ifp`. Throws Error(invalid) for an IFP packet too large to
    // frame (16 KB and more) or to fit in max_datagram on its own.
    Bytes encode(std::span<const std::uint8_t> ifp);
    std::uint16_t next_sequence() const { return sequence_; }

private:
    unsigned redundancy_;
    std::size_t max_datagram_;
    std::uint16_t sequence_ = 0;
    std::deque<Bytes> sent_;  // the latest IFP packets, most recent first
};

class UdptlDecoder {
public:
    // The IFP packets a datagram brings, in sequence order: those of lost datagrams it can
    // restore from its redundancy, then its own. Empty for a duplicate or a late datagram;
    // nullopt for one that cannot be read (nothing changes then).
    std::optional<std::vector<IfpPacket>> decode(std::span<const std::uint8_t> datagram);

    unsigned recovered() const { return recovered_; }  // IFP packets restored from redundancy
    unsigned lost() const { return lost_; }            // IFP packets neither received nor restored

private:
    bool started_ = false;
    std::uint16_t expected_ = 0;
    unsigned recovered_ = 0;
    unsigned lost_ = 0;
};

}  // namespace ictcore::fax

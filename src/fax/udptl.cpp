// UDPTL framing (see udptl.hpp), in the aligned-PER layout T.38 gateways use on the wire:
//   seq (2 bytes, big-endian) | length + primary IFP | 0x00 (redundancy) | count | (length + IFP)...
// Lengths are PER length determinants: one byte below 128, two bytes (0x80 | high) below 16384.
#include "fax/udptl.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace ictcore::fax {

namespace {

constexpr std::size_t largest_length = 0x3FFF;  // beyond this PER fragments, which IFP never needs
constexpr std::uint8_t redundancy_choice = 0x00;
constexpr std::uint8_t fec_choice = 0x80;
// A datagram this far behind is a peer that started its numbering again, not a late one.
constexpr int resync_distance = 1000;

std::size_t length_size(std::size_t n) { return n < 0x80 ? 1 : 2; }

void put_length(Bytes& out, std::size_t n) {
    if (n < 0x80) {
        out.push_back(static_cast<std::uint8_t>(n));
    } else {
        out.push_back(static_cast<std::uint8_t>(0x80 | (n >> 8)));
        out.push_back(static_cast<std::uint8_t>(n & 0xFF));
    }
}

std::optional<std::size_t> get_length(std::span<const std::uint8_t> in, std::size_t& at) {
    if (at >= in.size()) return std::nullopt;
    const std::uint8_t first = in[at++];
    if ((first & 0x80) == 0) return first;
    if ((first & 0xC0) != 0x80 || at >= in.size()) return std::nullopt;  // 0xC0: fragmented form
    return static_cast<std::size_t>((first & 0x3F) << 8) | in[at++];
}

std::optional<Bytes> get_field(std::span<const std::uint8_t> in, std::size_t& at) {
    const auto n = get_length(in, at);
    if (!n || *n > in.size() - at) return std::nullopt;
    Bytes field(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + *n));
    at += *n;
    return field;
}

}  // namespace

UdptlEncoder::UdptlEncoder(unsigned redundancy, std::size_t max_datagram)
    : redundancy_(redundancy), max_datagram_(max_datagram) {}

Bytes UdptlEncoder::encode(std::span<const std::uint8_t> ifp) {
    if (ifp.size() > largest_length) {
        throw Error(Errc::invalid, fmt::format("an IFP packet of {} bytes is too large for UDPTL", ifp.size()));
    }
    // seq + primary + recovery choice + count of secondaries
    std::size_t size = 2 + length_size(ifp.size()) + ifp.size() + 1 + 1;
    if (size > max_datagram_) {
        throw Error(Errc::invalid, fmt::format("an IFP packet of {} bytes does not fit a {}-byte datagram", ifp.size(),
                                               max_datagram_));
    }
    std::size_t secondaries = 0;
    while (secondaries < std::min<std::size_t>(redundancy_, sent_.size())) {
        const auto& next = sent_[secondaries];
        const std::size_t more = length_size(next.size()) + next.size();
        if (size + more > max_datagram_) break;
        size += more;
        ++secondaries;
    }
    Bytes out;
    out.reserve(size);
    out.push_back(static_cast<std::uint8_t>(sequence_ >> 8));
    out.push_back(static_cast<std::uint8_t>(sequence_ & 0xFF));
    put_length(out, ifp.size());
    out.insert(out.end(), ifp.begin(), ifp.end());
    out.push_back(redundancy_choice);
    put_length(out, secondaries);
    for (std::size_t i = 0; i < secondaries; ++i) {
        put_length(out, sent_[i].size());
        out.insert(out.end(), sent_[i].begin(), sent_[i].end());
    }
    if (redundancy_ > 0) {
        sent_.emplace_front(ifp.begin(), ifp.end());
        if (sent_.size() > redundancy_) sent_.pop_back();
    }
    ++sequence_;
    return out;
}

std::optional<std::vector<IfpPacket>> UdptlDecoder::decode(std::span<const std::uint8_t> datagram) {
    if (datagram.size() < 3) return std::nullopt;
    const auto sequence = static_cast<std::uint16_t>(datagram[0] << 8 | datagram[1]);
    std::size_t at = 2;
    auto primary = get_field(datagram, at);
    if (!primary) return std::nullopt;
    std::vector<Bytes> secondaries;  // most recent first: sequence - 1, sequence - 2, …
    if (at < datagram.size()) {
        const std::uint8_t choice = datagram[at++];
        if (choice == redundancy_choice) {
            const auto count = get_length(datagram, at);
            if (!count) return std::nullopt;
            for (std::size_t i = 0; i < *count; ++i) {
                auto copy = get_field(datagram, at);
                if (!copy) return std::nullopt;
                secondaries.push_back(std::move(*copy));
            }
        } else if (choice != fec_choice) {
            return std::nullopt;
        }
        // FEC parity cannot restore anything here: its primary is still good.
    }

    std::vector<IfpPacket> out;
    if (started_) {
        const int ahead = static_cast<std::int16_t>(static_cast<std::uint16_t>(sequence - expected_));
        if (ahead < 0 && ahead > -resync_distance) return out;  // a duplicate or a late one
        if (ahead > 0) {
            for (int missing = ahead; missing >= 1; --missing) {  // expected_ … sequence - 1, oldest first
                const auto index = static_cast<std::size_t>(missing - 1);
                if (index < secondaries.size()) {
                    out.push_back({static_cast<std::uint16_t>(sequence - missing), std::move(secondaries[index])});
                    ++recovered_;
                } else {
                    ++lost_;
                }
            }
        }
    }
    started_ = true;
    out.push_back({sequence, std::move(*primary)});
    expected_ = static_cast<std::uint16_t>(sequence + 1);
    return out;
}

}  // namespace ictcore::fax

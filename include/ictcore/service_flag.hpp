// Service and gateway flags: the numbers the API uses for what is delivered (voice, fax, SMS,
// e-mail) and through what kind of gateway, with their names for messages and settings.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace ictcore {

// `service_flag` bits, as in ICTCore.
namespace service {
inline constexpr std::int64_t voice = 1;
inline constexpr std::int64_t fax = 2;
inline constexpr std::int64_t sms = 4;
inline constexpr std::int64_t email = 8;

// "voice", "fax", "sms", "email"; "unknown" for anything else.
std::string_view name(std::int64_t flag) noexcept;
// True for exactly one of the four bits.
bool valid(std::int64_t flag) noexcept;
}  // namespace service

// `gateway_flag` values, as in ICTCore, plus one for the simulated loopback gateway.
namespace gateway_flag {
inline constexpr std::int64_t kannel = 2;
inline constexpr std::int64_t smtp = 4;
inline constexpr std::int64_t sip = 8;
inline constexpr std::int64_t loopback = 16;
}  // namespace gateway_flag

}  // namespace ictcore

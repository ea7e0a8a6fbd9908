// Transmission: one program run against one contact; Spool: one attempt to deliver it;
// SpoolResult: what the far end answered during an attempt (DTMF digits, fax pages, …).
#pragma once

#include <ictcore/field.hpp>

#include <string_view>

namespace ictcore {

namespace transmission_status {
inline constexpr std::string_view pending = "pending";
inline constexpr std::string_view pending_retry = "pending_retry";  // failed, retried automatically later
inline constexpr std::string_view processing = "processing";        // an attempt is under way
inline constexpr std::string_view completed = "completed";
inline constexpr std::string_view failed = "failed";
inline constexpr std::string_view invalid = "invalid";  // cannot be delivered as it stands
}  // namespace transmission_status

namespace spool_status {
inline constexpr std::string_view queued = "queued";  // committed, not yet handed to a gateway
inline constexpr std::string_view started = "started";
inline constexpr std::string_view connected = "connected";
inline constexpr std::string_view completed = "completed";
inline constexpr std::string_view failed = "failed";
}  // namespace spool_status

struct Transmission {
    std::int64_t transmission_id = 0;
    std::string title;   // the program's name when omitted
    std::string origin;  // the program's type when omitted
    std::int64_t contact_id = 0;
    std::int64_t account_id = 0;    // the caller's default account when omitted
    std::int64_t service_flag = 0;  // the program's when omitted
    std::int64_t program_id = 0;
    std::string direction = "outbound";
    std::string status = std::string(transmission_status::pending);
    std::optional<std::string> response;  // why the last attempt failed
    std::int64_t try_allowed = 1;
    std::int64_t try_done = 0;
    std::optional<std::int64_t> last_run;  // Unix seconds of the last attempt
    std::optional<std::int64_t> next_run;  // when an automatic retry is due
    std::optional<std::int64_t> campaign_id;
    std::int64_t time_created = 0;
    std::int64_t created_by = 0;
};

template <>
struct Describe<Transmission> {
    static constexpr std::string_view entity = "transmission";
    static constexpr std::string_view table = "transmission";
    static constexpr std::string_view id = "transmission_id";
    using T = Transmission;
    static constexpr auto fields = std::make_tuple(
        Field<T, std::int64_t>{"transmission_id", &T::transmission_id, field::key},
        Field<T, std::string>{"title", &T::title}, Field<T, std::string>{"origin", &T::origin, field::none, -1, 64},
        Field<T, std::int64_t>{"contact_id", &T::contact_id, field::required},
        Field<T, std::int64_t>{"account_id", &T::account_id}, Field<T, std::int64_t>{"service_flag", &T::service_flag},
        Field<T, std::int64_t>{"program_id", &T::program_id, field::required},
        Field<T, std::string>{"direction", &T::direction, field::exact, -1, 16},
        Field<T, std::string>{"status", &T::status, field::readonly | field::exact},
        Field<T, std::optional<std::string>>{"response", &T::response, field::readonly},
        Field<T, std::int64_t>{"try_allowed", &T::try_allowed},
        Field<T, std::int64_t>{"try_done", &T::try_done, field::readonly},
        Field<T, std::optional<std::int64_t>>{"last_run", &T::last_run, field::readonly},
        Field<T, std::optional<std::int64_t>>{"next_run", &T::next_run, field::readonly},
        Field<T, std::optional<std::int64_t>>{"campaign_id", &T::campaign_id, field::readonly},
        Field<T, std::int64_t>{"time_created", &T::time_created, field::readonly},
        Field<T, std::int64_t>{"created_by", &T::created_by, field::owner});
};

struct Spool {
    std::int64_t spool_id = 0;
    std::int64_t time_spool = 0;               // Unix seconds: queued
    std::optional<std::int64_t> time_start;    // handed to the gateway
    std::optional<std::int64_t> time_connect;  // the far end answered
    std::optional<std::int64_t> time_end;      // outcome known
    std::string status = std::string(spool_status::queued);
    std::optional<std::string> response;  // e.g. busy, no_answer, a SIP cause, an SMTP reply
    std::int64_t transmission_id = 0;
    std::optional<std::int64_t> provider_id;
    std::int64_t created_by = 0;
};

template <>
struct Describe<Spool> {
    static constexpr std::string_view entity = "spool";
    static constexpr std::string_view table = "spool";
    static constexpr std::string_view id = "spool_id";
    using S = Spool;
    static constexpr auto fields =
        std::make_tuple(Field<S, std::int64_t>{"spool_id", &S::spool_id, field::key},
                        Field<S, std::int64_t>{"time_spool", &S::time_spool, field::readonly},
                        Field<S, std::optional<std::int64_t>>{"time_start", &S::time_start, field::readonly},
                        Field<S, std::optional<std::int64_t>>{"time_connect", &S::time_connect, field::readonly},
                        Field<S, std::optional<std::int64_t>>{"time_end", &S::time_end, field::readonly},
                        Field<S, std::string>{"status", &S::status, field::readonly | field::exact},
                        Field<S, std::optional<std::string>>{"response", &S::response, field::readonly, -1, 1024},
                        Field<S, std::int64_t>{"transmission_id", &S::transmission_id, field::readonly},
                        Field<S, std::optional<std::int64_t>>{"provider_id", &S::provider_id, field::readonly},
                        Field<S, std::int64_t>{"created_by", &S::created_by, field::owner});
};

struct SpoolResult {
    std::int64_t spool_result_id = 0;
    std::int64_t spool_id = 0;
    std::string type;  // dtmf, info, …
    std::string name;  // age, pages, …
    std::string data;
    std::int64_t created_by = 0;
};

template <>
struct Describe<SpoolResult> {
    static constexpr std::string_view entity = "spool_result";
    static constexpr std::string_view table = "spool_result";
    static constexpr std::string_view id = "spool_result_id";
    using R = SpoolResult;
    static constexpr auto fields =
        std::make_tuple(Field<R, std::int64_t>{"spool_result_id", &R::spool_result_id, field::key},
                        Field<R, std::int64_t>{"spool_id", &R::spool_id, field::readonly},
                        Field<R, std::string>{"type", &R::type, field::required, -1, 64},
                        Field<R, std::string>{"name", &R::name, field::required, -1, 64},
                        Field<R, std::string>{"data", &R::data, field::none, -1, 4096},
                        Field<R, std::int64_t>{"created_by", &R::created_by, field::owner});
};

}  // namespace ictcore

// Provider: a trunk or termination service a gateway delivers through. `type` names the
// gateway that handles it (loopback, smtp, kannel, sip); `settings` is a JSON object of
// gateway-specific options (for every gateway, `concurrency` bounds deliveries in flight).
#pragma once

#include <ictcore/field.hpp>

namespace ictcore {

struct Provider {
    std::int64_t provider_id = 0;
    std::string name;
    std::string type;               // from gateway_flag when omitted
    std::int64_t gateway_flag = 0;  // from type when omitted
    std::int64_t service_flag = 0;  // the services it carries (bits; may be several)
    std::optional<std::int64_t> node_id;
    std::optional<std::string> host;
    std::optional<std::int64_t> port;
    std::string username;
    std::optional<std::string> password;  // never returned
    std::optional<std::string> dialstring;
    std::optional<std::string> prefix;  // dialled before the number
    std::optional<std::string> settings;
    std::int64_t register_ = 0;
    std::int64_t weight = 10;  // share of deliveries among the providers of a service
    std::int64_t active = 1;
    std::int64_t created_by = 0;
};

template <>
struct Describe<Provider> {
    static constexpr std::string_view entity = "provider";
    static constexpr std::string_view table = "provider";
    static constexpr std::string_view id = "provider_id";
    using P = Provider;
    static constexpr auto fields = std::make_tuple(
        Field<P, std::int64_t>{"provider_id", &P::provider_id, field::key},
        Field<P, std::string>{"name", &P::name, field::required},
        Field<P, std::string>{"type", &P::type, field::exact, -1, 32},
        Field<P, std::int64_t>{"gateway_flag", &P::gateway_flag},
        Field<P, std::int64_t>{"service_flag", &P::service_flag, field::required},
        Field<P, std::optional<std::int64_t>>{"node_id", &P::node_id},
        Field<P, std::optional<std::string>>{"host", &P::host}, Field<P, std::optional<std::int64_t>>{"port", &P::port},
        Field<P, std::string>{"username", &P::username, field::required},
        Field<P, std::optional<std::string>>{"password", &P::password, field::secret, -1, 1024},
        Field<P, std::optional<std::string>>{"dialstring", &P::dialstring, field::none, -1, 1024},
        Field<P, std::optional<std::string>>{"prefix", &P::prefix, field::digits, -1, 32},
        Field<P, std::optional<std::string>>{"settings", &P::settings, field::json_text, -1, 64 * 1024},
        Field<P, std::int64_t>{"register", &P::register_, field::boolean}, Field<P, std::int64_t>{"weight", &P::weight},
        Field<P, std::int64_t>{"active", &P::active, field::boolean},
        Field<P, std::int64_t>{"created_by", &P::created_by, field::owner});
};

}  // namespace ictcore

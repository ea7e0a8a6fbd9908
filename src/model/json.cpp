// JSON encoding and decoding of described entities (see ictcore/json.hpp).
#include <ictcore/account.hpp>
#include <ictcore/campaign.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/error.hpp>
#include <ictcore/group.hpp>
#include <ictcore/json.hpp>
#include <ictcore/message.hpp>
#include <ictcore/program.hpp>
#include <ictcore/provider.hpp>
#include <ictcore/statistics.hpp>
#include <ictcore/transmission.hpp>
#include <ictcore/user.hpp>

#include <fmt/format.h>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>

#include <cmath>
#include <limits>

namespace ictcore {

namespace {

namespace json = boost::json;

void put(json::object& o, std::string_view key, const std::int64_t& v) { o[key] = v; }
void put(json::object& o, std::string_view key, const std::string& v) { o[key] = v; }
void put(json::object& o, std::string_view key, const double& v) { o[key] = v; }
void put(json::object& o, std::string_view key, const std::optional<std::int64_t>& v) {
    if (v)
        o[key] = *v;
    else
        o[key] = nullptr;
}
void put(json::object& o, std::string_view key, const std::optional<std::string>& v) {
    if (v)
        o[key] = *v;
    else
        o[key] = nullptr;
}

std::optional<std::int64_t> as_integer(const json::value& v) {
    if (v.is_int64()) return v.get_int64();
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
        const double d = v.get_double();
        if (std::trunc(d) == d && std::fabs(d) < 9.007199254740992e15) return static_cast<std::int64_t>(d);
    }
    return std::nullopt;
}

template <class Flags>
void take(std::int64_t& out, const json::value& v, std::string_view name, const Flags&) {
    auto n = as_integer(v);
    if (!n) throw Error(Errc::invalid, fmt::format("{} must be an integer", name));
    out = *n;
}

template <class Flags>
void take(double& out, const json::value& v, std::string_view name, const Flags&) {
    if (!v.is_number()) throw Error(Errc::invalid, fmt::format("{} must be a number", name));
    out = v.to_number<double>();
}

template <class Flags>
void take(std::optional<std::int64_t>& out, const json::value& v, std::string_view name, const Flags& f) {
    if (v.is_null()) {
        out.reset();
        return;
    }
    std::int64_t n = 0;
    take(n, v, name, f);
    out = n;
}

template <class Flags>
void take(std::string& out, const json::value& v, std::string_view name, const Flags& f) {
    if (v.is_string()) {
        out.assign(v.get_string().data(), v.get_string().size());
    } else if (v.is_null()) {
        out.clear();  // validation reports it if the field is required
    } else if (f.has(field::json_text) && (v.is_object() || v.is_array())) {
        out = json::serialize(v);
    } else if (f.has(field::phone | field::digits) && (v.is_int64() || v.is_uint64())) {
        // Phones arrive as JSON numbers in the guide's examples; keep their digits.
        out = v.is_int64() ? std::to_string(v.get_int64()) : std::to_string(v.get_uint64());
    } else {
        throw Error(Errc::invalid, fmt::format("{} must be a string", name));
    }
}

template <class Flags>
void take(std::optional<std::string>& out, const json::value& v, std::string_view name, const Flags& f) {
    if (v.is_null()) {
        out.reset();
        return;
    }
    std::string s;
    take(s, v, name, f);
    out = std::move(s);
}

std::string position_of(std::string_view text, std::size_t offset) {
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return fmt::format("line {} column {}", line, column);
}

}  // namespace

template <class Entity>
json::object to_json(const Entity& value) {
    json::object o;
    for_each_field<Entity>([&](const auto& f) {
        if (f.is_output()) put(o, f.name, value.*(f.member));
    });
    return o;
}

template <class Entity>
void apply_json(Entity& value, const json::object& object) {
    for_each_field<Entity>([&](const auto& f) {
        if (!f.is_input()) return;
        if (const json::value* v = object.if_contains(f.name)) take(value.*(f.member), *v, f.name, f);
    });
}

json::value parse_json(std::string_view text) {
    json::parse_options options;
    options.max_depth = 64;
    json::stream_parser p(json::storage_ptr(), options);
    json::error_code ec;
    const std::size_t used = p.write_some(text.data(), text.size(), ec);
    if (!ec && !p.done()) p.finish(ec);
    if (ec) {
        throw Error(Errc::invalid, fmt::format("malformed JSON at {}: {}", position_of(text, used), ec.message()));
    }
    for (std::size_t i = used; i < text.size(); ++i) {
        const char ch = text[i];
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') {
            throw Error(Errc::invalid,
                        fmt::format("malformed JSON at {}: unexpected data after the value", position_of(text, i)));
        }
    }
    return p.release();
}

json::object parse_json_object(std::string_view text) {
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return {};
    json::value v = parse_json(text);
    if (!v.is_object()) throw Error(Errc::invalid, "the request body must be a JSON object");
    return std::move(v.get_object());
}

#define ICTCORE_JSON_INSTANTIATE(E)             \
    template json::object to_json<E>(const E&); \
    template void apply_json<E>(E&, const json::object&);

ICTCORE_JSON_INSTANTIATE(Contact)
ICTCORE_JSON_INSTANTIATE(Group)
ICTCORE_JSON_INSTANTIATE(User)
ICTCORE_JSON_INSTANTIATE(Role)
ICTCORE_JSON_INSTANTIATE(Permission)
ICTCORE_JSON_INSTANTIATE(StatisticsReport)
ICTCORE_JSON_INSTANTIATE(Text)
ICTCORE_JSON_INSTANTIATE(Template)
ICTCORE_JSON_INSTANTIATE(Recording)
ICTCORE_JSON_INSTANTIATE(Document)
ICTCORE_JSON_INSTANTIATE(Account)
ICTCORE_JSON_INSTANTIATE(Provider)
ICTCORE_JSON_INSTANTIATE(Program)
ICTCORE_JSON_INSTANTIATE(Transmission)
ICTCORE_JSON_INSTANTIATE(Spool)
ICTCORE_JSON_INSTANTIATE(SpoolResult)
ICTCORE_JSON_INSTANTIATE(Campaign)

}  // namespace ictcore

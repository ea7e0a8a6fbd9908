// validate_fields<E>: checks every field of an entity against the flags of its description.
#pragma once

#include "model/validation.hpp"

#include <ictcore/error.hpp>
#include <ictcore/field.hpp>

#include <fmt/format.h>

namespace ictcore::model {

namespace detail {
inline bool is_empty(const std::string& v) { return v.empty(); }
inline bool is_empty(const std::optional<std::string>& v) { return !v || v->empty(); }
inline bool is_empty(const std::int64_t&) { return false; }
inline bool is_empty(const double&) { return false; }
inline std::string* text_of(double&) { return nullptr; }
inline const std::int64_t* number_of(const double&) { return nullptr; }
inline bool is_empty(const std::optional<std::int64_t>& v) { return !v; }

inline std::string* text_of(std::string& v) { return &v; }
inline std::string* text_of(std::optional<std::string>& v) { return v ? &*v : nullptr; }
inline std::string* text_of(std::int64_t&) { return nullptr; }
inline std::string* text_of(std::optional<std::int64_t>&) { return nullptr; }
inline const std::int64_t* number_of(const std::int64_t& v) { return &v; }
inline const std::int64_t* number_of(const std::optional<std::int64_t>& v) { return v ? &*v : nullptr; }
inline const std::int64_t* number_of(const std::string&) { return nullptr; }
inline const std::int64_t* number_of(const std::optional<std::string>&) { return nullptr; }
}  // namespace detail

template <class Entity>
void validate_fields(Entity& value, ValidationMode mode) {
    for_each_field<Entity>([&](const auto& f) {
        if (!f.is_input()) return;
        auto& member = value.*(f.member);
        const bool required = mode == ValidationMode::csv_import ? f.csv_column == 0
                              : f.has(field::secret) ? mode == ValidationMode::create && f.has(field::required)
                                                     : f.has(field::required);
        if (detail::is_empty(member)) {
            if (required) throw Error(Errc::invalid, fmt::format("{} is required", f.name));
            return;
        }
        if (std::string* text = detail::text_of(member)) {
            if (text->size() > f.max_length) {
                throw Error(Errc::invalid, fmt::format("{} is longer than {} bytes", f.name, f.max_length));
            }
            if (text->find('\0') != std::string::npos) {
                throw Error(Errc::invalid, fmt::format("{} must not contain NUL characters", f.name));
            }
            if (f.has(field::phone)) {
                auto phone = normalize_phone(*text);
                if (!phone) {
                    throw Error(Errc::invalid,
                                fmt::format("{} must be 3 to 15 digits, optionally starting with +", f.name));
                }
                *text = std::move(*phone);
            }
            if (f.has(field::digits) && text->find_first_not_of("0123456789*#+") != std::string::npos) {
                throw Error(Errc::invalid, fmt::format("{} may hold only digits, *, # and +", f.name));
            }
            if (f.has(field::email) && !valid_email(*text)) {
                throw Error(Errc::invalid, fmt::format("{} is not a valid e-mail address", f.name));
            }
        }
        if (const std::int64_t* number = detail::number_of(member)) {
            if (f.has(field::boolean) && *number != 0 && *number != 1) {
                throw Error(Errc::invalid, fmt::format("{} must be 0 or 1", f.name));
            }
        }
    });
}

}  // namespace ictcore::model

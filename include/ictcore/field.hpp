// Entity descriptions: one table of fields per entity type drives SQL, JSON, CSV and validation.
// Each entity specialises ictcore::Describe<T> with its table name, id field and a tuple of Field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

namespace ictcore {

namespace field {
enum Flag : unsigned {
    none = 0,
    key = 1u << 0,         // primary key: output only, assigned by the store
    required = 1u << 1,    // present and non-empty on every valid object
    readonly = 1u << 2,    // output only: maintained by the library, ignored on input
    secret = 1u << 3,      // input only: never output, never filtered or sorted on
    phone = 1u << 4,       // phone number: accepts JSON number or string, suffix filter
    email = 1u << 5,       // e-mail address syntax
    owner = 1u << 6,       // the owning user's id; set by the service, output read-only
    computed = 1u << 7,    // not a column: the store computes it on select
    unique = 1u << 8,      // unique across the table (a clash is reported as invalid)
    boolean = 1u << 9,     // integer restricted to 0 or 1
    digits = 1u << 10,     // dialling digits (0-9 * # +): accepts a JSON number, kept as text
    json_text = 1u << 11,  // JSON kept as text: accepts an object or array, stored serialised
    exact = 1u << 12,      // a code such as a status: list filters match it whole, not as a substring
};
}  // namespace field

template <class Entity, class Member>
struct Field {
    std::string_view name;
    Member Entity::*member;
    unsigned flags = field::none;
    int csv_column = -1;           // position in the group CSV format, -1 when not exported
    std::size_t max_length = 255;  // for text fields

    constexpr bool has(unsigned f) const { return (flags & f) != 0; }
    constexpr bool is_column() const { return !has(field::computed); }
    constexpr bool is_input() const { return !has(field::key | field::readonly | field::owner | field::computed); }
    constexpr bool is_output() const { return !has(field::secret); }
};

// Specialised by each entity: `table`, `id` (name of the key field), `fields` (a tuple of Field).
template <class Entity>
struct Describe;

template <class Entity, class F>
constexpr void for_each_field(F&& f) {
    std::apply([&](const auto&... fld) { (f(fld), ...); }, Describe<Entity>::fields);
}

// Value kinds a field member may have.
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

}  // namespace ictcore

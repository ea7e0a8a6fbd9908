// Contact: a person or number that programs are run against.
#pragma once

#include <ictcore/field.hpp>

namespace ictcore {

struct Contact {
    std::int64_t contact_id = 0;
    std::string first_name;
    std::optional<std::string> last_name;
    std::string phone;
    std::optional<std::string> email;
    std::optional<std::string> address;
    std::optional<std::string> custom1;
    std::optional<std::string> custom2;
    std::optional<std::string> custom3;
    std::optional<std::string> description;
    std::int64_t created_by = 0;
};

template <>
struct Describe<Contact> {
    static constexpr std::string_view entity = "contact";
    static constexpr std::string_view table = "contact";
    static constexpr std::string_view id = "contact_id";
    using C = Contact;
    static constexpr auto fields =
        std::make_tuple(Field<C, std::int64_t>{"contact_id", &C::contact_id, field::key},
                        Field<C, std::string>{"first_name", &C::first_name, field::required, 1},
                        Field<C, std::optional<std::string>>{"last_name", &C::last_name, field::none, 2},
                        Field<C, std::string>{"phone", &C::phone, field::required | field::phone, 0, 32},
                        Field<C, std::optional<std::string>>{"email", &C::email, field::email, 3},
                        Field<C, std::optional<std::string>>{"address", &C::address, field::none, 4, 1024},
                        Field<C, std::optional<std::string>>{"custom1", &C::custom1, field::none, 5, 1024},
                        Field<C, std::optional<std::string>>{"custom2", &C::custom2, field::none, 6, 1024},
                        Field<C, std::optional<std::string>>{"custom3", &C::custom3, field::none, 7, 1024},
                        Field<C, std::optional<std::string>>{"description", &C::description, field::none, 8, 1024},
                        Field<C, std::int64_t>{"created_by", &C::created_by, field::owner});
};

}  // namespace ictcore

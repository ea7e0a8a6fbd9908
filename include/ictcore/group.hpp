// Group: a named list of contacts, the audience of a campaign.
#pragma once

#include <ictcore/field.hpp>

namespace ictcore {

struct Group {
    std::int64_t group_id = 0;
    std::string name;
    std::optional<std::string> description;
    std::int64_t contact_total = 0;
    std::int64_t created_by = 0;
};

template <>
struct Describe<Group> {
    static constexpr std::string_view entity = "group";
    static constexpr std::string_view table = "contact_group";
    static constexpr std::string_view id = "group_id";
    using G = Group;
    static constexpr auto fields =
        std::make_tuple(Field<G, std::int64_t>{"group_id", &G::group_id, field::key},
                        Field<G, std::string>{"name", &G::name, field::required},
                        Field<G, std::optional<std::string>>{"description", &G::description, field::none, -1, 1024},
                        Field<G, std::int64_t>{"contact_total", &G::contact_total, field::computed},
                        Field<G, std::int64_t>{"created_by", &G::created_by, field::owner});
};

}  // namespace ictcore

// Contacts: group membership on top of the generic entity service.
#include <ictcore/contacts.hpp>

#include "service/service_support.hpp"
#include "store/queries.hpp"

#include <ictcore/group.hpp>

namespace ictcore {

namespace {
template <class Change>
Contact change_membership(detail::CoreState& state, const Principal& who, std::int64_t contact_id,
                          std::int64_t group_id, Change change) {
    who.require("contact_update");
    who.require("group_update");
    const auto scope = detail::CoreState::scope_of(who);
    return state.store->write([&](store::Connection& c) {
        auto contact = service::find_or_throw<Contact>(c, contact_id, scope);
        if (!store::Table<Group>::exists(c, group_id, scope)) service::not_found<Group>(group_id);
        change(c, contact_id, group_id);
        return contact;
    });
}
}  // namespace

Contact Contacts::link(const Principal& who, std::int64_t contact_id, std::int64_t group_id) {
    return change_membership(state_, who, contact_id, group_id, store::link_contact);
}

Contact Contacts::unlink(const Principal& who, std::int64_t contact_id, std::int64_t group_id) {
    return change_membership(state_, who, contact_id, group_id, store::unlink_contact);
}

}  // namespace ictcore

// Contacts: the people and numbers programs are delivered to, and their group links.
#pragma once

#include <ictcore/contact.hpp>
#include <ictcore/entity_service.hpp>

namespace ictcore {

class Contacts : public EntityService<Contact> {
public:
    using EntityService::EntityService;

    // Adds the contact to the group (idempotent) and returns the contact.
    Contact link(const Principal& who, std::int64_t contact_id, std::int64_t group_id);
    // Removes the contact from the group (idempotent) and returns the contact.
    Contact unlink(const Principal& who, std::int64_t contact_id, std::int64_t group_id);
};

}  // namespace ictcore

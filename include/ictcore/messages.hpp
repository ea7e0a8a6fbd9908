// Messages services: SMS texts and e-mail templates, with the `text_*` and `template_*`
// permissions and the same ownership rules as contacts.
#pragma once

#include <ictcore/entity_service.hpp>
#include <ictcore/message.hpp>

namespace ictcore {

class Texts : public EntityService<Text> {
public:
    using EntityService::EntityService;
};

class Templates : public EntityService<Template> {
public:
    using EntityService::EntityService;

    // The template rendered for one of the caller's contacts (see ictcore::render).
    RenderedEmail render(const Principal& who, std::int64_t template_id, std::int64_t contact_id);
};

}  // namespace ictcore

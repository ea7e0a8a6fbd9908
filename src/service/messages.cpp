// Messages services: the generic entity operations plus template rendering.
#include <ictcore/messages.hpp>

#include "core_state.hpp"

namespace ictcore {

RenderedEmail Templates::render(const Principal& who, std::int64_t template_id, std::int64_t contact_id) {
    return ictcore::render(get(who, template_id), state_.contacts.get(who, contact_id));
}

}  // namespace ictcore

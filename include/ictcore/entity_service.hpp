// EntityService<E>: create/read/update/delete/list of one owned entity type, with the
// `<entity>_<action>` permission and ownership checks every caller gets, HTTP or embedded.
#pragma once

#include <ictcore/principal.hpp>
#include <ictcore/query.hpp>

#include <cstdint>
#include <functional>

namespace ictcore {

namespace detail {
struct CoreState;
}

template <class Entity>
class EntityService {
public:
    using EntityType = Entity;

    explicit EntityService(detail::CoreState& state) : state_(state) {}

    // Validates and stores a new row owned by the caller; returns its id.
    std::int64_t create(const Principal& who, Entity value);
    // Throws Error(not_found) when the row does not exist or is not visible to the caller.
    Entity get(const Principal& who, std::int64_t id);
    // Applies `change` to the stored row and stores it if it still validates, atomically.
    Entity update(const Principal& who, std::int64_t id, const std::function<void(Entity&)>& change);
    void remove(const Principal& who, std::int64_t id);
    Cursor<Entity> list(const Principal& who, const ListQuery& query);

protected:
    detail::CoreState& state_;
};

}  // namespace ictcore

// Providers: the trunks and services gateways deliver through. A provider's `type` must name
// a registered gateway, which checks its settings before it is stored; the engine picks up
// every change at once.
#pragma once

#include <ictcore/entity_service.hpp>
#include <ictcore/provider.hpp>

namespace ictcore {

class Providers : public EntityService<Provider> {
public:
    using EntityService::EntityService;

    std::int64_t create(const Principal& who, Provider value);
    Provider update(const Principal& who, std::int64_t id, const std::function<void(Provider&)>& change);
    void remove(const Principal& who, std::int64_t id);
};

}  // namespace ictcore

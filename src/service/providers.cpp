// Providers: the type must name a registered gateway, which checks the provider before it is
// stored; the engine rereads providers after every change.
#include <ictcore/providers.hpp>
#include <ictcore/service_flag.hpp>

#include "engine/provider_pool.hpp"
#include "model/validation_impl.hpp"
#include "service/service_support.hpp"

namespace ictcore {

namespace {

// Fills type from gateway_flag (or the reverse) and lets the gateway check the provider.
void resolve(engine::Engine& engine, Provider& p) {
    std::shared_ptr<Gateway> gateway;
    if (p.type.empty()) {
        if (p.gateway_flag == 0) throw Error(Errc::invalid, "type is required (or a gateway_flag naming one)");
        for (const auto& type : engine.gateway_types()) {
            auto g = engine.gateway(type);
            if (g && g->gateway_flag() == p.gateway_flag) gateway = g;
        }
        if (!gateway) {
            throw Error(Errc::invalid, fmt::format("no gateway is registered for gateway_flag {}", p.gateway_flag));
        }
        p.type = std::string(gateway->type());
    } else {
        gateway = engine.gateway(p.type);
        if (!gateway) {
            throw Error(Errc::invalid, fmt::format("unknown provider type '{}' (registered: {})", p.type,
                                                   fmt::join(engine.gateway_types(), ", ")));
        }
    }
    if (p.gateway_flag == 0) p.gateway_flag = gateway->gateway_flag();
    if (p.gateway_flag != gateway->gateway_flag()) {
        throw Error(Errc::invalid, fmt::format("gateway_flag {} does not match type '{}' (gateway_flag {})",
                                               p.gateway_flag, p.type, gateway->gateway_flag()));
    }
    if (p.service_flag <= 0 || (p.service_flag & ~gateway->services()) != 0) {
        throw Error(Errc::invalid, fmt::format("service_flag {} is not a set of services '{}' delivers (bits of {})",
                                               p.service_flag, p.type, gateway->services()));
    }
    if (p.weight < 0 || p.weight > 1000000) throw Error(Errc::invalid, "weight must be from 0 to 1000000");
    if (p.port && (*p.port < 1 || *p.port > 65535)) throw Error(Errc::invalid, "port must be from 1 to 65535");
    engine::ProviderPool::concurrency_of(p);
    gateway->check(p);
}

}  // namespace

std::int64_t Providers::create(const Principal& who, Provider value) {
    who.require("provider_create");
    model::validate_fields(value, model::ValidationMode::create);
    resolve(*state_.engine, value);
    service::set_owner(value, who.user_id());
    const auto id = state_.store->write([&](store::Connection& c) { return store::Table<Provider>::insert(c, value); });
    state_.engine->providers_changed();
    return id;
}

Provider Providers::update(const Principal& who, std::int64_t id, const std::function<void(Provider&)>& change) {
    who.require("provider_update");
    const auto scope = detail::CoreState::scope_of(who);
    auto updated = state_.store->write([&](store::Connection& c) {
        const Provider before = service::find_or_throw<Provider>(c, id, scope);
        Provider after = before;
        change(after);
        service::keep_protected(after, before);
        // Changing one of type and gateway_flag implies the other.
        if (after.type != before.type && after.gateway_flag == before.gateway_flag) after.gateway_flag = 0;
        if (after.gateway_flag != before.gateway_flag && after.type == before.type) after.type.clear();
        model::validate_fields(after, model::ValidationMode::update);
        resolve(*state_.engine, after);
        store::Table<Provider>::update(c, after);
        return service::find_or_throw<Provider>(c, id, scope);
    });
    state_.engine->providers_changed();
    return updated;
}

void Providers::remove(const Principal& who, std::int64_t id) {
    EntityService<Provider>::remove(who, id);
    state_.engine->providers_changed();
}

}  // namespace ictcore

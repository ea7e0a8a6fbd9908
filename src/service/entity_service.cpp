// EntityService<E>: the generic create/read/update/delete/list with permission and owner checks.
#include <ictcore/entity_service.hpp>

#include "model/derive.hpp"
#include "model/validation_impl.hpp"
#include "service/service_support.hpp"

#include <ictcore/account.hpp>
#include <ictcore/campaign.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/group.hpp>
#include <ictcore/message.hpp>
#include <ictcore/program.hpp>
#include <ictcore/provider.hpp>
#include <ictcore/transmission.hpp>
#include <ictcore/user.hpp>

namespace ictcore {

using service::permission;

template <class Entity>
std::int64_t EntityService<Entity>::create(const Principal& who, Entity value) {
    who.require(permission<Entity>("create"));
    model::validate_fields(value, model::ValidationMode::create);
    model::derive(value);
    service::set_owner(value, who.user_id());
    return state_.store->write([&](store::Connection& c) { return store::Table<Entity>::insert(c, value); });
}

template <class Entity>
Entity EntityService<Entity>::get(const Principal& who, std::int64_t id) {
    who.require(permission<Entity>("read"));
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->read([&](store::Connection& c) { return service::find_or_throw<Entity>(c, id, scope); });
}

template <class Entity>
Entity EntityService<Entity>::update(const Principal& who, std::int64_t id,
                                     const std::function<void(Entity&)>& change) {
    who.require(permission<Entity>("update"));
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->write([&](store::Connection& c) {
        const Entity before = service::find_or_throw<Entity>(c, id, scope);
        Entity after = before;
        change(after);
        service::keep_protected(after, before);
        model::validate_fields(after, model::ValidationMode::update);
        model::derive(after);
        store::Table<Entity>::update(c, after);
        return service::find_or_throw<Entity>(c, id, scope);
    });
}

template <class Entity>
void EntityService<Entity>::remove(const Principal& who, std::int64_t id) {
    who.require(permission<Entity>("delete"));
    const auto scope = detail::CoreState::scope_of(who);
    state_.store->write([&](store::Connection& c) {
        if (!store::Table<Entity>::erase(c, id, scope)) service::not_found<Entity>(id);
    });
}

template <class Entity>
Cursor<Entity> EntityService<Entity>::list(const Principal& who, const ListQuery& query) {
    who.require(permission<Entity>("read"));
    return store::Table<Entity>::list(state_.store->borrow(), query, detail::CoreState::scope_of(who));
}

template class EntityService<Contact>;
template class EntityService<Group>;
template class EntityService<User>;
template class EntityService<Text>;
template class EntityService<Template>;
template class EntityService<Recording>;
template class EntityService<Document>;
template class EntityService<Account>;
template class EntityService<Provider>;
template class EntityService<Program>;
template class EntityService<Campaign>;
template class EntityService<Transmission>;

}  // namespace ictcore

// Account routes: CRUD of /accounts, program subscriptions and ownership moves.
#include "routes.hpp"

#include "route_support.hpp"

#include <ictcore/account.hpp>
#include <ictcore/json.hpp>

namespace ictcore::server {

namespace {

using namespace routes;

Response id_list_response(const std::vector<std::int64_t>& ids) {
    json::array array;
    array.reserve(ids.size());
    for (const std::int64_t id : ids) array.emplace_back(id);
    return json_response(array);
}

}  // namespace

void add_account_routes(Router& router, ictcore::Core& core) {
    auto& accounts = core.accounts();
    // `user_id` is an owner field, which decoding ignores: an admin names the owner here.
    router.add("POST", "/accounts", [&accounts](const Request& request, const Principal& who) {
        const json::object body = ictcore::parse_json_object(request.body);
        const std::optional<std::int64_t> user_id = integer_field(body, "user_id");
        ictcore::Account account;
        ictcore::apply_json(account, body);
        return id_response("account_id", accounts.create(who, std::move(account), user_id));
    });
    add_item_routes<ictcore::Account>(router, accounts, "/accounts");

    router.add("GET", "/accounts/{account_id}/programs", [&accounts](const Request& request, const Principal& who) {
        return id_list_response(accounts.programs(who, request.params.at(0)));
    });
    router.add("PUT", "/accounts/{account_id}/programs/{program_id}",
               [&accounts](const Request& request, const Principal& who) {
                   return entity_response(accounts.subscribe(who, request.params.at(0), request.params.at(1)));
               });
    router.add("DELETE", "/accounts/{account_id}/programs/{program_id}",
               [&accounts](const Request& request, const Principal& who) {
                   return entity_response(accounts.unsubscribe(who, request.params.at(0), request.params.at(1)));
               });
    router.add("DELETE", "/accounts/{account_id}/programs", [&accounts](const Request& request, const Principal& who) {
        return entity_response(accounts.unsubscribe_all(who, request.params.at(0)));
    });

    router.add("PUT", "/accounts/{account_id}/users/{user_id}",
               [&accounts](const Request& request, const Principal& who) {
                   return entity_response(accounts.assign(who, request.params.at(0), request.params.at(1)));
               });
    router.add("DELETE", "/accounts/{account_id}/users", [&accounts](const Request& request, const Principal& who) {
        return entity_response(accounts.assign(who, request.params.at(0), std::nullopt));
    });
}

}  // namespace ictcore::server

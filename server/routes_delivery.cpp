// Routes of providers, programs, transmissions, spools and campaigns: decode, call Core, encode.
#include <ictcore/schedule_spec.hpp>

#include "route_support.hpp"
#include "routes.hpp"

namespace ictcore::server {

using namespace routes;

namespace {

// The guide's examples write some keys as API Blueprint artefacts, e.g.
// "service_flag: 1 (number) - Type of …"; read them as the plain field they name.
void plain_keys(json::object& body) {
    std::vector<std::pair<std::string, json::value>> renamed;
    for (auto it = body.begin(); it != body.end();) {
        const std::string_view key = it->key();
        const auto colon = key.find(':');
        if (colon != std::string_view::npos && key.find(' ') != std::string_view::npos) {
            const std::string name(key.substr(0, colon));
            if (!body.contains(name)) renamed.emplace_back(name, it->value());
            it = body.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& [key, value] : renamed) body[key] = std::move(value);
}

Response status_response(std::string_view key, const std::string& status) {
    json::object o;
    o[key] = status;
    return json_response(o);
}

}  // namespace

void add_provider_routes(Router& router, ictcore::Core& core) {
    add_create_route<ictcore::Provider>(router, core.providers(), "/providers", plain_keys);
    add_item_routes<ictcore::Provider>(router, core.providers(), "/providers", plain_keys);
}

void add_program_routes(Router& router, ictcore::Core& core) {
    // An unknown type matches no route: 404.
    for (const std::string_view type : {"sendsms", "sendemail", "sendfax", "voicemessage", "receivesms", "receiveemail",
                                        "receivefax", "emailtofax", "faxtoemail"}) {
        router.add("POST", "/programs/" + std::string(type),
                   [&core, type](const Request& request, const Principal& who) {
                       json::object body = ictcore::parse_json_object(request.body);
                       ictcore::Program program;
                       ictcore::apply_json(program, body);
                       return id_response("program_id", core.programs().create(who, type, std::move(program)));
                   });
    }
    router.add("GET", "/programs", [&core](const Request& request, const Principal& who) {
        return list_response(core.programs().list(who, list_query(request)));
    });
    router.add("GET", "/programs/{program_id}", [&core](const Request& request, const Principal& who) {
        return entity_response(core.programs().get(who, request.params.at(0)));
    });
    router.add("DELETE", "/programs/{program_id}", [&core](const Request& request, const Principal& who) {
        core.programs().remove(who, request.params.at(0));
        return true_response();
    });
    router.add("PUT", "/programs/{program_id}/transmissions", [&core](const Request& request, const Principal& who) {
        json::object body = ictcore::parse_json_object(request.body);
        plain_keys(body);
        const std::int64_t program_id = request.params.at(0);
        core.programs().get(who, program_id);  // 404 for a program the caller cannot see
        ictcore::Transmission t;
        ictcore::apply_json(t, body);
        t.program_id = program_id;
        return id_response("transmission_id", core.transmissions().create(who, std::move(t)));
    });
    router.add("GET", "/programs/{program_id}/transmissions", [&core](const Request& request, const Principal& who) {
        const std::int64_t program_id = request.params.at(0);
        core.programs().get(who, program_id);
        ictcore::ListQuery query = list_query(request);
        std::erase_if(query.filters, [](const auto& f) { return f.first == "program_id"; });
        query.filters.emplace_back("program_id", std::to_string(program_id));
        return list_response(core.transmissions().list(who, query));
    });
}

void add_transmission_routes(Router& router, ictcore::Core& core) {
    auto& tx = core.transmissions();
    add_create_route<ictcore::Transmission>(router, tx, "/transmissions", plain_keys);
    router.add("GET", "/transmissions", [&tx](const Request& request, const Principal& who) {
        return list_response(tx.list(who, list_query(request)));
    });
    router.add("GET", "/transmissions/{transmission_id}", [&tx](const Request& request, const Principal& who) {
        return entity_response(tx.get(who, request.params.at(0)));
    });
    router.add("POST", "/transmissions/{transmission_id}/send", [&tx](const Request& request, const Principal& who) {
        return id_response("spool_id", tx.send(who, request.params.at(0)));
    });
    router.add("POST", "/transmissions/{transmission_id}/retry", [&tx](const Request& request, const Principal& who) {
        return id_response("spool_id", tx.retry(who, request.params.at(0)));
    });
    router.add("PUT", "/transmissions/{transmission_id}/schedule", [&tx](const Request& request, const Principal& who) {
        const json::object body = ictcore::parse_json_object(request.body);
        const auto spec = ictcore::parse_schedule(body, ictcore::unix_now());
        return id_response("schedule_id", tx.schedule(who, request.params.at(0), spec));
    });
    router.add("DELETE", "/transmissions/{transmission_id}/schedule",
               [&tx](const Request& request, const Principal& who) {
                   tx.unschedule(who, request.params.at(0));
                   return true_response();
               });
    // GET in the guide, though it creates a row.
    router.add("GET", "/transmissions/{transmission_id}/clone",
               [&tx](const Request& request, const Principal& who) {
                   return id_response("transmission_id", tx.clone(who, request.params.at(0)));
               },
               {.needs_auth = true, .body_kind = BodyKind::json, .read_only = false});
    router.add("GET", "/transmissions/{transmission_id}/status", [&tx](const Request& request, const Principal& who) {
        return status_response("Status", tx.status(who, request.params.at(0)));
    });
    router.add("GET", "/transmissions/{transmission_id}/detail", [&tx](const Request& request, const Principal& who) {
        return array_response(tx.detail(who, request.params.at(0)));
    });
    router.add("GET", "/transmissions/{transmission_id}/result", [&tx](const Request& request, const Principal& who) {
        return array_response(tx.result(who, request.params.at(0)));
    });
    router.add("GET", "/spools/{spool_id}/status", [&tx](const Request& request, const Principal& who) {
        return status_response("status", tx.spool(who, request.params.at(0)).status);
    });
    router.add("GET", "/spools/{spool_id}/result", [&tx](const Request& request, const Principal& who) {
        return array_response(tx.spool_result(who, request.params.at(0)));
    });
}

void add_campaign_routes(Router& router, ictcore::Core& core) {
    auto& campaigns = core.campaigns();
    add_create_route<ictcore::Campaign>(router, campaigns, "/campaigns", plain_keys);
    add_item_routes<ictcore::Campaign>(router, campaigns, "/campaigns", plain_keys);
    router.add("PUT", "/campaigns/{campaign_id}/start", [&campaigns](const Request& request, const Principal& who) {
        campaigns.start(who, request.params.at(0));
        return true_response();
    });
    router.add("PUT", "/campaigns/{campaign_id}/stop", [&campaigns](const Request& request, const Principal& who) {
        campaigns.stop(who, request.params.at(0));
        return true_response();
    });
    router.add("POST", "/campaigns/{campaign_id}/start/schedule",
               [&campaigns](const Request& request, const Principal& who) {
                   const json::object body = ictcore::parse_json_object(request.body);
                   const auto spec = ictcore::parse_schedule(body, ictcore::unix_now());
                   return id_response("schedule_id", campaigns.schedule_start(who, request.params.at(0), spec));
               });
    router.add("POST", "/campaigns/{campaign_id}/stop/schedule",
               [&campaigns](const Request& request, const Principal& who) {
                   const json::object body = ictcore::parse_json_object(request.body);
                   const auto spec = ictcore::parse_schedule(body, ictcore::unix_now());
                   return id_response("schedule_id", campaigns.schedule_stop(who, request.params.at(0), spec));
               });
    // The guide cancels with POST; DELETE says the same.
    for (const char* method : {"POST", "DELETE"}) {
        router.add(method, "/campaigns/{campaign_id}/schedule",
                   [&campaigns](const Request& request, const Principal& who) {
                       campaigns.unschedule(who, request.params.at(0));
                       return true_response();
                   });
    }
}

}  // namespace ictcore::server

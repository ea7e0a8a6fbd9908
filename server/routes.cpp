// Route handlers: decode the request, call Core as the authenticated principal, encode the
// result. No HTTP machinery here: handlers see only Request and Response.
#include "routes.hpp"

#include "route_support.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <ictcore/error.hpp>
#include <ictcore/json.hpp>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ictcore::server {

namespace {

using namespace routes;

// ---- Authentication --------------------------------------------------------------------

Response login(ictcore::Core& core, const Request& request) {
    const json::object body = ictcore::parse_json_object(request.body);
    const std::optional<std::string> username = string_field(body, "username");
    std::optional<std::string> password = string_field(body, "password");
    // The guide's example body spells the key "passowrd"; clients copy it.
    if (!password) password = string_field(body, "passowrd");
    if (!username || username->empty()) throw Error(Errc::invalid, "username is required");
    if (!password) throw Error(Errc::invalid, "password is required");

    const ictcore::Token token = core.auth().login(*username, *password, request.client);
    json::object result;
    result["token"] = token.token;
    result["token_type"] = "Bearer";
    result["user_id"] = token.user_id;
    result["expires_in"] = static_cast<std::int64_t>(token.expires_in.count());
    return json_response(result);
}

void add_authentication_routes(Router& router, ictcore::Core& core) {
    const Router::RouteOptions open{.needs_auth = false, .body_kind = BodyKind::json};
    auto handler = [&core](const Request& request, const Principal&) { return login(core, request); };
    router.add("POST", "/authentication", handler, open);
    router.add("POST", "/authenticate", handler, open);
}

// ---- Statistics ------------------------------------------------------------------------

void add_statistics_routes(Router& router, ictcore::Core& core) {
    router.add("GET", "/statistics",
               [&core](const Request&, const Principal& who) { return entity_response(core.statistics().get(who)); });
}

// ---- Contacts --------------------------------------------------------------------------

void add_contact_routes(Router& router, ictcore::Core& core) {
    add_create_route<ictcore::Contact>(router, core.contacts(), "/contacts");
    add_item_routes<ictcore::Contact>(router, core.contacts(), "/contacts");
    router.add("PUT", "/contacts/{contact_id}/link/{group_id}", [&core](const Request& request, const Principal& who) {
        return entity_response(core.contacts().link(who, request.params.at(0), request.params.at(1)));
    });
    router.add("DELETE", "/contacts/{contact_id}/link/{group_id}",
               [&core](const Request& request, const Principal& who) {
                   return entity_response(core.contacts().unlink(who, request.params.at(0), request.params.at(1)));
               });
}

// ---- Groups ----------------------------------------------------------------------------

void add_group_routes(Router& router, ictcore::Core& core) {
    // The guide's example bodies carry "id"; ids are assigned by the store.
    auto drop_id = [](json::object& body) { body.erase("id"); };
    add_create_route<ictcore::Group>(router, core.groups(), "/groups", drop_id);
    add_item_routes<ictcore::Group>(router, core.groups(), "/groups", drop_id);
    router.add("GET", "/groups/{group_id}/contacts", [&core](const Request& request, const Principal& who) {
        return list_response(core.groups().contacts(who, request.params.at(0), list_query(request)));
    });

    // CSV bodies come with any content type (browsers and curl label files differently).
    router.add("POST", "/groups/{group_id}/csv",
               [&core](const Request& request, const Principal& who) {
                   const ictcore::ImportReport report =
                       core.groups().import_csv(who, request.params.at(0), request.body);
                   json::array rejections;
                   rejections.reserve(report.rejections.size());
                   for (const auto& rejection : report.rejections) {
                       json::object row;
                       row["line"] = rejection.line;
                       row["reason"] = rejection.reason;
                       rejections.push_back(std::move(row));
                   }
                   json::object result;
                   result["imported"] = report.imported;
                   result["rejected"] = report.rejected;
                   result["rejections"] = std::move(rejections);
                   return json_response(result);
               },
               {.needs_auth = true, .body_kind = BodyKind::upload});
    router.add("GET", "/groups/{group_id}/csv", [&core](const Request& request, const Principal& who) {
        const std::int64_t group_id = request.params.at(0);
        Response response = chunk_stream_response(core.groups().export_csv(who, group_id));
        response.content_type = "text/csv";
        response.headers.emplace_back("Content-Disposition",
                                      "attachment; filename=\"group-" + std::to_string(group_id) + ".csv\"");
        return response;
    });
    router.add("GET", "/groups/sample/csv", [](const Request&, const Principal&) {
        Response response;
        response.content_type = "text/csv";
        response.headers.emplace_back("Content-Disposition", "attachment; filename=\"sample.csv\"");
        response.body = ictcore::Groups::sample_csv();
        return response;
    });
}

// ---- Users, roles, permissions ---------------------------------------------------------

void add_user_routes(Router& router, ictcore::Core& core) {
    router.add("POST", "/users", [&core](const Request& request, const Principal& who) {
        const json::object body = ictcore::parse_json_object(request.body);
        const std::optional<std::int64_t> role_id = integer_field(body, "role_id");
        ictcore::User user;
        ictcore::apply_json(user, body);
        return id_response("user_id", core.users().create(who, std::move(user), role_id));
    });
    add_item_routes<ictcore::User>(router, core.users(), "/users");
    router.add("PUT", "/users/{user_id}/roles/{role_id}", [&core](const Request& request, const Principal& who) {
        return entity_response(core.users().add_role(who, request.params.at(0), request.params.at(1)));
    });
    router.add("DELETE", "/users/{user_id}/roles/{role_id}", [&core](const Request& request, const Principal& who) {
        core.users().remove_role(who, request.params.at(0), request.params.at(1));
        return true_response();
    });
    router.add("PUT", "/users/{user_id}/permissions/{permission_id}",
               [&core](const Request& request, const Principal& who) {
                   return entity_response(core.users().add_permission(who, request.params.at(0), request.params.at(1)));
               });
    router.add("DELETE", "/users/{user_id}/permissions/{permission_id}",
               [&core](const Request& request, const Principal& who) {
                   core.users().remove_permission(who, request.params.at(0), request.params.at(1));
                   return true_response();
               });
    router.add("GET", "/roles",
               [&core](const Request&, const Principal& who) { return array_response(core.users().roles(who)); });
    router.add("GET", "/permissions",
               [&core](const Request&, const Principal& who) { return array_response(core.users().permissions(who)); });
}

// ---- Messages ------------------------------------------------------------------------

// The upload's declared type and file name (Content-Disposition filename, else ?name=).
ictcore::Upload upload_of(const Request& request) {
    ictcore::Upload upload;
    upload.bytes = request.body;
    upload.content_type = std::string(request.header("Content-Type").value_or(""));
    if (const auto disposition = request.header("Content-Disposition")) {
        const auto at = disposition->find("filename=");
        if (at != std::string_view::npos) {
            std::string_view name = disposition->substr(at + 9);
            name = name.substr(0, name.find(';'));
            if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
            upload.file_name = std::string(name);
        }
    }
    if (upload.file_name.empty()) {
        for (const auto& [key, value] : request.query) {
            if (key == "name") upload.file_name = value;
        }
    }
    return upload;
}

// Streams a stored media file in chunks, with its type and file name.
Response file_response(const ictcore::MediaFile& file) {
    auto in = std::make_shared<std::ifstream>(file.path, std::ios::binary);
    if (!*in) throw Error(Errc::not_found, "the media file is gone");
    Response response;
    response.content_type = file.content_type;
    response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + file.file_name + "\"");
    response.stream = [in](std::string& chunk) {
        const std::size_t start = chunk.size();
        chunk.resize(start + Response::chunk_size);
        in->read(chunk.data() + start, static_cast<std::streamsize>(Response::chunk_size));
        chunk.resize(start + static_cast<std::size_t>(in->gcount()));
        return static_cast<bool>(*in);
    };
    return response;
}

// PUT|GET <collection>/{id}/media.
template <class Entity, class Service>
void add_media_routes(Router& router, Service& service, const std::string& collection) {
    const std::string media = collection + "/{" + std::string(ictcore::Describe<Entity>::id) + "}/media";
    router.add("PUT", media,
               [&service](const Request& request, const Principal& who) {
                   const std::int64_t id = request.params.at(0);
                   service.put_media(who, id, upload_of(request));
                   return id_response(ictcore::Describe<Entity>::id, id);
               },
               {.needs_auth = true, .body_kind = BodyKind::media, .read_only = false});
    router.add("GET", media, [&service](const Request& request, const Principal& who) {
        return file_response(service.media(who, request.params.at(0)));
    });
}

void add_message_routes(Router& router, ictcore::Core& core) {
    add_create_route<ictcore::Text>(router, core.texts(), "/messages/texts");
    add_item_routes<ictcore::Text>(router, core.texts(), "/messages/texts");
    add_create_route<ictcore::Template>(router, core.templates(), "/messages/templates");
    add_item_routes<ictcore::Template>(router, core.templates(), "/messages/templates");
    add_media_routes<ictcore::Template>(router, core.templates(), "/messages/templates");
    add_create_route<ictcore::Document>(router, core.documents(), "/messages/documents");
    add_item_routes<ictcore::Document>(router, core.documents(), "/messages/documents");
    add_media_routes<ictcore::Document>(router, core.documents(), "/messages/documents");
    add_create_route<ictcore::Recording>(router, core.recordings(), "/messages/recordings");
    add_item_routes<ictcore::Recording>(router, core.recordings(), "/messages/recordings");
    add_media_routes<ictcore::Recording>(router, core.recordings(), "/messages/recordings");
}

}  // namespace

void add_routes(Router& router, ictcore::Core& core) {
    add_authentication_routes(router, core);
    add_statistics_routes(router, core);
    add_contact_routes(router, core);
    add_group_routes(router, core);
    add_user_routes(router, core);
    add_message_routes(router, core);
    add_account_routes(router, core);
    add_provider_routes(router, core);
    add_program_routes(router, core);
    add_transmission_routes(router, core);
    add_campaign_routes(router, core);
    add_gateway_routes(router, core);
}

}  // namespace ictcore::server

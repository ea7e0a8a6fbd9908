// Route handlers: decode the request, call Core as the authenticated principal, encode the
// result. No HTTP machinery here: handlers see only Request and Response.
#include "routes.hpp"

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

namespace json = boost::json;

Response json_response(const json::value& value) {
    Response response;
    response.body = json::serialize(value);
    return response;
}

Response true_response() {
    Response response;
    response.body = "true";
    return response;
}

Response id_response(std::string_view key, std::int64_t id) {
    json::object object;
    object[key] = id;
    return json_response(object);
}

template <class Entity>
Response entity_response(const Entity& entity) {
    return json_response(ictcore::to_json(entity));
}

template <class Entity>
Response array_response(const std::vector<Entity>& rows) {
    json::array array;
    array.reserve(rows.size());
    for (const Entity& row : rows) array.push_back(ictcore::to_json(row));
    return json_response(array);
}

// Serialises a cursor as a JSON array a chunk at a time, so a listing of any size is sent
// with flat memory.
template <class Entity>
class JsonArrayStream {
public:
    explicit JsonArrayStream(ictcore::Cursor<Entity> cursor) : cursor_(std::move(cursor)) {}

    bool next(std::string& out) {
        if (!started_) {
            out += '[';
            started_ = true;
        }
        const std::size_t start = out.size();
        while (out.size() - start < Response::chunk_size) {
            Entity row;
            if (!cursor_.next(row)) {
                out += ']';
                // Drop the cursor now: it holds a database read connection.
                cursor_ = ictcore::Cursor<Entity>(nullptr, 0);
                return false;
            }
            if (!first_) out += ',';
            first_ = false;
            out += json::serialize(ictcore::to_json(row));
        }
        return true;
    }

private:
    ictcore::Cursor<Entity> cursor_;
    bool started_ = false;
    bool first_ = true;
};

template <class Entity>
Response list_response(ictcore::Cursor<Entity> cursor) {
    Response response;
    response.headers.emplace_back("X-Total-Count", std::to_string(cursor.total()));
    auto stream = std::make_shared<JsonArrayStream<Entity>>(std::move(cursor));
    response.stream = [stream](std::string& chunk) { return stream->next(chunk); };
    return response;
}

// Sends a cursor whose elements are ready-made chunks of the body (such as CSV export). It
// reads one chunk ahead so the last chunk is reported as last, which lets a short body go out
// with a Content-Length.
class ChunkCursorStream {
public:
    explicit ChunkCursorStream(ictcore::Cursor<std::string> cursor) : cursor_(std::move(cursor)) {}

    bool next(std::string& out) {
        if (!started_) {
            started_ = true;
            fetch();
        }
        if (!ahead_) return false;
        out += *ahead_;
        fetch();
        return ahead_.has_value();
    }

private:
    void fetch() {
        std::string piece;
        if (cursor_.next(piece)) {
            ahead_ = std::move(piece);
        } else {
            ahead_.reset();
            cursor_ = ictcore::Cursor<std::string>(nullptr, 0);  // release its read connection
        }
    }

    ictcore::Cursor<std::string> cursor_;
    std::optional<std::string> ahead_;
    bool started_ = false;
};

Response chunk_stream_response(ictcore::Cursor<std::string> cursor) {
    Response response;
    response.headers.emplace_back("X-Total-Count", std::to_string(cursor.total()));
    auto stream = std::make_shared<ChunkCursorStream>(std::move(cursor));
    response.stream = [stream](std::string& chunk) { return stream->next(chunk); };
    return response;
}

ictcore::ListQuery list_query(const Request& request) { return ictcore::ListQuery::from_pairs(request.query); }

// A string member of a request body: nullopt when absent or null, 412 when not a string.
std::optional<std::string> string_field(const json::object& body, std::string_view key) {
    const json::value* value = body.if_contains(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (!value->is_string()) throw Error(Errc::invalid, std::string(key) + " must be a string");
    return std::string(value->get_string());
}

// An integer member of a request body (a JSON number or a string of digits): nullopt when
// absent or null, 412 otherwise when not an integer.
std::optional<std::int64_t> integer_field(const json::object& body, std::string_view key) {
    const json::value* value = body.if_contains(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (value->is_int64()) return value->get_int64();
    if (value->is_uint64() && value->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
        return static_cast<std::int64_t>(value->get_uint64());
    }
    if (value->is_double()) {
        const double d = value->get_double();
        if (std::trunc(d) == d && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
    }
    if (value->is_string()) {
        const std::string_view text = value->get_string();
        if (!text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string_view::npos) {
            return std::stoll(std::string(text));
        }
    }
    throw Error(Errc::invalid, std::string(key) + " must be an integer");
}

// ---- Entity routes ---------------------------------------------------------------------

// POST <collection>: decodes the body into a new entity and answers {"<id>": N}. `prepare`
// may drop keys the guide's examples carry but that are not input (such as "id").
template <class Entity, class Service>
void add_create_route(Router& router, Service& service, const std::string& collection,
                      void (*prepare)(json::object&) = nullptr) {
    router.add("POST", collection, [&service, prepare](const Request& request, const Principal& who) {
        json::object body = ictcore::parse_json_object(request.body);
        if (prepare) prepare(body);
        Entity entity;
        ictcore::apply_json(entity, body);
        return id_response(ictcore::Describe<Entity>::id, service.create(who, std::move(entity)));
    });
}

// GET <collection> (streamed list), and GET, PUT and DELETE <collection>/{<id>}.
template <class Entity, class Service>
void add_item_routes(Router& router, Service& service, const std::string& collection,
                     void (*prepare)(json::object&) = nullptr) {
    const std::string item = collection + "/{" + std::string(ictcore::Describe<Entity>::id) + "}";
    router.add("GET", collection, [&service](const Request& request, const Principal& who) {
        return list_response(service.list(who, list_query(request)));
    });
    router.add("GET", item, [&service](const Request& request, const Principal& who) {
        return entity_response(service.get(who, request.params.at(0)));
    });
    router.add("PUT", item, [&service, prepare](const Request& request, const Principal& who) {
        json::object body = ictcore::parse_json_object(request.body);
        if (prepare) prepare(body);
        return entity_response(
            service.update(who, request.params.at(0), [&body](Entity& entity) { ictcore::apply_json(entity, body); }));
    });
    router.add("DELETE", item, [&service](const Request& request, const Principal& who) {
        service.remove(who, request.params.at(0));
        return true_response();
    });
}

// ---- Authentication --------------------------------------------------------------------

Response login(ictcore::Core& core, const Request& request) {
    const json::object body = ictcore::parse_json_object(request.body);
    const std::optional<std::string> username = string_field(body, "username");
    std::optional<std::string> password = string_field(body, "password");
    // The guide's example body spells the key "passowrd"; clients copy it.
    if (!password) password = string_field(body, "passowrd");
    if (!username || username->empty()) throw Error(Errc::invalid, "username is required");
    if (!password) throw Error(Errc::invalid, "password is required");

    const ictcore::Token token = core.auth().login(*username, *password);
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
}

}  // namespace ictcore::server

// Helpers shared by the route files: JSON responses, streamed listings, body fields and the
// generic create/read/update/delete routes of a described entity.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cmath>
#include <cstdint>
#include <ictcore/core.hpp>
#include <ictcore/error.hpp>
#include <ictcore/json.hpp>
#include <ictcore/query.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "router.hpp"

namespace ictcore::server::routes {

namespace json = boost::json;

inline Response json_response(const json::value& value) {
    Response response;
    response.body = json::serialize(value);
    return response;
}

inline Response true_response() {
    Response response;
    response.body = "true";
    return response;
}

inline Response id_response(std::string_view key, std::int64_t id) {
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

inline Response chunk_stream_response(ictcore::Cursor<std::string> cursor) {
    Response response;
    response.headers.emplace_back("X-Total-Count", std::to_string(cursor.total()));
    auto stream = std::make_shared<ChunkCursorStream>(std::move(cursor));
    response.stream = [stream](std::string& chunk) { return stream->next(chunk); };
    return response;
}

inline ictcore::ListQuery list_query(const Request& request) { return ictcore::ListQuery::from_pairs(request.query); }

// A string member of a request body: nullopt when absent or null, 412 when not a string.
inline std::optional<std::string> string_field(const json::object& body, std::string_view key) {
    const json::value* value = body.if_contains(key);
    if (value == nullptr || value->is_null()) return std::nullopt;
    if (!value->is_string()) throw Error(Errc::invalid, std::string(key) + " must be a string");
    return std::string(value->get_string());
}

// An integer member of a request body (a JSON number or a string of digits): nullopt when
// absent or null, 412 otherwise when not an integer.
inline std::optional<std::int64_t> integer_field(const json::object& body, std::string_view key) {
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

}  // namespace ictcore::server::routes

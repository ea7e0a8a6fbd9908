// Shared helpers of the HTTP test files: logins, JSON accessors, status assertions, CSV parsing.
#pragma once

#include "testkit.hpp"

#include <doctest/doctest.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace json = boost::json;
using namespace ictcore::http_test;

#define CHECK_STATUS(resp, code) CHECK_MESSAGE((resp).status == (code), (resp).describe())
#define REQUIRE_STATUS(resp, code) REQUIRE_MESSAGE((resp).status == (code), (resp).describe())

namespace http_test_helpers {

inline ServerOptions with_args(std::vector<std::string> args) {
    ServerOptions o;
    o.args = std::move(args);
    return o;
}

// Options for a server on a given data directory (kept between restarts).
inline ServerOptions on_data(std::filesystem::path dir, std::string admin_password = {}) {
    ServerOptions o;
    o.data_dir = std::move(dir);
    if (!admin_password.empty()) o.admin_password = std::move(admin_password);
    return o;
}

inline std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

inline bool contains_ci(std::string_view haystack, std::string_view needle) {
    return lower(std::string(haystack)).find(lower(std::string(needle))) != std::string::npos;
}

inline json::object as_object(const Response& r) {
    json::value v = r.json();
    REQUIRE_MESSAGE(v.is_object(), "expected a JSON object: " << r.describe());
    return v.as_object();
}

inline json::array as_array(const Response& r) {
    json::value v = r.json();
    REQUIRE_MESSAGE(v.is_array(), "expected a JSON array: " << r.describe());
    return v.as_array();
}

inline const json::value& member(const json::object& o, std::string_view key) {
    const json::value* p = o.if_contains(key);
    REQUIRE_MESSAGE(p != nullptr, "missing key \"" << std::string(key) << "\" in " << json::serialize(o));
    return *p;
}

inline std::int64_t as_int(const json::value& v) {
    REQUIRE_MESSAGE((v.is_int64() || v.is_uint64()), "expected an integer JSON number, got " << json::serialize(v));
    return v.is_int64() ? v.get_int64() : static_cast<std::int64_t>(v.get_uint64());
}

inline std::int64_t int_field(const json::object& o, std::string_view key) { return as_int(member(o, key)); }

inline std::string str_field(const json::object& o, std::string_view key) {
    const json::value& v = member(o, key);
    REQUIRE_MESSAGE(v.is_string(), "expected \"" << std::string(key) << "\" to be a string in " << json::serialize(o));
    return std::string(v.as_string());
}

// Absent and null both read as nullopt.
inline std::optional<std::string> opt_str(const json::object& o, std::string_view key) {
    const json::value* p = o.if_contains(key);
    if (!p || p->is_null()) return std::nullopt;
    REQUIRE_MESSAGE(p->is_string(), "expected \"" << std::string(key) << "\" to be a string in " << json::serialize(o));
    return std::string(p->as_string());
}

// The X-Total-Count header as a number (REQUIREs that it is present and numeric).
inline std::int64_t total_count(const Response& r) {
    auto h = r.header("X-Total-Count");
    REQUIRE_MESSAGE(h.has_value(), "missing X-Total-Count header: " << r.describe());
    std::size_t used = 0;
    long long n = -1;
    try {
        n = std::stoll(*h, &used);
    } catch (const std::exception&) {
    }
    REQUIRE_MESSAGE((used == h->size() && n >= 0), "bad X-Total-Count: " << *h);
    return n;
}

// Checks an error response: status and the body {"error":{"code":status,"message":"..."}}.
// Returns the message.
inline std::string check_error(const Response& r, unsigned status) {
    CHECK_MESSAGE(r.status == status, "expected " << status << ": " << r.describe());
    json::value v;
    try {
        v = r.json();
    } catch (const std::exception&) {
        FAIL_CHECK("error body is not JSON: " << r.describe());
        return {};
    }
    const json::object* o = v.if_object();
    const json::object* err = o ? (o->if_contains("error") ? o->at("error").if_object() : nullptr) : nullptr;
    if (!err) {
        FAIL_CHECK("error body lacks {\"error\":{...}}: " << r.describe());
        return {};
    }
    const json::value* code = err->if_contains("code");
    const json::value* message = err->if_contains("message");
    CHECK_MESSAGE((code && (code->is_int64() || code->is_uint64()) &&
                   code->to_number<std::int64_t>() == static_cast<std::int64_t>(r.status)),
                  "error.code must equal the HTTP status: " << r.describe());
    CHECK_MESSAGE((message && message->is_string() && !message->as_string().empty()),
                  "error.message must be a non-empty string: " << r.describe());
    return message && message->is_string() ? std::string(message->as_string()) : std::string();
}

inline bool is_true(const Response& r) {
    try {
        json::value v = r.json();
        return v.is_bool() && v.get_bool();
    } catch (const std::exception&) {
        return false;
    }
}

#define CHECK_TRUE_BODY(resp) \
    CHECK_MESSAGE(http_test_helpers::is_true(resp), "expected body `true`: " << (resp).describe())

inline std::string login(const ServerProcess& server, const std::string& user, const std::string& password) {
    Client c = server.client();
    Response r = c.post("/authentication", json::object{{"username", user}, {"password", password}});
    REQUIRE_MESSAGE(r.status == 200, "login as " << user << " failed: " << r.describe());
    json::object o = as_object(r);
    const json::value& t = member(o, "token");
    REQUIRE_MESSAGE((t.is_string() && !t.as_string().empty()), "token must be a non-empty string: " << r.describe());
    return std::string(t.as_string());
}

inline Client client_as(const ServerProcess& server, const std::string& user, const std::string& password,
                        bool keep_alive = true) {
    Client c = server.client(keep_alive);
    c.set_bearer(login(server, user, password));
    return c;
}

inline Client admin_client(const ServerProcess& server, bool keep_alive = true) {
    return client_as(server, "admin", server.admin_password(), keep_alive);
}

inline std::int64_t created_id(const Response& r, std::string_view key) {
    REQUIRE_STATUS(r, 200);
    json::object o = as_object(r);
    std::int64_t id = int_field(o, key);
    REQUIRE_MESSAGE(id > 0, "created id must be positive: " << r.describe());
    return id;
}

inline std::int64_t create_contact(Client& c, const json::object& body) {
    return created_id(c.post("/contacts", body), "contact_id");
}

inline std::int64_t create_contact(Client& c, std::string first_name, std::string phone) {
    return create_contact(c, json::object{{"first_name", first_name}, {"phone", phone}});
}

inline std::int64_t create_group(Client& c, std::string name, std::string description = "") {
    json::object body{{"name", name}};
    if (!description.empty()) body["description"] = description;
    return created_id(c.post("/groups", body), "group_id");
}

inline std::int64_t create_user(Client& admin, const std::string& username, const std::string& password,
                                json::object extra = {}) {
    extra["username"] = username;
    extra["passwd"] = password;
    if (!extra.contains("first_name")) extra["first_name"] = username;
    if (!extra.contains("active")) extra["active"] = 1;
    return created_id(admin.post("/users", extra), "user_id");
}

// The user_id of `username`, looked up by an admin.
inline std::int64_t user_id_of(Client& admin, const std::string& username) {
    Response r = admin.get("/users");
    REQUIRE_STATUS(r, 200);
    for (const auto& v : as_array(r)) {
        const json::object& o = v.as_object();
        if (o.if_contains("username") && o.at("username") == json::value(username)) return int_field(o, "user_id");
    }
    FAIL("user " << username << " not in GET /users: " << r.describe());
    return 0;
}

inline std::int64_t id_by_name(const json::array& rows, std::string_view id_key, std::string_view name) {
    for (const auto& v : rows) {
        const json::object* o = v.if_object();
        if (o && o->if_contains("name") && o->at("name").is_string() && o->at("name").as_string() == name)
            return int_field(*o, id_key);
    }
    return 0;
}

inline std::vector<std::int64_t> ids_of(const json::array& rows, std::string_view key) {
    std::vector<std::int64_t> out;
    for (const auto& v : rows) {
        REQUIRE_MESSAGE(v.is_object(), "list element is not an object: " << json::serialize(v));
        out.push_back(int_field(v.as_object(), key));
    }
    return out;
}

inline std::vector<std::string> strings_of(const json::array& rows, std::string_view key) {
    std::vector<std::string> out;
    for (const auto& v : rows) {
        REQUIRE(v.is_object());
        out.push_back(str_field(v.as_object(), key));
    }
    return out;
}

inline bool has_id(const json::array& rows, std::string_view key, std::int64_t id) {
    auto ids = ids_of(rows, key);
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

inline std::string url_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

// Digits (and a leading '+') of a phone string: the formatting the server may strip.
inline std::string phone_digits(std::string_view phone) {
    std::string out;
    for (char c : phone)
        if (std::isdigit(static_cast<unsigned char>(c)) || (c == '+' && out.empty())) out += c;
    return out;
}

// RFC 4180 parser for checking exports: CRLF or LF record ends, "" escapes, no blank records.
inline std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string field;
    bool in_quotes = false, any = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_quotes) {
            if (c == '"') {
                if (i + 1 < text.size() && text[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    in_quotes = false;
                }
            } else {
                field += c;
            }
            continue;
        }
        if (c == '"') {
            in_quotes = true;
            any = true;
        } else if (c == ',') {
            row.push_back(std::move(field));
            field.clear();
            any = true;
        } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
            continue;
        } else if (c == '\n') {
            if (any || !field.empty()) {
                row.push_back(std::move(field));
                rows.push_back(std::move(row));
            }
            row.clear();
            field.clear();
            any = false;
        } else {
            field += c;
            any = true;
        }
    }
    if (any || !field.empty()) {
        row.push_back(std::move(field));
        rows.push_back(std::move(row));
    }
    return rows;
}

// The contract's CSV column order.
inline const std::vector<std::string>& csv_columns() {
    static const std::vector<std::string> cols{"phone",   "first_name", "last_name", "email",      "address",
                                               "custom1", "custom2",    "custom3",   "description"};
    return cols;
}

}  // namespace http_test_helpers

using namespace http_test_helpers;

// ---- delivery helpers: programs, transmissions, providers and spools (used by
// test_providers, test_programs, test_transmissions and test_schedules).
namespace http_test_helpers {

// The loopback providers the server seeds on first start, one per service.
inline constexpr std::int64_t seeded_voice_provider = 1;
inline constexpr std::int64_t seeded_fax_provider = 2;
inline constexpr std::int64_t seeded_sms_provider = 3;
inline constexpr std::int64_t seeded_email_provider = 4;

inline std::int64_t unix_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "/transmissions/7" or "/transmissions/7/<tail>".
inline std::string tx_path(std::int64_t id, std::string_view tail = {}) {
    std::string p = "/transmissions/" + std::to_string(id);
    if (!tail.empty()) (p += '/') += tail;
    return p;
}

// A text message and a sendsms program using it; returns the program_id.
inline std::int64_t new_sms_program(Client& c, const std::string& name, const std::string& data = "hello") {
    const std::int64_t text =
        created_id(c.post("/messages/texts", json::object{{"name", name}, {"data", data}}), "text_id");
    return created_id(c.post("/programs/sendsms", json::object{{"name", name}, {"text_id", text}}), "program_id");
}

inline std::int64_t new_transmission(Client& c, std::int64_t contact_id, std::int64_t program_id,
                                     json::object extra = {}) {
    extra["contact_id"] = contact_id;
    extra["program_id"] = program_id;
    return created_id(c.post("/transmissions", extra), "transmission_id");
}

inline json::object get_transmission(Client& c, std::int64_t id) {
    Response r = c.get(tx_path(id));
    REQUIRE_STATUS(r, 200);
    return as_object(r);
}

// POST …/send; returns the spool_id.
inline std::int64_t send_transmission(Client& c, std::int64_t id) {
    return created_id(c.post(tx_path(id, "send"), json::object{}), "spool_id");
}

// Polls the transmission (20 ms apart) until its status is one of `want` or `timeout` passes
// (a failed check); returns the transmission as last read.
inline json::object await_transmission(Client& c, std::int64_t id, const std::vector<std::string>& want,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        json::object t = get_transmission(c, id);
        const std::string status = str_field(t, "status");
        if (std::find(want.begin(), want.end(), status) != want.end()) return t;
        if (std::chrono::steady_clock::now() >= deadline) {
            FAIL_CHECK("transmission " << id << " is still " << status << " after " << timeout.count()
                                       << " ms: " << json::serialize(t));
            return t;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

inline json::object await_transmission(Client& c, std::int64_t id, const std::string& want,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return await_transmission(c, id, std::vector<std::string>{want}, timeout);
}

// GET …/detail: the transmission's spools, oldest first.
inline json::array spools_of(Client& c, std::int64_t id) {
    Response r = c.get(tx_path(id, "detail"));
    REQUIRE_STATUS(r, 200);
    json::array spools = as_array(r);
    std::sort(spools.begin(), spools.end(), [](const json::value& a, const json::value& b) {
        return a.at("spool_id").to_number<std::int64_t>() < b.at("spool_id").to_number<std::int64_t>();
    });
    return spools;
}

// An optional integer field: nullopt when absent or null.
inline std::optional<std::int64_t> opt_int(const json::object& o, std::string_view key) {
    const json::value* p = o.if_contains(key);
    if (!p || p->is_null()) return std::nullopt;
    return as_int(*p);
}

// A loopback provider for `service_flag` with these settings; returns its provider_id.
inline std::int64_t new_loopback_provider(Client& admin, const std::string& name, std::int64_t service_flag,
                                          const json::object& settings = {}, std::int64_t weight = 10) {
    json::object body{{"name", name},       {"type", "loopback"}, {"service_flag", service_flag},
                      {"username", "test"}, {"weight", weight},   {"active", 1}};
    if (!settings.empty()) body["settings"] = settings;
    return created_id(admin.post("/providers", body), "provider_id");
}

inline void set_provider_active(Client& admin, std::int64_t provider_id, bool active) {
    Response r = admin.put("/providers/" + std::to_string(provider_id), json::object{{"active", active ? 1 : 0}});
    REQUIRE_STATUS(r, 200);
    REQUIRE(int_field(as_object(r), "active") == (active ? 1 : 0));
}

}  // namespace http_test_helpers

// ---- campaign helpers: campaigns, bulk contacts and the loopback ledger (used by
// test_campaigns). In their own namespace, not pulled in by `using`, so that test files with
// helpers of the same names keep compiling; say `using namespace http_test_helpers::campaign_helpers;`.
#include <filesystem>
#include <fstream>
#include <iterator>

namespace http_test_helpers::campaign_helpers {

// "/campaigns/7" or "/campaigns/7/<tail>".
inline std::string campaign_path(std::int64_t id, std::string_view tail = {}) {
    std::string p = "/campaigns/" + std::to_string(id);
    if (!tail.empty()) (p += '/') += tail;
    return p;
}

// `count` phones "<prefix><4 digits from first>", e.g. prefix "300100" gives 3001000000….
inline std::vector<std::string> numbered_phones(const std::string& prefix, int count, int first = 0) {
    std::vector<std::string> out;
    for (int i = first; i < first + count; ++i) {
        const std::string n = std::to_string(i);
        out.push_back(prefix + std::string(n.size() < 4 ? 4 - n.size() : 0, '0') + n);
    }
    return out;
}

// Creates one contact per phone and links it to the group, in one CSV import (the fastest way
// to fill a group); REQUIREs that every row was imported.
inline void import_phones(Client& c, std::int64_t group, const std::vector<std::string>& phones) {
    std::string csv;
    for (std::size_t i = 0; i < phones.size(); ++i) csv += phones[i] + ",Bulk" + std::to_string(i) + "\n";
    Response r = c.post_raw("/groups/" + std::to_string(group) + "/csv", csv, "text/csv");
    REQUIRE_STATUS(r, 200);
    REQUIRE_MESSAGE(int_field(as_object(r), "imported") == static_cast<std::int64_t>(phones.size()), r.describe());
}

// A group holding one new contact per phone; returns the group_id.
inline std::int64_t group_of_phones(Client& c, const std::string& name, const std::vector<std::string>& phones) {
    const std::int64_t group = create_group(c, name);
    if (!phones.empty()) import_phones(c, group, phones);
    return group;
}

inline std::int64_t new_campaign(Client& c, std::int64_t program_id, std::int64_t group_id, json::object extra = {}) {
    extra["program_id"] = program_id;
    extra["group_id"] = group_id;
    return created_id(c.post("/campaigns", extra), "campaign_id");
}

inline json::object get_campaign(Client& c, std::int64_t id) {
    Response r = c.get(campaign_path(id));
    REQUIRE_STATUS(r, 200);
    return as_object(r);
}

// PUT …/start or …/stop, REQUIREd to answer `true`.
inline void start_campaign(Client& c, std::int64_t id) {
    Response r = c.put(campaign_path(id, "start"));
    REQUIRE_STATUS(r, 200);
    REQUIRE_MESSAGE(is_true(r), r.describe());
}

inline void stop_campaign(Client& c, std::int64_t id) {
    Response r = c.put(campaign_path(id, "stop"));
    REQUIRE_STATUS(r, 200);
    REQUIRE_MESSAGE(is_true(r), r.describe());
}

// Polls the campaign (20 ms apart) until its status is `want` or `timeout` passes (a failed
// check); returns the campaign as last read.
inline json::object await_campaign(Client& c, std::int64_t id, const std::string& want,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        json::object cp = get_campaign(c, id);
        if (str_field(cp, "status") == want) return cp;
        if (std::chrono::steady_clock::now() >= deadline) {
            FAIL_CHECK("campaign " << id << " is not " << want << " after " << timeout.count()
                                   << " ms: " << json::serialize(cp));
            return cp;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// GET /transmissions?campaign_id=ID (every row; X-Total-Count checked against the rows).
inline json::array campaign_transmissions(Client& c, std::int64_t id) {
    Response r = c.get("/transmissions?campaign_id=" + std::to_string(id));
    REQUIRE_STATUS(r, 200);
    json::array rows = as_array(r);
    CHECK_MESSAGE(total_count(r) == static_cast<std::int64_t>(rows.size()), r.describe());
    return rows;
}

// The loopback ledger: one JSON object per delivery recorded ({spool_id, transmission_id,
// provider_id, service_flag, destination, time (Unix ms)}). A line still being written
// (no newline yet, or not JSON) is left out.
inline std::vector<json::object> ledger_entries(const std::filesystem::path& path) {
    std::vector<json::object> rows;
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::size_t begin = 0;
    for (std::size_t end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
        boost::system::error_code ec;
        json::value v = json::parse(std::string_view(text).substr(begin, end - begin), ec);
        if (!ec && v.is_object()) rows.push_back(std::move(v.as_object()));
    }
    return rows;
}

inline std::size_t ledger_count(const std::filesystem::path& path) { return ledger_entries(path).size(); }

inline std::int64_t unix_millis() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace http_test_helpers::campaign_helpers

// Security over HTTP (issue 8, item 5): forged and stale tokens, secrets kept out of the log
// and of responses, SQL-injection and path-traversal payloads, and a walk of every route of
// the server's own route table with another tenant's ids.
//
// The route table is not listed by hand: it is built in this process from the server's route
// library (ictcore_server_routes) over a throw-away Core, so a route added to the server is
// walked too, or fails the walk until the test says how to call it.
#include "helpers.hpp"
#include "pdf_writer.hpp"
#include "router.hpp"
#include "routes.hpp"

#include <ictcore/core.hpp>
#include <ictcore/principal.hpp>

#include <sodium.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace {

// ---- JSON Web Tokens built by hand ------------------------------------------------------

std::string b64url(std::string_view bytes) {
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::string b64url_decode(std::string_view text) {
    std::string out(text.size(), '\0');
    std::size_t len = 0;
    const int rc = sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                                     nullptr, &len, nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    REQUIRE_MESSAGE(rc == 0, "not base64url: " << text);
    out.resize(len);
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    crypto_auth_hmacsha256_state state;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    crypto_auth_hmacsha256_final(&state, mac);
    return std::string(reinterpret_cast<const char*>(mac), sizeof mac);
}

std::string hmac_sha512(std::string_view key, std::string_view data) {
    crypto_auth_hmacsha512_state state;
    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    crypto_auth_hmacsha512_update(&state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    crypto_auth_hmacsha512_final(&state, mac);
    return std::string(reinterpret_cast<const char*>(mac), sizeof mac);
}

std::string signing_input(const json::object& header, const json::object& claims) {
    return b64url(json::serialize(header)) + "." + b64url(json::serialize(claims));
}

std::string hs256(const json::object& header, const json::object& claims, std::string_view key) {
    const std::string input = signing_input(header, claims);
    return input + "." + b64url(hmac_sha256(key, input));
}

std::vector<std::string> jwt_parts(const std::string& token) {
    std::vector<std::string> parts;
    std::size_t begin = 0;
    for (std::size_t dot; (dot = token.find('.', begin)) != std::string::npos; begin = dot + 1)
        parts.push_back(token.substr(begin, dot - begin));
    parts.push_back(token.substr(begin));
    REQUIRE_MESSAGE(parts.size() == 3, "not a JWS compact token: " << token);
    return parts;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// ---- media bodies -----------------------------------------------------------------------

void put_le(std::string& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// 0.2 s of 8 kHz mono 16-bit PCM: a square wave.
std::string small_wav() {
    const std::uint32_t frames = 1600, data_bytes = frames * 2;
    std::string w = "RIFF";
    put_le(w, 36 + data_bytes, 4);
    w += "WAVEfmt ";
    put_le(w, 16, 4);
    put_le(w, 1, 2);
    put_le(w, 1, 2);
    put_le(w, 8000, 4);
    put_le(w, 16000, 4);
    put_le(w, 2, 2);
    put_le(w, 16, 2);
    w += "data";
    put_le(w, data_bytes, 4);
    for (std::uint32_t i = 0; i < frames; ++i) put_le(w, (i / 20) % 2 ? 0x2000 : 0xE000, 2);
    return w;
}

std::string small_pdf() { return ictcore::test::pdf_of_pages({"0 0 0 rg 100 400 200 200 re f"}); }

// The body a media route takes, by its collection.
std::pair<std::string, std::string> media_body(std::string_view path) {
    if (path.find("/recordings/") != std::string_view::npos) return {small_wav(), "audio/wav"};
    if (path.find("/documents/") != std::string_view::npos) return {small_pdf(), "application/pdf"};
    return {"an attachment", "text/plain"};
}

// ---- the route table --------------------------------------------------------------------

struct RouteRef {
    std::string method;
    std::string pattern;
};

// Every route of ictcore-server, from the same code that builds the server's table.
std::vector<RouteRef> route_table() {
    TempDir dir("ictcore-sec-routes");
    ictcore::Options options;
    options.data_dir = dir.path() / "data";
    options.admin_password = "route-table-only";
    options.password_cost = ictcore::PasswordCost::minimal;
    options.seed_loopback_providers = false;
    options.run_engine = false;
    ictcore::Core core(std::move(options));
    ictcore::server::Router router([](const ictcore::server::Request&) { return ictcore::Principal(); });
    ictcore::server::add_routes(router, core);
    std::vector<RouteRef> out;
    for (const auto& route : router.routes()) out.push_back({route.method, route.pattern});
    return out;
}

std::vector<std::string> param_names(const std::string& pattern) {
    std::vector<std::string> names;
    std::size_t at = 0;
    while ((at = pattern.find('{', at)) != std::string::npos) {
        const std::size_t close = pattern.find('}', at);
        names.push_back(pattern.substr(at + 1, close - at - 1));
        at = close + 1;
    }
    return names;
}

// The pattern with its `{name}` segments replaced by `values`, in order.
std::string fill(const std::string& pattern, const std::vector<std::string>& values) {
    std::string out;
    std::size_t at = 0, i = 0;
    for (std::size_t open; (open = pattern.find('{', at)) != std::string::npos;) {
        out += pattern.substr(at, open - at);
        out += values.at(i++);
        at = pattern.find('}', open) + 1;
    }
    return out + pattern.substr(at);
}

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Routes a plain user may be refused with 403 rather than 404: user and provider
// administration, and changes to accounts (the `user` role only reads its account).
bool may_forbid(const RouteRef& r) {
    return starts_with(r.pattern, "/users") || starts_with(r.pattern, "/providers") ||
           starts_with(r.pattern, "/roles") || starts_with(r.pattern, "/permissions") ||
           r.pattern == "/gateways/kannel" ||
           (starts_with(r.pattern, "/accounts") && !(r.method == "GET" && !ends_with(r.pattern, "/delete")));
}

// Routes that change something though their method is GET.
bool get_writes(const RouteRef& r) { return ends_with(r.pattern, "/delete") || ends_with(r.pattern, "/clone"); }

// Error messages with the ids taken out, to compare an answer for someone else's row with the
// answer for a row that does not exist.
std::string without_digits(std::string s) {
    std::string out;
    for (char c : s) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            if (out.empty() || out.back() != '#') out += '#';
        } else {
            out += c;
        }
    }
    return out;
}

std::string error_message(const Response& r) {
    try {
        json::value v = r.json();
        if (const auto* o = v.if_object())
            if (const auto* e = o->if_contains("error"); e && e->is_object())
                if (const auto* m = e->as_object().if_contains("message"); m && m->is_string())
                    return std::string(m->as_string());
    } catch (const std::exception&) {
    }
    return r.body;
}

// ---- tenants ------------------------------------------------------------------------------

// A user with one row of every kind it may own, by the name of the path parameter that
// names it (contact_id, group_id, …, spool_id, account_id, user_id).
struct Tenant {
    std::string name;
    std::string password;
    std::string marker;  // in every name and text of its rows: found in a body means a leak
    std::map<std::string, std::int64_t> ids;
    std::int64_t id(const std::string& key) const {
        const auto it = ids.find(key);
        REQUIRE_MESSAGE(it != ids.end(), "tenant has no " << key);
        return it->second;
    }
};

Tenant make_tenant(const ServerProcess& server, Client& admin, const std::string& name, const std::string& marker,
                   const std::string& phone) {
    Tenant t{name, name + "-Pass-2718", marker, {}};
    t.ids["user_id"] = create_user(admin, name, t.password);
    Client c = client_as(server, name, t.password);
    auto& ids = t.ids;
    ids["contact_id"] = create_contact(c, json::object{{"first_name", marker + " contact"}, {"phone", phone}});
    ids["group_id"] = create_group(c, marker + " group", marker);
    REQUIRE_STATUS(c.put("/contacts/" + std::to_string(ids["contact_id"]) + "/link/" + std::to_string(ids["group_id"])),
                   200);
    ids["text_id"] = created_id(
        c.post("/messages/texts", json::object{{"name", marker + " text"}, {"data", marker + " says hi"}}), "text_id");
    ids["template_id"] = created_id(
        c.post("/messages/templates",
               json::object{{"name", marker + " template"}, {"subject", marker}, {"body", "<p>" + marker + "</p>"}}),
        "template_id");
    REQUIRE_STATUS(
        c.request("PUT", "/messages/templates/" + std::to_string(ids["template_id"]) + "/media", marker + " attachment",
                  "text/plain", {{"Content-Disposition", "attachment; filename=\"" + marker + ".txt\""}}),
        200);
    ids["recording_id"] =
        created_id(c.post("/messages/recordings", json::object{{"name", marker + " recording"}}), "recording_id");
    REQUIRE_STATUS(
        c.put_raw("/messages/recordings/" + std::to_string(ids["recording_id"]) + "/media", small_wav(), "audio/wav"),
        200);
    ids["document_id"] =
        created_id(c.post("/messages/documents", json::object{{"name", marker + " document"}}), "document_id");
    REQUIRE_STATUS(c.put_raw("/messages/documents/" + std::to_string(ids["document_id"]) + "/media", small_pdf(),
                             "application/pdf"),
                   200);
    ids["program_id"] = created_id(
        c.post("/programs/sendsms", json::object{{"name", marker + " program"}, {"text_id", ids["text_id"]}}),
        "program_id");
    ids["transmission_id"] = new_transmission(c, ids["contact_id"], ids["program_id"]);
    ids["spool_id"] = send_transmission(c, ids["transmission_id"]);
    await_transmission(c, ids["transmission_id"], "completed");
    ids["campaign_id"] =
        created_id(c.post("/campaigns", json::object{{"program_id", ids["program_id"]}, {"group_id", ids["group_id"]}}),
                   "campaign_id");
    Response accounts = c.get("/accounts");
    REQUIRE_STATUS(accounts, 200);
    const json::array rows = as_array(accounts);
    REQUIRE_MESSAGE(rows.size() == 1, "a new user has one account: " << accounts.describe());
    ids["account_id"] = int_field(rows[0].as_object(), "account_id");
    return t;
}

// Sends `method path` with the body that kind of route takes; `own` supplies ids a body needs.
Response call_route(Client& c, const std::string& method, const std::string& pattern, const std::string& path,
                    const Tenant& own) {
    if (method == "GET" || method == "DELETE") return c.request(method, path);
    if (ends_with(pattern, "/media")) {
        auto [bytes, type] = media_body(path);
        return c.request(method, path, bytes, type);
    }
    if (ends_with(pattern, "/csv")) return c.request(method, path, "3005550001,Injected\n", "text/csv");
    json::object body;
    if (ends_with(pattern, "/schedule")) {
        body["delay"] = 3600;
    } else if (pattern == "/programs/{program_id}/transmissions") {
        body["contact_id"] = own.id("contact_id");
    } else if (method == "PUT" && ends_with(pattern, "}")) {
        body = json::object{{"name", "Hijacked"},
                            {"first_name", "Hijacked"},
                            {"last_name", "Hijacked"},
                            {"data", "Hijacked"},
                            {"description", "Hijacked"},
                            {"subject", "Hijacked"},
                            {"body", "Hijacked"},
                            {"username", "hijacked"},
                            {"passwd", "Hijacked-pass-1"},
                            {"password", "Hijacked"},
                            {"active", 0},
                            {"phone", "3009999999"},
                            {"program_id", own.id("program_id")},
                            {"group_id", own.id("group_id")}};
    }
    return c.request(method, path, json::serialize(body), "application/json");
}

// Everything a tenant can read about its own rows, by request: compared before and after
// another user's attempts to change them.
std::map<std::string, std::string> snapshot(Client& c, const std::vector<RouteRef>& routes, const Tenant& t,
                                            const std::map<std::string, std::int64_t>& neutral) {
    std::map<std::string, std::string> out;
    for (const auto& r : routes) {
        if (r.method != "GET" || get_writes(r) || starts_with(r.pattern, "/gateways")) continue;
        std::vector<std::string> values;
        for (const auto& name : param_names(r.pattern)) {
            const auto it = t.ids.find(name);
            values.push_back(std::to_string(it != t.ids.end() ? it->second : neutral.at(name)));
        }
        const std::string path = fill(r.pattern, values);
        Response resp = c.get(path);
        out[path] = std::to_string(resp.status) + " " + resp.body;
    }
    return out;
}

void check_same(const std::map<std::string, std::string>& before, const std::map<std::string, std::string>& after) {
    CHECK(before.size() == after.size());
    for (const auto& [path, answer] : before) {
        const auto it = after.find(path);
        REQUIRE(it != after.end());
        CHECK_MESSAGE(it->second == answer, "GET " << path << " changed:\n before: " << answer.substr(0, 400)
                                                   << "\n after:  " << it->second.substr(0, 400));
    }
}

// Row counts of every listing, as admin sees them (everyone's rows).
std::map<std::string, std::int64_t> totals(Client& admin, const std::vector<RouteRef>& routes) {
    std::map<std::string, std::int64_t> out;
    for (const auto& r : routes) {
        if (r.method != "GET" || r.pattern.find('{') != std::string::npos || starts_with(r.pattern, "/gateways"))
            continue;
        Response resp = admin.get(r.pattern);
        if (resp.header("X-Total-Count")) out[r.pattern] = total_count(resp);
    }
    return out;
}

}  // namespace

// ---- (a) tokens -------------------------------------------------------------------------------

TEST_CASE("security: forged, expired, not-yet-valid and orphaned tokens are refused with 401") {
    REQUIRE(sodium_init() >= 0);
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t tina = create_user(admin, "tina", "tina-pass-1");
    const std::string real = login(server, "tina", "tina-pass-1");
    const std::string key = read_file(server.data_dir() / "token.key");
    REQUIRE_MESSAGE(key.size() == 32, "the server's token key: " << (server.data_dir() / "token.key"));

    // The issued token is what the forgeries imitate: an HS256 header and sub/nbf/exp claims.
    const auto parts = jwt_parts(real);
    const json::object issued_header = json::parse(b64url_decode(parts[0])).as_object();
    const json::object issued_claims = json::parse(b64url_decode(parts[1])).as_object();
    CHECK(issued_header.at("alg") == json::value("HS256"));
    CHECK(issued_claims.at("sub") == json::value(std::to_string(tina)));
    CHECK(issued_claims.contains("exp"));

    const std::int64_t now = unix_seconds();
    const json::object header{{"alg", "HS256"}, {"typ", "JWT"}};
    auto claims_of = [&](const std::string& sub) {
        return json::object{{"sub", sub}, {"iat", now}, {"nbf", now - 5}, {"exp", now + 3600}};
    };
    const json::object good = claims_of(std::to_string(tina));

    Client c = server.client(true);
    auto accepted = [&](const std::string& what, const std::string& token) {
        CAPTURE(what);
        c.set_bearer(token);
        CHECK_STATUS(c.get("/contacts"), 200);
    };
    // A read (served on the I/O thread) and a write (on a worker) take different paths.
    auto refused = [&](const std::string& what, const std::string& token) {
        CAPTURE(what);
        c.set_bearer(token);
        check_error(c.get("/contacts"), 401);
        check_error(c.post("/contacts", json::object{{"first_name", "Forged"}, {"phone", "3001112222"}}), 401);
    };

    // Controls: the issued token, and one this test signs with the server's key, are accepted;
    // so each refusal below is due to the one thing it changes.
    accepted("issued token", real);
    accepted("hand-signed with the server key", hs256(header, good, key));

    // Algorithm "none", with no signature, an empty one, or a valid HS256 one.
    for (const char* alg : {"none", "None", "NONE", "nOnE"}) {
        const json::object none{{"alg", alg}, {"typ", "JWT"}};
        const std::string input = signing_input(none, good);
        refused(std::string("alg ") + alg + ", no signature", input + ".");
        refused(std::string("alg ") + alg + ", no signature part", input);
        refused(std::string("alg ") + alg + ", HS256 signature", input + "." + b64url(hmac_sha256(key, input)));
    }
    refused("no alg", hs256(json::object{{"typ", "JWT"}}, good, key));
    // Another HMAC than the one the server issues, with the right key.
    {
        const json::object hs512{{"alg", "HS512"}, {"typ", "JWT"}};
        const std::string input = signing_input(hs512, good);
        refused("alg HS512 with the server key", input + "." + b64url(hmac_sha512(key, input)));
    }

    // Wrong signatures.
    {
        std::string sig = b64url_decode(parts[2]);
        REQUIRE(sig.size() == 32);
        for (std::size_t at : {std::size_t{0}, std::size_t{17}, std::size_t{31}}) {
            std::string flipped = sig;
            flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
            refused("signature byte " + std::to_string(at) + " flipped",
                    parts[0] + "." + parts[1] + "." + b64url(flipped));
        }
        refused("signature cut short", parts[0] + "." + parts[1] + "." + b64url(sig.substr(0, 16)));
        refused("no signature", parts[0] + "." + parts[1] + ".");
        std::string other_key(32, '\0');
        randombytes_buf(other_key.data(), other_key.size());
        refused("signed with another key", hs256(header, good, other_key));
        refused("admin claimed, signed with another key", hs256(header, claims_of("1"), other_key));
        refused("signed with an empty key", hs256(header, good, ""));
        // Claims changed under the issued signature.
        refused("sub changed to admin", parts[0] + "." + b64url(json::serialize(claims_of("1"))) + "." + parts[2]);
        json::object longer = issued_claims;
        longer["exp"] = now + 10 * 365 * 86400;
        refused("exp extended", parts[0] + "." + b64url(json::serialize(longer)) + "." + parts[2]);
    }

    // Valid signatures over claims that must not be honoured.
    {
        json::object early = good;
        early["nbf"] = now + 3600;
        refused("nbf an hour ahead", hs256(header, early, key));
        json::object expired = good;
        expired["exp"] = now - 60;
        refused("exp a minute ago", hs256(header, expired, key));
        expired["exp"] = now - 1;
        refused("exp a second ago", hs256(header, expired, key));
        json::object no_exp = good;
        no_exp.erase("exp");
        refused("no exp", hs256(header, no_exp, key));
        json::object text_exp = good;
        text_exp["exp"] = "99999999999";
        refused("exp as a string", hs256(header, text_exp, key));
        json::object no_sub = good;
        no_sub.erase("sub");
        refused("no sub", hs256(header, no_sub, key));
        for (const char* sub : {"999999", "0", "-1", "abc", "1 ", "1.0", ""})
            refused(std::string("sub \"") + sub + "\"", hs256(header, claims_of(sub), key));
    }

    // Garbage and empty credentials.
    for (const std::string& junk :
         {std::string("garbage"), std::string("a.b.c"), std::string(".."), std::string("..."), std::string("eyJ"),
          parts[0] + "." + parts[1], real + ".", real + "x", "x" + real, real.substr(0, real.size() - 1),
          std::string(5000, 'A'), std::string("\xC3\xA9\xC3\xA9.\xC3\xA9.\xC3\xA9"), real + " " + real})
        refused("garbage " + junk.substr(0, 40), junk);
    for (const char* header_name : {"Authorization", "Authentication"}) {
        for (const char* value : {"Bearer ", "Bearer", "Bearer  \t ", "Bearer null", "Bearer undefined"}) {
            CAPTURE(header_name);
            CAPTURE(value);
            c.set_auth_header(header_name, value);
            check_error(c.get("/contacts"), 401);
        }
    }

    // A deactivated user's tokens (issued, or signed with the key) stop working.
    {
        const std::int64_t dora = create_user(admin, "dora", "dora-pass-1");
        const std::string token = login(server, "dora", "dora-pass-1");
        accepted("dora before", token);
        REQUIRE_STATUS(admin.put("/users/" + std::to_string(dora), json::object{{"active", 0}}), 200);
        refused("deactivated user, issued token", token);
        refused("deactivated user, signed token", hs256(header, claims_of(std::to_string(dora)), key));
    }
    // And a deleted user's.
    {
        const std::int64_t dave = create_user(admin, "dave", "dave-pass-1");
        const std::string token = login(server, "dave", "dave-pass-1");
        accepted("dave before", token);
        Response r = admin.del("/users/" + std::to_string(dave));
        REQUIRE_STATUS(r, 200);
        refused("deleted user, issued token", token);
        refused("deleted user, signed token", hs256(header, claims_of(std::to_string(dave)), key));
        // dave had the highest id, which SQLite would hand to the next user: ids are never
        // reused, so the next user neither gets it nor inherits dave's tokens.
        const std::int64_t dan = create_user(admin, "dan", "dan-pass-1");
        CHECK(dan > dave);
        refused("deleted user's token after a new user", token);
        refused("deleted user's id, signed, after a new user", hs256(header, claims_of(std::to_string(dave)), key));
        accepted("the new user's own token", login(server, "dan", "dan-pass-1"));
    }

    // None of the refused writes got through; the issued token still works.
    accepted("issued token after", real);
    Response r = c.get("/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    CHECK(total_count(admin.get("/contacts?first_name=Forged")) == 0);
}

// ---- (b) secrets -------------------------------------------------------------------------------

TEST_CASE("security: passwords, tokens and provider passwords never reach the log or a response") {
    ServerProcess server(with_args({"--log-level", "trace"}));
    struct Seen {
        Response response;
        std::string may_contain;  // the one secret this response exists to hand out
    };
    std::vector<Seen> seen;
    auto keep = [&](Response r, std::string may_contain = {}) {
        seen.push_back({r, std::move(may_contain)});
        return r;
    };

    const std::string admin_pw = server.admin_password();
    const std::string user_pw = "Usr-Secret-8842-xyzzy";
    const std::string user_pw2 = "Usr-Secret-8842-rotated";
    const std::string wrong_pw = "Wrong-Guess-6650-quux";
    const std::string short_pw = "Sh0rt!q";
    const std::string prov_pw = "Prov-Secret-3317-frobozz";
    const std::string prov_pw2 = "Prov-Secret-3317-rotated";
    const std::string acct_pw = "Acct-Secret-5521-plugh";
    const std::string acct_pin = "918273645546";
    std::vector<std::string> secrets{admin_pw, user_pw,  user_pw2, wrong_pw, short_pw,
                                     prov_pw,  prov_pw2, acct_pw,  acct_pin};

    Client anon = server.client(true);
    auto login_as = [&](const std::string& user, const std::string& pw) {
        Response r = anon.post("/authentication", json::object{{"username", user}, {"password", pw}});
        REQUIRE_STATUS(r, 200);
        const std::string token = str_field(as_object(r), "token");
        keep(r, token);
        secrets.push_back(token);
        return token;
    };
    Client admin = server.client(true);
    admin.set_bearer(login_as("admin", admin_pw));

    // Failed logins, in both spellings of the key and in a body that is not JSON.
    keep(anon.post("/authentication", json::object{{"username", "admin"}, {"password", wrong_pw}}));
    keep(anon.post("/authenticate", json::object{{"username", "admin"}, {"passowrd", wrong_pw}}));
    keep(anon.post("/authentication", json::object{{"username", "nobody"}, {"password", wrong_pw}}));
    keep(anon.post_raw("/authentication", "{\"username\":\"admin\",\"password\":\"" + wrong_pw + "\""));
    keep(anon.post_raw("/authentication", "{\"username\":\"admin\",\"password\":\"" + wrong_pw + "\",}"));
    for (const auto& r : seen)
        CHECK_MESSAGE((r.response.status != 200 || !r.may_contain.empty()), r.response.describe());

    // A user with a password, which is refused when too short and later changed.
    check_error(keep(admin.post("/users", json::object{{"username", "sam"}, {"passwd", short_pw}, {"active", 1}})),
                412);
    const std::int64_t sam = created_id(
        keep(admin.post("/users",
                        json::object{{"username", "sam"}, {"passwd", user_pw}, {"first_name", "Sam"}, {"active", 1}})),
        "user_id");
    keep(anon.post("/authentication", json::object{{"username", "sam"}, {"password", wrong_pw}}));
    Client sam_client = server.client(true);
    sam_client.set_bearer(login_as("sam", user_pw));
    keep(sam_client.post("/contacts", json::object{{"first_name", "Pat"}, {"phone", "3004445555"}}));
    keep(sam_client.get("/contacts"));
    Client basic = server.client(true);
    basic.set_basic("sam", user_pw);
    CHECK_STATUS(keep(basic.get("/contacts")), 200);
    basic.set_basic("sam", wrong_pw);
    check_error(keep(basic.get("/contacts")), 401);
    for (const std::string& path : {"/users/" + std::to_string(sam), std::string("/users")}) {
        Response r = keep(admin.get(path));
        REQUIRE_STATUS(r, 200);
        CHECK(r.body.find("sam") != std::string::npos);
    }
    Response changed = keep(admin.put("/users/" + std::to_string(sam), json::object{{"passwd", user_pw2}}));
    CHECK_STATUS(changed, 200);
    login_as("sam", user_pw2);

    // A provider with a password: never returned, on create, read, list or update.
    const std::int64_t provider = created_id(keep(admin.post("/providers", json::object{{"name", "secret-provider"},
                                                                                        {"type", "loopback"},
                                                                                        {"service_flag", 4},
                                                                                        {"username", "gw-user"},
                                                                                        {"password", prov_pw},
                                                                                        {"active", 0}})),
                                             "provider_id");
    const std::string provider_path = "/providers/" + std::to_string(provider);
    auto check_no_password = [&](const Response& r) {
        REQUIRE_STATUS(r, 200);
        json::value v = r.json();
        std::vector<json::object> rows;
        if (v.is_object()) rows.push_back(v.as_object());
        if (v.is_array())
            for (const auto& row : v.as_array()) rows.push_back(row.as_object());
        CHECK(!rows.empty());
        for (const auto& row : rows) CHECK_MESSAGE(!row.contains("password"), r.describe());
    };
    check_no_password(keep(admin.get(provider_path)));
    check_no_password(keep(admin.get("/providers")));
    check_no_password(keep(admin.get("/providers?username=gw-user")));
    check_no_password(keep(admin.put(provider_path, json::object{{"password", prov_pw2}})));
    check_no_password(keep(admin.put(provider_path, json::object{{"name", "renamed-provider"}})));
    check_no_password(keep(admin.get(provider_path)));
    check_error(keep(admin.put(provider_path, json::object{{"password", prov_pw + std::string(1100, 'x')}})), 412);

    // An account with a password and a PIN.
    const std::int64_t account = created_id(
        keep(admin.post(
            "/accounts",
            json::object{{"username", "sam-line"}, {"passwd", acct_pw}, {"passwd_pin", acct_pin}, {"user_id", sam}})),
        "account_id");
    const std::string account_path = "/accounts/" + std::to_string(account);
    keep(admin.get(account_path));
    keep(admin.get("/accounts"));
    keep(sam_client.get(account_path));
    keep(admin.put(account_path, json::object{{"first_name", "Line"}}));
    check_error(keep(admin.put(account_path, json::object{{"passwd", short_pw}})), 412);

    // Kannel's inbound key travels in a query string; it is given out by the settings route only.
    {
        Response settings = admin.get("/gateways/kannel");
        REQUIRE_STATUS(settings, 200);
        const std::string url = str_field(as_object(settings), "get_url");
        const auto at = url.find("key=");
        REQUIRE(at != std::string::npos);
        const std::string inbound_key = url.substr(at + 4, url.find('&', at) - at - 4);
        REQUIRE(inbound_key.size() >= 16);
        keep(settings, inbound_key);
        secrets.push_back(inbound_key);
        keep(anon.get("/gateways/kannel/mo?key=" + inbound_key + "&from=3001230000&to=3009870000&text=hi"));
        keep(anon.get("/gateways/kannel/mo?key=" + inbound_key + "x&from=3001230000&to=3009870000&text=hi"));
    }
    keep(sam_client.get("/statistics"));

    const ExitStatus status = server.stop();
    CHECK_MESSAGE(status.ok(), status.describe());
    const std::string log = server.output();
    // The log is the one the requests went to: the failed logins are in it.
    REQUIRE_MESSAGE(log.find("POST /authentication 401") != std::string::npos, log.substr(0, 2000));
    REQUIRE(log.find("PUT " + provider_path + " 200") != std::string::npos);

    for (const auto& secret : secrets) {
        CAPTURE(secret);
        CHECK_MESSAGE(log.find(secret) == std::string::npos, "secret in the server log");
        // A token's signature alone is as good as the token.
        if (std::count(secret.begin(), secret.end(), '.') == 2) {
            CHECK(log.find(jwt_parts(secret)[2]) == std::string::npos);
        }
        for (const auto& s : seen) {
            if (s.may_contain == secret) continue;
            std::string headers;
            for (const auto& [name, value] : s.response.headers) headers += name + ": " + value + "\n";
            CHECK_MESSAGE(s.response.body.find(secret) == std::string::npos, "secret in " << s.response.describe());
            CHECK_MESSAGE(headers.find(secret) == std::string::npos, "secret in the headers of " << s.response.request);
        }
    }
    // Users' passwords are stored hashed: not in any file of the data directory.
    for (const auto& entry : fs::recursive_directory_iterator(server.data_dir())) {
        if (!entry.is_regular_file()) continue;
        const std::string bytes = read_file(entry.path());
        for (const auto& pw : {admin_pw, user_pw, user_pw2}) {
            CAPTURE(pw);
            CHECK_MESSAGE(bytes.find(pw) == std::string::npos, "password in clear in " << entry.path());
        }
    }
}

// ---- (c) injection and traversal ---------------------------------------------------------------

TEST_CASE("security: SQL-injection and path-traversal payloads are refused or inert, and change nothing") {
    TempDir root("ictcore-sec-root");
    ServerOptions options;
    options.data_dir = root.path() / "data";
    ServerProcess server(options);
    const std::vector<RouteRef> routes = route_table();
    Client admin = admin_client(server);
    const Tenant alice = make_tenant(server, admin, "alice", "AliceQz7Marker", "3001000001");
    const Tenant bob = make_tenant(server, admin, "bob", "BobQz7Marker", "3002000002");
    Client as_alice = client_as(server, alice.name, alice.password);
    Client as_bob = client_as(server, bob.name, bob.password);
    const std::map<std::string, std::int64_t> neutral{{"role_id", 2}, {"permission_id", 1}, {"provider_id", 1}};

    const auto alice_before = snapshot(as_alice, routes, alice, neutral);
    const auto bob_before = snapshot(as_bob, routes, bob, neutral);
    const auto totals_before = totals(admin, routes);

    const std::vector<std::string> sql_payloads{"' OR 1=1 --",
                                                "' OR '1'='1",
                                                "1 OR 1=1",
                                                "1; DROP TABLE contact",
                                                "1'; DROP TABLE contact; --",
                                                "%27",
                                                "%",
                                                "_",
                                                "\\",
                                                "\xE2\x80\x99 OR 1=1 --",  // right single quotation mark
                                                "\xEF\xBC\x87 OR 1=1 --",  // fullwidth apostrophe
                                                "\xCA\xBC OR 1=1 --",      // modifier letter apostrophe
                                                "\" OR \"\"=\"",
                                                "x') UNION SELECT username, passwd FROM user --",
                                                std::string("a\0b", 3),
                                                "*/ OR /*",
                                                "-1",
                                                "99999999999999999999999"};
    auto query = [](const std::string& key, const std::string& value) {
        return url_encode(key) + "=" + url_encode(value);
    };
    int list_routes = 0, filter_requests = 0;

    for (const auto& r : routes) {
        if (r.method != "GET" || get_writes(r) || starts_with(r.pattern, "/gateways")) continue;
        CAPTURE(r.pattern);
        std::vector<std::string> values;
        for (const auto& name : param_names(r.pattern)) {
            const auto it = bob.ids.find(name);
            values.push_back(std::to_string(it != bob.ids.end() ? it->second : neutral.at(name)));
        }
        const std::string path = fill(r.pattern, values);
        // Bob's lists; admin's where bob may not list (users, providers, roles).
        Client* c = &as_bob;
        Response base = c->get(path);
        if (base.status == 403) {
            c = &admin;
            base = c->get(path);
        }
        const bool json_list = contains_ci(base.header("Content-Type").value_or(""), "json");
        if (base.status != 200 || !base.header("X-Total-Count") || !json_list) {
            // Not a listing: query strings are ignored, never an error of the server.
            for (const auto& p : sql_payloads) {
                Response resp = c->get(path + "?" + query("sort", p) + "&" + query("name", p));
                CHECK_MESSAGE(resp.status < 500, resp.describe());
            }
            continue;
        }
        ++list_routes;
        const json::array base_rows = as_array(base);
        REQUIRE_MESSAGE(!base_rows.empty(), "the listing needs a row to filter: " << base.describe());
        const std::string body_before = base.body;
        std::set<std::string> base_ids;
        for (const auto& row : base_rows) base_ids.insert(json::serialize(row));

        std::vector<std::string> keys;
        for (const auto& kv : base_rows[0].as_object()) keys.emplace_back(kv.key());
        keys.push_back("id");
        keys.push_back("unknown_field");
        for (const auto& key : keys) {
            CAPTURE(key);
            // Control: a value no row holds. When it empties the list the key is a filter, and
            // then no payload may match either (none is in any row).
            Response control = c->get(path + "?" + query(key, "zzq-no-such-value"));
            CHECK_MESSAGE(control.status < 500, control.describe());
            const bool filters = control.status == 200 && as_array(control).empty();
            for (const auto& p : sql_payloads) {
                CAPTURE(p);
                ++filter_requests;
                Response resp = c->get(path + "?" + query(key, p));
                CHECK_MESSAGE((resp.status == 200 || (resp.status >= 400 && resp.status < 500)), resp.describe());
                if (resp.status != 200) {
                    check_error(resp, resp.status);
                    continue;
                }
                const json::array rows = as_array(resp);
                CHECK(total_count(resp) == static_cast<std::int64_t>(rows.size()));
                for (const auto& row : rows)
                    CHECK_MESSAGE(base_ids.count(json::serialize(row)) == 1,
                                  "a row outside the caller's own listing: " << json::serialize(row));
                if (filters) CHECK_MESSAGE(rows.empty(), "the payload matched rows: " << resp.describe());
            }
        }
        // Payloads as keys are unknown filters: ignored.
        for (const auto& p : sql_payloads) {
            Response resp = c->get(path + "?" + query(p, "1"));
            CHECK_MESSAGE((resp.status == 200 || (resp.status >= 400 && resp.status < 500)), resp.describe());
            if (resp.status == 200)
                for (const auto& row : as_array(resp)) CHECK(base_ids.count(json::serialize(row)) == 1);
        }
        // Sort and paging take a field name and numbers: anything else is a 412.
        CHECK_STATUS(c->get(path + "?sort=-" + keys.front()), 200);
        for (const auto& p : sql_payloads) {
            CAPTURE(p);
            for (const std::string& control : {std::string("sort"), std::string("limit"), std::string("offset")}) {
                Response resp = c->get(path + "?" + query(control, p));
                check_error(resp, 412);
            }
            check_error(c->get(path + "?" + query("sort", keys.front() + " " + p)), 412);
            check_error(c->get(path + "?" + query("sort", keys.front() + "," + p)), 412);
        }
        for (const char* order : {"order", "order_by", "dir", "direction"}) {
            Response resp = c->get(path + "?" + query(order, "DESC; DROP TABLE contact"));
            CHECK_STATUS(resp, 200);
        }
        Response after = c->get(path);
        CHECK_MESSAGE(after.body == body_before, "listing changed: " << path);
    }
    CHECK(list_routes >= 14);
    MESSAGE("filtered listings: " << list_routes << ", filter requests: " << filter_requests);

    // Path parameters take 1-18 digits: traversal and injection never reach a handler.
    const std::vector<std::string> path_payloads{"..",
                                                 "..%2f..%2f..%2fetc%2fpasswd",
                                                 "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
                                                 "%2E%2E%5C%2E%2E%5Cetc%5Cpasswd",
                                                 "..%252f..%252fetc%252fpasswd",
                                                 "../../../../etc/passwd",
                                                 "%2fetc%2fpasswd",
                                                 "/etc/passwd",
                                                 "1%00",
                                                 "%00",
                                                 "1%00.json",
                                                 "1%27%20OR%20%271%27%3D%271",
                                                 "1%3B%20DROP%20TABLE%20contact",
                                                 "1%20OR%201%3D1",
                                                 "-1",
                                                 "0x1",
                                                 "1e3",
                                                 "%2B1",
                                                 "1%20",
                                                 "%EF%BC%91",  // fullwidth digit one
                                                 "1234567890123456789012"};
    int path_requests = 0;
    for (const auto& r : routes) {
        const auto names = param_names(r.pattern);
        for (std::size_t i = 0; i < names.size(); ++i) {
            for (const auto& p : path_payloads) {
                std::vector<std::string> values;
                for (std::size_t j = 0; j < names.size(); ++j) {
                    const auto it = bob.ids.find(names[j]);
                    values.push_back(j == i ? p
                                            : std::to_string(it != bob.ids.end() ? it->second : neutral.at(names[j])));
                }
                const std::string path = fill(r.pattern, values);
                ++path_requests;
                Response resp = call_route(as_bob, r.method, r.pattern, path, bob);
                CAPTURE(r.method);
                CAPTURE(path);
                CHECK_MESSAGE((resp.status >= 400 && resp.status < 500), resp.describe());
                CHECK(resp.body.find("root:") == std::string::npos);
                CHECK(resp.body.find(alice.marker) == std::string::npos);
            }
        }
    }
    MESSAGE("path payload requests: " << path_requests);

    check_same(alice_before, snapshot(as_alice, routes, alice, neutral));
    check_same(bob_before, snapshot(as_bob, routes, bob, neutral));
    CHECK(totals_before == totals(admin, routes));

    // Upload file names: path parts are dropped (or the upload refused); nothing is written
    // outside the data directory and a stored name is safe to put back in a header.
    const std::string canary = "pwnsec" + std::to_string(::getpid());
    const std::vector<std::string> disposition_names{"../../../../" + canary + "-a.pdf",
                                                     "..\\..\\..\\" + canary + "-b.pdf",
                                                     "/tmp/" + canary + "-c.pdf",
                                                     root.path().string() + "/" + canary + "-d.pdf",
                                                     "/etc/passwd",
                                                     "....//....//" + canary + "-e.pdf",
                                                     "%2e%2e%2f%2e%2e%2f" + canary + "-f.pdf",
                                                     "..",
                                                     ".",
                                                     "",
                                                     canary + "\\\"; filename=../../x",
                                                     "\xE2\x80\xA5/\xE2\x80\xA5/" + canary + "-g.pdf"};
    const std::vector<std::string> query_names{"../../../" + canary + "-h.pdf",     "/tmp/" + canary + "-i.pdf",
                                               canary + std::string("-j\0.pdf", 7), std::string("\0", 1),
                                               "..%2f..%2f" + canary + "-k.pdf",    canary + "-l\r\nX-Injected: 1"};
    const std::string fs_before = [&] {
        std::string names;
        for (const auto& e : fs::directory_iterator(root.path())) names += e.path().filename().string() + "\n";
        return names;
    }();
    int uploads = 0;
    for (const std::string kind : {"templates", "recordings", "documents"}) {
        const std::string item =
            "/messages/" + kind + "/" + std::to_string(bob.id(kind.substr(0, kind.size() - 1) + "_id"));
        const std::string media = item + "/media";
        auto [bytes, type] = media_body(media);
        // Documents are converted to fax pages on upload: a few names are enough there.
        const std::size_t n_disposition = kind == "documents" ? 4 : disposition_names.size();
        const std::size_t n_query = kind == "documents" ? 2 : query_names.size();
        std::vector<Response> answers;
        for (std::size_t i = 0; i < n_disposition; ++i)
            answers.push_back(
                as_bob.request("PUT", media, bytes, type,
                               {{"Content-Disposition", "attachment; filename=\"" + disposition_names[i] + "\""}}));
        for (std::size_t i = 0; i < n_query; ++i)
            answers.push_back(as_bob.request("PUT", media + "?name=" + url_encode(query_names[i]), bytes, type));
        for (const auto& resp : answers) {
            ++uploads;
            CAPTURE(kind);
            CHECK_MESSAGE((resp.status == 200 || (resp.status >= 400 && resp.status < 500)), resp.describe());
            if (resp.status != 200) continue;
            Response got = as_bob.get(media);
            REQUIRE_STATUS(got, 200);
            CHECK(got.body.size() > 0);
            const std::string disposition = got.header("Content-Disposition").value_or("");
            CHECK_MESSAGE(disposition.find('/') == std::string::npos, disposition);
            CHECK_MESSAGE(disposition.find('\\') == std::string::npos, disposition);
            CHECK_MESSAGE(disposition.find("..") == std::string::npos, disposition);
            CHECK_MESSAGE(disposition.find('\0') == std::string::npos, disposition);
            CHECK(!got.header("X-Injected"));
            if (kind == "templates") {
                const auto name = opt_str(as_object(as_bob.get(item)), "attachment").value_or("");
                CHECK_MESSAGE(name.find('/') == std::string::npos, name);
                CHECK_MESSAGE(name.find('\\') == std::string::npos, name);
                CHECK_MESSAGE(name.find('\0') == std::string::npos, name);
                CHECK_MESSAGE((name != ".." && name != "."), name);
            }
        }
    }
    MESSAGE("uploads with hostile names: " << uploads);
    // No file named after the canary anywhere but inside the data directory (where files are
    // named by id, so not there either).
    for (const auto& e : fs::recursive_directory_iterator(root.path()))
        CHECK_MESSAGE(e.path().filename().string().find(canary) == std::string::npos, e.path());
    for (const fs::path& dir : {fs::path("/tmp"), fs::current_path(), root.path().parent_path()})
        for (const auto& e : fs::directory_iterator(dir))
            CHECK_MESSAGE(e.path().filename().string().find(canary) == std::string::npos, e.path());
    std::string fs_after;
    for (const auto& e : fs::directory_iterator(root.path())) fs_after += e.path().filename().string() + "\n";
    CHECK(fs_after == fs_before);
    check_same(alice_before, snapshot(as_alice, routes, alice, neutral));
}

// ---- (d) tenant isolation --------------------------------------------------------------------

TEST_CASE("security: every route of the table, called with another tenant's ids, answers 404 (or 403)") {
    ServerProcess server;
    const std::vector<RouteRef> routes = route_table();
    REQUIRE(routes.size() > 60);
    Client admin = admin_client(server);
    const Tenant alice = make_tenant(server, admin, "alice", "AliceQz7Marker", "3001000001");
    const Tenant bob = make_tenant(server, admin, "bob", "BobQz7Marker", "3002000002");
    Client as_alice = client_as(server, alice.name, alice.password);
    Client as_bob = client_as(server, bob.name, bob.password);

    // Ids that belong to no tenant: the `user` role, a permission, a seeded provider.
    std::map<std::string, std::int64_t> neutral{{"provider_id", seeded_sms_provider}};
    neutral["role_id"] = id_by_name(as_array(admin.get("/roles")), "role_id", "user");
    neutral["permission_id"] = id_by_name(as_array(admin.get("/permissions")), "permission_id", "contact_read");
    REQUIRE(neutral["role_id"] > 0);
    REQUIRE(neutral["permission_id"] > 0);
    constexpr std::int64_t missing_id = 987654321;

    const auto alice_before = snapshot(as_alice, routes, alice, neutral);
    const auto bob_before = snapshot(as_bob, routes, bob, neutral);
    const auto totals_before = totals(admin, routes);
    std::map<std::string, std::string> admin_view_before;
    for (const std::string& path :
         {"/users/" + std::to_string(alice.id("user_id")), "/accounts/" + std::to_string(alice.id("account_id")),
          "/accounts/" + std::to_string(alice.id("account_id")) + "/programs",
          "/providers/" + std::to_string(seeded_sms_provider), std::string("/roles")})
        admin_view_before[path] = admin.get(path).body;

    // Whatever bob is answered, alice's rows are not in it.
    auto no_leak = [&](const Response& r) {
        CHECK_MESSAGE(r.body.find(alice.marker) == std::string::npos, "alice's data in " << r.describe());
    };

    std::set<std::string> handled;
    int requests = 0;
    for (const auto& r : routes) {
        const auto names = param_names(r.pattern);
        const std::string route = r.method + " " + r.pattern;
        CAPTURE(route);
        if (names.empty()) continue;
        handled.insert(route);
        std::vector<std::size_t> owned;
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (alice.ids.count(names[i])) {
                owned.push_back(i);
            } else {
                REQUIRE_MESSAGE(neutral.count(names[i]) == 1, "no id for parameter {" << names[i] << "}: " << route);
            }
        }
        if (owned.empty()) {
            // Only ids of no tenant (providers): the route is admin's.
            std::vector<std::string> values;
            for (const auto& name : names) values.push_back(std::to_string(neutral.at(name)));
            Response resp = call_route(as_bob, r.method, r.pattern, fill(r.pattern, values), bob);
            CHECK_MESSAGE((resp.status == 404 || (may_forbid(r) && resp.status == 403)), resp.describe());
            continue;
        }
        // Every mix of alice's and bob's ids but bob's own: bit k set = alice's id at owned[k].
        for (unsigned mask = 1; mask < (1u << owned.size()); ++mask) {
            std::vector<std::string> values(names.size()), missing(names.size());
            for (std::size_t i = 0; i < names.size(); ++i) {
                const std::int64_t own = alice.ids.count(names[i]) ? bob.id(names[i]) : neutral.at(names[i]);
                values[i] = missing[i] = std::to_string(own);
            }
            for (std::size_t k = 0; k < owned.size(); ++k) {
                if (mask & (1u << k)) {
                    values[owned[k]] = std::to_string(alice.id(names[owned[k]]));
                    missing[owned[k]] = std::to_string(missing_id);
                }
            }
            const std::string path = fill(r.pattern, values);
            CAPTURE(path);
            ++requests;
            Response resp = call_route(as_bob, r.method, r.pattern, path, bob);
            const bool ok = resp.status == 404 || (may_forbid(r) && resp.status == 403);
            CHECK_MESSAGE(ok, "bob with alice's ids: " << resp.describe());
            if (resp.status >= 400) check_error(resp, resp.status);
            no_leak(resp);
            // Someone else's row and a row that does not exist get the same answer, so the
            // answer does not tell which ids exist.
            const std::string missing_path = fill(r.pattern, missing);
            Response gone = call_route(as_bob, r.method, r.pattern, missing_path, bob);
            CHECK_MESSAGE(gone.status == resp.status, resp.describe() << "\n vs " << gone.describe());
            CHECK_MESSAGE(without_digits(error_message(gone)) == without_digits(error_message(resp)),
                          resp.describe() << "\n vs " << gone.describe());
        }
        // Control: alice herself reads the same rows, so bob's 404 is about ownership.
        if (r.method == "GET" && !get_writes(r) && !may_forbid(r)) {
            std::vector<std::string> values;
            for (std::size_t i = 0; i < names.size(); ++i)
                values.push_back(std::to_string(alice.ids.count(names[i]) ? alice.id(names[i]) : neutral.at(names[i])));
            Response own = as_alice.get(fill(r.pattern, values));
            CHECK_MESSAGE(own.status == 200, "alice reading her own row: " << own.describe());
        }
    }

    // Routes without ids. Listings: none of alice's rows, whatever the filter.
    const std::set<std::string> not_lists{"/statistics",        "/roles",           "/permissions",
                                          "/groups/sample/csv", "/gateways/kannel", "/gateways/kannel/report",
                                          "/gateways/kannel/mo"};
    for (const auto& r : routes) {
        if (r.method != "GET" || !param_names(r.pattern).empty() || not_lists.count(r.pattern)) continue;
        const std::string route = r.method + " " + r.pattern;
        CAPTURE(route);
        handled.insert(route);
        Response resp = as_bob.get(r.pattern);
        ++requests;
        CHECK_MESSAGE((resp.status == 200 || (may_forbid(r) && resp.status == 403)), resp.describe());
        no_leak(resp);
        if (resp.status != 200) continue;
        REQUIRE_MESSAGE(resp.header("X-Total-Count"), "a listing without X-Total-Count: " << resp.describe());
        // No row of bob's names one of alice's, listed plainly or filtered by that id (a filter
        // the listing does not know is ignored, so it may list bob's rows, never hers).
        auto check_rows = [&](const Response& listing) {
            for (const auto& row : as_array(listing)) {
                const json::object& o = row.as_object();
                for (const auto& [key, id] : alice.ids)
                    if (const auto* v = o.if_contains(key))
                        CHECK_MESSAGE(*v != json::value(id), "alice's " << key << " in " << listing.describe());
                if (const auto* v = o.if_contains("created_by"))
                    CHECK_MESSAGE(*v != json::value(alice.id("user_id")), listing.describe());
            }
        };
        check_rows(resp);
        std::vector<std::pair<std::string, std::int64_t>> filters(alice.ids.begin(), alice.ids.end());
        filters.emplace_back("created_by", alice.id("user_id"));
        for (const auto& [key, id] : filters) {
            Response filtered = as_bob.get(r.pattern + "?" + key + "=" + std::to_string(id));
            ++requests;
            CHECK_MESSAGE((filtered.status == 200 || filtered.status == 412), filtered.describe());
            no_leak(filtered);
            if (filtered.status == 200) check_rows(filtered);
        }
    }
    {
        handled.insert("GET /statistics");
        Response s = as_bob.get("/statistics");
        REQUIRE_STATUS(s, 200);
        const json::object o = as_object(s);
        CHECK(int_field(o, "contact_total") == 1);
        CHECK(int_field(o, "group_total") == 1);
        CHECK(int_field(o, "campaign_total") == 1);
        CHECK(int_field(o, "transmission_total") == 1);
        for (const char* path : {"/roles", "/permissions", "/groups/sample/csv", "/gateways/kannel"}) {
            handled.insert(std::string("GET ") + path);
            Response resp = as_bob.get(path);
            CHECK_MESSAGE((resp.status == 200 || resp.status == 403), resp.describe());
            no_leak(resp);
        }
        // The far-end routes take no user credentials: a report for alice's spool needs its token.
        handled.insert("GET /gateways/kannel/report");
        check_error(as_bob.get("/gateways/kannel/report?spool=" + std::to_string(alice.id("spool_id")) +
                               "&token=00000000000000000000000000000000&type=2"),
                    401);
        handled.insert("GET /gateways/kannel/mo");
        check_error(as_bob.get("/gateways/kannel/mo?key=guess&from=3001000001&to=3002000002&text=hi"), 401);
    }

    // Creating rows that point at alice's: refused as not found (404, or 412 for a reference in
    // the body), or 403 where bob may not create at all.
    const auto a = [&](const char* k) { return alice.id(k); };
    const auto b = [&](const char* k) { return bob.id(k); };
    using O = json::object;
    const std::map<std::string, std::vector<O>> creates{
        {"/transmissions",
         {O{{"contact_id", a("contact_id")}, {"program_id", b("program_id")}},
          O{{"contact_id", b("contact_id")}, {"program_id", a("program_id")}},
          O{{"contact_id", b("contact_id")}, {"program_id", b("program_id")}, {"account_id", a("account_id")}}}},
        {"/campaigns",
         {O{{"program_id", a("program_id")}, {"group_id", b("group_id")}},
          O{{"program_id", b("program_id")}, {"group_id", a("group_id")}},
          O{{"program_id", b("program_id")}, {"group_id", b("group_id")}, {"account_id", a("account_id")}}}},
        {"/programs/sendsms",
         {O{{"name", "x"}, {"text_id", a("text_id")}},
          O{{"name", "x"}, {"text_id", b("text_id")}, {"parent_id", a("program_id")}},
          O{{"name", "x"}, {"text_id", b("text_id")}, {"account_id", a("account_id")}}}},
        {"/programs/sendemail", {O{{"name", "x"}, {"template_id", a("template_id")}}}},
        {"/programs/sendfax", {O{{"name", "x"}, {"document_id", a("document_id")}}}},
        {"/programs/voicemessage", {O{{"name", "x"}, {"recording_id", a("recording_id")}}}},
        {"/programs/receivesms", {O{{"name", "x"}, {"account_id", a("account_id")}}}},
        {"/programs/receiveemail", {O{{"name", "x"}, {"account_id", a("account_id")}}}},
        {"/programs/receivefax", {O{{"name", "x"}, {"account_id", a("account_id")}}}},
        {"/programs/emailtofax", {O{{"name", "x"}, {"account_id", a("account_id")}}}},
        {"/programs/faxtoemail",
         {O{{"name", "x"}, {"account_id", a("account_id")}},
          O{{"name", "x"}, {"account_id", b("account_id")}, {"template_id", a("template_id")}}}},
        {"/accounts", {O{{"username", "hijack-line"}, {"user_id", a("user_id")}}}},
        {"/users", {O{{"username", "mallory"}, {"passwd", "mallory-pass-1"}, {"active", 1}}}},
        {"/providers", {O{{"name", "p"}, {"type", "loopback"}, {"service_flag", 4}, {"active", 1}}}},
        // No field of these names another row: nothing to point at alice.
        {"/contacts", {}},
        {"/groups", {}},
        {"/messages/texts", {}},
        {"/messages/templates", {}},
        {"/messages/documents", {}},
        {"/messages/recordings", {}},
    };
    for (const auto& r : routes) {
        if (r.method != "POST" || !param_names(r.pattern).empty()) continue;
        const std::string route = r.method + " " + r.pattern;
        CAPTURE(route);
        if (r.pattern == "/authentication" || r.pattern == "/authenticate") {
            handled.insert(route);
            Client anon = server.client();
            check_error(anon.post(r.pattern, json::object{{"username", alice.name}, {"password", bob.password}}), 401);
            continue;
        }
        const auto it = creates.find(r.pattern);
        if (it == creates.end()) continue;  // reported below as unhandled
        handled.insert(route);
        for (const auto& body : it->second) {
            CAPTURE(json::serialize(body));
            Response resp = as_bob.post(r.pattern, body);
            ++requests;
            CHECK_MESSAGE((resp.status == 404 || resp.status == 412 || (may_forbid(r) && resp.status == 403)),
                          resp.describe());
            if (resp.status >= 400) check_error(resp, resp.status);
            no_leak(resp);
        }
    }
    // Pointing bob's own campaign at alice's program, group or account.
    {
        const std::string own = "/campaigns/" + std::to_string(b("campaign_id"));
        const std::string before = as_bob.get(own).body;
        for (const char* key : {"program_id", "group_id", "account_id"}) {
            Response resp = as_bob.put(own, json::object{{key, alice.id(key)}});
            CHECK_MESSAGE((resp.status == 404 || resp.status == 412), resp.describe());
            no_leak(resp);
        }
        CHECK(as_bob.get(own).body == before);
    }

    // Every route of the table was walked.
    for (const auto& r : routes)
        CHECK_MESSAGE(handled.count(r.method + " " + r.pattern) == 1,
                      "route not covered by the isolation walk: " << r.method << " " << r.pattern);
    MESSAGE("routes in the table: " << routes.size() << ", requests as bob: " << requests);

    // Nothing of alice's changed, nothing was created, and she still logs in with her password.
    check_same(alice_before, snapshot(as_alice, routes, alice, neutral));
    check_same(bob_before, snapshot(as_bob, routes, bob, neutral));
    CHECK(totals_before == totals(admin, routes));
    for (const auto& [path, body] : admin_view_before) CHECK_MESSAGE(admin.get(path).body == body, path);
    CHECK(!login(server, alice.name, alice.password).empty());
}

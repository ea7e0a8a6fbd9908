// Authentication: POST /authentication and /authenticate, bearer tokens in either header,
// HTTP Basic, and the 401 answers for missing or wrong credentials.
#include "helpers.hpp"

#include <thread>

TEST_CASE("auth: login issues a token accepted by both header names and Basic") {
    ServerProcess server;
    Client anon = server.client();
    const std::string pw = server.admin_password();

    // "password" key, /authentication
    Response r = anon.post("/authentication", json::object{{"username", "admin"}, {"password", pw}});
    REQUIRE_STATUS(r, 200);
    CHECK(r.header("Content-Type").value_or("").find("application/json") != std::string::npos);
    std::string token = str_field(as_object(r), "token");
    CHECK(token.size() > 10);

    // The guide's misspelt "passowrd" key.
    r = anon.post("/authentication", json::object{{"username", "admin"}, {"passowrd", pw}});
    CHECK_STATUS(r, 200);
    CHECK(!str_field(as_object(r), "token").empty());

    // The reference implementation's path.
    r = anon.post("/authenticate", json::object{{"username", "admin"}, {"password", pw}});
    CHECK_STATUS(r, 200);
    std::string token2 = str_field(as_object(r), "token");
    CHECK(!token2.empty());
    r = anon.post("/authenticate", json::object{{"username", "admin"}, {"passowrd", pw}});
    CHECK_STATUS(r, 200);

    // Authorization: Bearer
    Client c = server.client();
    c.set_bearer(token);
    r = c.get("/statistics");
    CHECK_STATUS(r, 200);
    c.set_bearer(token2);
    CHECK_STATUS(c.get("/statistics"), 200);

    // Authentication: Bearer (the header name the guide writes)
    c.set_auth_header("Authentication", "Bearer " + token);
    CHECK_STATUS(c.get("/statistics"), 200);
    CHECK_STATUS(c.get("/contacts"), 200);

    // Scheme name is case-insensitive (RFC 7235).
    c.set_auth_header("Authorization", "bearer " + token);
    CHECK_STATUS(c.get("/statistics"), 200);

    // HTTP Basic
    c.set_basic("admin", pw);
    CHECK_STATUS(c.get("/statistics"), 200);
    CHECK_STATUS(c.get("/contacts"), 200);
}

TEST_CASE("auth: missing or wrong credentials give 401 with an error body") {
    ServerProcess server;
    Client anon = server.client();
    const std::string pw = server.admin_password();

    // Login failures.
    check_error(anon.post("/authentication", json::object{{"username", "admin"}, {"password", pw + "x"}}), 401);
    check_error(anon.post("/authentication", json::object{{"username", "admin"}, {"passowrd", "wrong"}}), 401);
    check_error(anon.post("/authentication", json::object{{"username", "nobody"}, {"password", pw}}), 401);
    check_error(anon.post("/authenticate", json::object{{"username", "admin"}, {"password", ""}}), 401);
    // No prefix or substring matching of the username.
    check_error(anon.post("/authentication", json::object{{"username", "admi"}, {"password", pw}}), 401);
    check_error(anon.post("/authentication", json::object{{"username", "admin "}, {"password", pw}}), 401);
    {
        // No password at all: either "missing credentials" (401) or a validation error (412).
        Response r = anon.post("/authentication", json::object{{"username", "admin"}});
        CHECK_MESSAGE((r.status == 401 || r.status == 412), r.describe());
        CHECK(r.body.find("token") == std::string::npos);
    }
    {
        // Malformed JSON is a validation failure.
        Response r = anon.post_raw("/authentication", "{\"username\": \"admin\", \"password\": ");
        check_error(r, 412);
    }

    // Protected routes without or with bad credentials.
    for (const char* target : {"/statistics", "/contacts", "/groups", "/users", "/roles", "/permissions",
                               "/groups/sample/csv", "/contacts/1", "/users/1"}) {
        CAPTURE(target);
        check_error(anon.get(target), 401);
    }
    check_error(anon.post("/contacts", json::object{{"first_name", "x"}, {"phone", "3001234567"}}), 401);
    check_error(anon.post("/groups", json::object{{"name", "x"}}), 401);
    check_error(anon.post("/users", json::object{{"username", "eve"}, {"passwd", "eve-pass"}}), 401);

    std::string token = login(server, "admin", pw);
    Client c = server.client();
    c.set_auth_header("Authorization", "Bearer ");
    check_error(c.get("/statistics"), 401);
    c.set_bearer("not-a-token");
    check_error(c.get("/statistics"), 401);
    c.set_bearer("aaaa.bbbb.cccc");
    check_error(c.get("/statistics"), 401);
    // Tampered signature.
    std::string tampered = token;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    c.set_bearer(tampered);
    check_error(c.get("/statistics"), 401);
    // Tampered payload (the middle JWT segment), signature kept.
    auto dot1 = token.find('.');
    auto dot2 = token.find('.', dot1 + 1);
    if (dot1 != std::string::npos && dot2 != std::string::npos && dot2 > dot1 + 2) {
        std::string t = token;
        char& ch = t[dot1 + 2];
        ch = ch == 'x' ? 'y' : 'x';
        c.set_bearer(t);
        check_error(c.get("/statistics"), 401);
    }
    // An unsigned token ("alg":"none") claiming to be user 1.
    c.set_bearer("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwidXNlcl9pZCI6MSwiZXhwIjo0MTAyNDQ0ODAwfQ.");
    check_error(c.get("/statistics"), 401);
    // Unknown scheme.
    c.set_auth_header("Authorization", "Token " + token);
    check_error(c.get("/statistics"), 401);
    // Basic with a wrong password, an unknown user, no colon, bad base64.
    c.set_basic("admin", pw + "!");
    check_error(c.get("/statistics"), 401);
    c.set_basic("ghost", pw);
    check_error(c.get("/statistics"), 401);
    c.set_auth_header("Authorization", "Basic YWRtaW4=");  // "admin"
    check_error(c.get("/statistics"), 401);
    c.set_auth_header("Authorization", "Basic !!!not-base64!!!");
    check_error(c.get("/statistics"), 401);
    // The token must not work as a Basic password.
    c.set_basic("admin", token);
    check_error(c.get("/statistics"), 401);

    // A wrong Authorization header does not break the connection for the next request.
    Client ka = server.client(true);
    ka.set_bearer("bogus");
    check_error(ka.get("/contacts"), 401);
    ka.set_bearer(token);
    CHECK_STATUS(ka.get("/contacts"), 200);
}

TEST_CASE("auth: tokens expire after --token-lifetime") {
    ServerProcess server(with_args({"--token-lifetime", "1"}));
    std::string token = login(server, "admin", server.admin_password());
    Client c = server.client();
    c.set_bearer(token);
    CHECK_STATUS(c.get("/statistics"), 200);
    std::this_thread::sleep_for(2500ms);
    check_error(c.get("/statistics"), 401);
    // A new login works again, and Basic is unaffected by token lifetime.
    c.set_bearer(login(server, "admin", server.admin_password()));
    CHECK_STATUS(c.get("/statistics"), 200);
    c.set_basic("admin", server.admin_password());
    CHECK_STATUS(c.get("/statistics"), 200);
}

TEST_CASE("auth: a token from one server instance is not accepted by another") {
    // Each data directory must have its own signing secret.
    ServerProcess a;
    ServerProcess b;
    std::string token_a = login(a, "admin", a.admin_password());
    Client cb = b.client();
    cb.set_bearer(token_a);
    check_error(cb.get("/statistics"), 401);
}

TEST_CASE("auth: repeated failed logins for one username are slowed with 429 and Retry-After") {
    ServerProcess server;
    Client anon = server.client();
    Client admin_session = admin_client(server);
    create_user(admin_session, "carol", "carol-password");
    for (int i = 0; i < 5; ++i) {
        check_error(anon.post("/authentication", json::object{{"username", "carol"}, {"password", "guess"}}), 401);
    }
    // Now even the right password must wait: a guesser learns nothing by trying faster.
    Response r = anon.post("/authentication", json::object{{"username", "carol"}, {"password", "carol-password"}});
    check_error(r, 429);
    REQUIRE(r.header("Retry-After"));
    const int wait = std::stoi(*r.header("Retry-After"));
    CHECK(wait >= 1);
    CHECK(wait <= 2);
    // Basic credentials count against the same username.
    Client basic = server.client();
    basic.set_basic("carol", "carol-password");
    check_error(basic.get("/contacts"), 429);
    // Other users are not held up.
    Response admin =
        anon.post("/authentication", json::object{{"username", "admin"}, {"password", server.admin_password()}});
    REQUIRE_STATUS(admin, 200);

    std::this_thread::sleep_for(std::chrono::seconds(wait));
    r = anon.post("/authentication", json::object{{"username", "carol"}, {"password", "carol-password"}});
    REQUIRE_STATUS(r, 200);
    // The success starts her count again.
    check_error(anon.post("/authentication", json::object{{"username", "carol"}, {"password", "guess"}}), 401);
}

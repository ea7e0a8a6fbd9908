// Messages over HTTP: SMS texts (derived encoding, length and parts) and e-mail templates.
#include "helpers.hpp"

TEST_CASE("texts: create, derived fields, update, list, delete") {
    ServerProcess server;
    Client admin = admin_client(server);

    Response r = admin.post("/messages/texts", json::object{{"name", "promo"}, {"data", "Sale: 50% off {today}"}});
    const std::int64_t id = created_id(r, "text_id");
    const std::string path = "/messages/texts/" + std::to_string(id);
    json::object t = as_object(admin.get(path));
    CHECK(int_field(t, "text_id") == id);
    CHECK(str_field(t, "data") == "Sale: 50% off {today}");
    CHECK(str_field(t, "encoding") == "gsm7");
    CHECK(int_field(t, "length") == 21);
    CHECK(int_field(t, "parts") == 1);

    // Derived fields follow the data and ignore what the client sends for them.
    r = admin.put(path,
                  json::object{{"data", "Привет, мир! Как дела у вас сегодня? Надеюсь, что всё хорошо и спокойно."},
                               {"parts", 9}});
    REQUIRE_STATUS(r, 200);
    t = as_object(r);
    CHECK(str_field(t, "encoding") == "ucs2");
    CHECK(int_field(t, "length") == 72);
    CHECK(int_field(t, "parts") == 2);
    CHECK(str_field(t, "name") == "promo");

    r = admin.post("/messages/texts", json::object{{"name", "other"}, {"data", "hi"}, {"type", "plain"}});
    created_id(r, "text_id");
    r = admin.get("/messages/texts?name=prom");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 1);
    CHECK(ids_of(as_array(r), "text_id") == std::vector<std::int64_t>{id});
    r = admin.get("/messages/texts?encoding=gsm");
    CHECK(total_count(r) == 1);

    CHECK(contains_ci(check_error(admin.post("/messages/texts", json::object{{"name", "x"}}), 412), "data"));
    CHECK(contains_ci(check_error(admin.post("/messages/texts", json::object{{"data", "x"}}), 412), "name"));
    CHECK(contains_ci(check_error(admin.put(path, json::object{{"type", "morse"}}), 412), "type"));
    check_error(admin.put(path, json::object{{"data", 5}}), 412);
    CHECK(str_field(as_object(admin.get(path)), "encoding") == "ucs2");  // unchanged by the refusals

    REQUIRE(is_true(admin.del(path)));
    check_error(admin.get(path), 404);
    check_error(admin.get("/messages/texts/abc"), 404);
}

TEST_CASE("templates: CRUD and ownership") {
    ServerProcess server;
    Client admin = admin_client(server);
    create_user(admin, "bob", "bob-password");
    create_user(admin, "eve", "eve-password");
    Client bob = client_as(server, "bob", "bob-password");
    Client eve = client_as(server, "eve", "eve-password");

    Response r = bob.post("/messages/templates", json::object{{"name", "welcome"},
                                                              {"subject", "Hi [contact:first_name]"},
                                                              {"body", "<p>Welcome, [contact:first_name]</p>"},
                                                              {"body_alt", "Welcome"},
                                                              {"type", "pdf"}});
    const std::int64_t id = created_id(r, "template_id");
    const std::string path = "/messages/templates/" + std::to_string(id);
    json::object t = as_object(bob.get(path));
    CHECK(str_field(t, "subject") == "Hi [contact:first_name]");
    CHECK(str_field(t, "body_alt") == "Welcome");
    CHECK_FALSE(opt_str(t, "type"));  // set by an attachment upload, not by the client

    check_error(eve.get(path), 404);
    check_error(eve.put(path, json::object{{"name", "mine"}}), 404);
    check_error(eve.del(path), 404);
    CHECK(total_count(eve.get("/messages/templates")) == 0);
    CHECK(total_count(admin.get("/messages/templates")) == 1);

    CHECK(contains_ci(check_error(bob.post("/messages/templates", json::object{{"name", "x"}, {"body", "b"}}), 412),
                      "subject"));
    r = bob.put(path, json::object{{"body", "<p>Changed</p>"}});
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "body") == "<p>Changed</p>");
    CHECK(str_field(as_object(r), "name") == "welcome");
    REQUIRE(is_true(bob.del(path)));
    check_error(bob.get(path), 404);
}

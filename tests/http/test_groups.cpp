// Groups: CRUD, validation, list filters, the group's contacts, and the sample CSV.
#include "helpers.hpp"

TEST_CASE("groups: create, read, list, update, delete") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t admin_id = user_id_of(admin, "admin");

    // The guide's example body carries "id": it is ignored, the store assigns the id.
    Response r = admin.post("/groups", json::object{{"id", 77}, {"name", "Customers"}, {"description", "Paying ones"}});
    std::int64_t g1 = created_id(r, "group_id");
    const std::string path = "/groups/" + std::to_string(g1);

    r = admin.get(path);
    REQUIRE_STATUS(r, 200);
    json::object g = as_object(r);
    CHECK(int_field(g, "group_id") == g1);
    CHECK(str_field(g, "name") == "Customers");
    CHECK(str_field(g, "description") == "Paying ones");
    CHECK(int_field(g, "contact_total") == 0);
    CHECK(int_field(g, "created_by") == admin_id);

    std::int64_t g2 = create_group(admin, "Prospects");
    std::int64_t g3 = create_group(admin, "Customers archive", "old");
    CHECK(g2 != g1);
    CHECK(g3 != g2);

    r = admin.get("/groups");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 3);
    CHECK(ids_of(as_array(r), "group_id") == std::vector<std::int64_t>{g1, g2, g3});
    r = admin.get("/groups?name=CUSTOMER");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 2);
    CHECK(ids_of(as_array(r), "group_id") == std::vector<std::int64_t>{g1, g3});
    r = admin.get("/groups?sort=-name&limit=2");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 3);
    CHECK(strings_of(as_array(r), "name") == std::vector<std::string>{"Prospects", "Customers archive"});
    r = admin.get("/groups?group_id=" + std::to_string(g2));
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "group_id") == std::vector<std::int64_t>{g2});
    r = admin.get("/groups?description=pay");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "group_id") == std::vector<std::int64_t>{g1});

    // Partial update; contact_total is computed and cannot be written.
    r = admin.put(path, json::object{{"description", "Paying customers"}, {"contact_total", 50}});
    REQUIRE_STATUS(r, 200);
    g = as_object(r);
    CHECK(int_field(g, "group_id") == g1);
    CHECK(str_field(g, "name") == "Customers");
    CHECK(str_field(g, "description") == "Paying customers");
    CHECK(int_field(g, "contact_total") == 0);
    r = admin.put(path, json::object{{"name", "Clients"}});
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "name") == "Clients");
    CHECK(str_field(as_object(r), "description") == "Paying customers");
    CHECK(str_field(as_object(admin.get(path)), "name") == "Clients");

    // Delete and GET …/delete.
    r = admin.del(path);
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(path), 404);
    check_error(admin.del(path), 404);
    check_error(admin.get(path + "/contacts"), 404);
    r = admin.get("/groups/" + std::to_string(g2) + "/delete");
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get("/groups/" + std::to_string(g2)), 404);
    r = admin.get("/groups");
    CHECK(total_count(r) == 1);
    CHECK(ids_of(as_array(r), "group_id") == std::vector<std::int64_t>{g3});
}

TEST_CASE("groups: validation, unknown and non-numeric ids") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t g = create_group(admin, "valid");
    const std::string path = "/groups/" + std::to_string(g);

    std::string msg = check_error(admin.post("/groups", json::object{{"description", "no name"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "name"), msg);
    check_error(admin.post("/groups", json::object{{"name", ""}}), 412);
    check_error(admin.post("/groups", json::object{{"name", nullptr}}), 412);
    msg = check_error(admin.post("/groups", json::object{{"name", 5}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "name"), msg);
    check_error(admin.post("/groups", json::object{{"name", "x"}, {"description", json::object{}}}), 412);
    check_error(admin.post("/groups", json::object{{"name", "x"}, {"description", std::string(1025, 'd')}}), 412);
    check_error(admin.post("/groups", json::object{{"name", std::string(256, 'n')}}), 412);
    check_error(admin.post_raw("/groups", "{\"name\": \"unterminated}"), 412);
    check_error(admin.post_raw("/groups", "\"just a string\""), 412);
    check_error(admin.post_raw("/groups", ""), 412);
    {
        Response r = admin.get("/groups");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == 1);
    }
    check_error(admin.put(path, json::object{{"name", ""}}), 412);
    check_error(admin.put(path, json::object{{"name", 1}}), 412);
    check_error(admin.put_raw(path, "{"), 412);
    CHECK(str_field(as_object(admin.get(path)), "name") == "valid");

    for (const std::string& target :
         std::vector<std::string>{"/groups/999999", "/groups/0", "/groups/abc", "/groups/" + std::to_string(g) + "z",
                                  "/groups/-3", "/groups/99999999999999999999999"}) {
        CAPTURE(target);
        check_error(admin.get(target), 404);
        check_error(admin.put(target, json::object{{"name", "x"}}), 404);
        check_error(admin.del(target), 404);
        check_error(admin.get(target + "/contacts"), 404);
        check_error(admin.get(target + "/csv"), 404);
        check_error(admin.post_raw(target + "/csv", "3001234567\n", "text/csv"), 404);
    }
    check_error(admin.get("/groups/sample"), 404);
    check_error(admin.post("/groups/" + std::to_string(g), json::object{{"name", "x"}}), 404);
}

TEST_CASE("groups: a group's contacts with filters") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t g = create_group(admin, "members");
    std::int64_t other = create_group(admin, "others");
    std::vector<std::int64_t> in;
    const std::vector<std::pair<std::string, std::string>> people = {
        {"Anna", "3002220001"}, {"Hanna", "3002220002"}, {"Bert", "3002220003"}, {"Anita", "4002220001"}};
    for (const auto& [name, phone] : people) {
        std::int64_t id = create_contact(admin, name, phone);
        CHECK_STATUS(admin.put("/contacts/" + std::to_string(id) + "/link/" + std::to_string(g)), 200);
        in.push_back(id);
    }
    std::int64_t outsider = create_contact(admin, "Annabel", "3002220009");  // matches filters, not a member
    std::int64_t elsewhere = create_contact(admin, "Annika", "3002220001");
    CHECK_STATUS(admin.put("/contacts/" + std::to_string(elsewhere) + "/link/" + std::to_string(other)), 200);
    const std::string base = "/groups/" + std::to_string(g) + "/contacts";

    Response r = admin.get(base);
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 4);
    CHECK(ids_of(as_array(r), "contact_id") == in);
    CHECK(!has_id(as_array(r), "contact_id", outsider));
    // Each element is a full contact.
    json::object first = as_array(r)[0].as_object();
    CHECK(str_field(first, "first_name") == "Anna");
    CHECK(str_field(first, "phone") == "3002220001");

    r = admin.get(base + "?first_name=ann");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 2);
    CHECK(strings_of(as_array(r), "first_name") == std::vector<std::string>{"Anna", "Hanna"});
    r = admin.get(base + "?phone=2220001");
    REQUIRE_STATUS(r, 200);
    CHECK(strings_of(as_array(r), "first_name") == std::vector<std::string>{"Anna", "Anita"});
    r = admin.get(base + "?sort=-first_name&limit=2&offset=1");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 4);
    CHECK(strings_of(as_array(r), "first_name") == std::vector<std::string>{"Bert", "Anna"});
    r = admin.get(base + "?contact_id=" + std::to_string(outsider));
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    CHECK(total_count(r) == 0);

    CHECK(int_field(as_object(admin.get("/groups/" + std::to_string(g))), "contact_total") == 4);
    CHECK(int_field(as_object(admin.get("/groups/" + std::to_string(other))), "contact_total") == 1);
    r = admin.get("/groups/" + std::to_string(other) + "/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>{elsewhere});
    // The group's contact_total shows in the list too.
    r = admin.get("/groups?name=members");
    REQUIRE_STATUS(r, 200);
    REQUIRE(as_array(r).size() == 1);
    CHECK(int_field(as_array(r)[0].as_object(), "contact_total") == 4);
}

TEST_CASE("groups: sample CSV has a header row and imports cleanly") {
    ServerProcess server;
    Client admin = admin_client(server);

    Response r = admin.get("/groups/sample/csv");
    REQUIRE_STATUS(r, 200);
    CHECK_MESSAGE(r.header("Content-Type").value_or("").rfind("text/csv", 0) == 0, r.describe());
    auto rows = parse_csv(r.body);
    REQUIRE_MESSAGE(rows.size() >= 2, "header plus at least one example row: " << r.describe());
    CHECK(rows[0] == csv_columns());
    for (std::size_t i = 1; i < rows.size(); ++i) {
        CAPTURE(i);
        CHECK(rows[i].size() == csv_columns().size());
    }

    std::int64_t g = create_group(admin, "from sample");
    r = admin.post_raw("/groups/" + std::to_string(g) + "/csv", r.body, "text/csv");
    REQUIRE_STATUS(r, 200);
    json::object report = as_object(r);
    CHECK(int_field(report, "imported") == static_cast<std::int64_t>(rows.size() - 1));
    CHECK(int_field(report, "rejected") == 0);
    CHECK(int_field(as_object(admin.get("/groups/" + std::to_string(g))), "contact_total") ==
          static_cast<std::int64_t>(rows.size() - 1));
    // Its example rows come back as contacts with the sample's fields.
    r = admin.get("/groups/" + std::to_string(g) + "/contacts");
    REQUIRE_STATUS(r, 200);
    json::array contacts = as_array(r);
    REQUIRE(contacts.size() == rows.size() - 1);
    for (std::size_t i = 0; i < contacts.size(); ++i) {
        const json::object& c = contacts[i].as_object();
        CHECK(phone_digits(str_field(c, "phone")) == phone_digits(rows[i + 1][0]));
        CHECK(str_field(c, "first_name") == rows[i + 1][1]);
    }
}

// Ownership: a non-admin user sees and changes only its own contacts and groups (another
// user's id is 404, absent from lists and counts); admin sees everything.
#include "helpers.hpp"

TEST_CASE("ownership: users see only their own contacts and groups; admin sees all") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t alice_id = create_user(admin, "alice", "alice-pass-1");
    std::int64_t bob_id = create_user(admin, "bob", "bob-pass-1");
    Client alice = client_as(server, "alice", "alice-pass-1");
    Client bob = client_as(server, "bob", "bob-pass-1");

    std::int64_t a1 = create_contact(alice, json::object{{"first_name", "Ann"}, {"phone", "3001000001"}});
    std::int64_t a2 = create_contact(alice, json::object{{"first_name", "Andy"}, {"phone", "3001000002"}});
    std::int64_t ga = create_group(alice, "alice group");
    CHECK_STATUS(alice.put("/contacts/" + std::to_string(a1) + "/link/" + std::to_string(ga)), 200);
    std::int64_t b1 = create_contact(bob, json::object{{"first_name", "Ben"}, {"phone", "3002000001"}});
    std::int64_t gb = create_group(bob, "bob group");
    CHECK_STATUS(bob.put("/contacts/" + std::to_string(b1) + "/link/" + std::to_string(gb)), 200);
    std::int64_t z1 = create_contact(admin, json::object{{"first_name", "Zed"}, {"phone", "3009000001"}});

    const std::string A1 = "/contacts/" + std::to_string(a1), B1 = "/contacts/" + std::to_string(b1);
    const std::string GA = "/groups/" + std::to_string(ga), GB = "/groups/" + std::to_string(gb);

    // Owner recorded.
    CHECK(int_field(as_object(alice.get(A1)), "created_by") == alice_id);
    CHECK(int_field(as_object(bob.get(B1)), "created_by") == bob_id);
    CHECK(int_field(as_object(alice.get(GA)), "created_by") == alice_id);

    // Lists show only own rows, with matching X-Total-Count.
    Response r = alice.get("/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 2);
    CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>{a1, a2});
    r = bob.get("/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 1);
    CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>{b1});
    r = alice.get("/groups");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "group_id") == std::vector<std::int64_t>{ga});
    CHECK(total_count(r) == 1);
    // Filters do not leak other users' rows.
    r = alice.get("/contacts?phone=2000001");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    CHECK(total_count(r) == 0);
    r = alice.get("/contacts?contact_id=" + std::to_string(b1));
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    r = alice.get("/groups?name=bob");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());

    // Another user's contact: 404 for every route, and nothing changes.
    check_error(alice.get(B1), 404);
    check_error(alice.put(B1, json::object{{"first_name", "Hijacked"}}), 404);
    check_error(alice.del(B1), 404);
    check_error(alice.get(B1 + "/delete"), 404);
    check_error(alice.put(B1 + "/link/" + std::to_string(ga)), 404);
    check_error(alice.del(B1 + "/link/" + std::to_string(gb)), 404);
    // Own contact into another user's group, and the reverse.
    check_error(alice.put(A1 + "/link/" + std::to_string(gb)), 404);
    check_error(alice.del(A1 + "/link/" + std::to_string(gb)), 404);
    // Another user's group.
    check_error(alice.get(GB), 404);
    check_error(alice.put(GB, json::object{{"name", "Hijacked"}}), 404);
    check_error(alice.del(GB), 404);
    check_error(alice.get(GB + "/delete"), 404);
    check_error(alice.get(GB + "/contacts"), 404);
    check_error(alice.get(GB + "/csv"), 404);
    check_error(alice.post_raw(GB + "/csv", "3005550001,Injected\n", "text/csv"), 404);

    r = bob.get(B1);
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "first_name") == "Ben");
    r = bob.get(GB);
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "name") == "bob group");
    CHECK(int_field(as_object(r), "contact_total") == 1);
    r = bob.get(GB + "/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>{b1});
    CHECK(int_field(as_object(alice.get(GA)), "contact_total") == 1);

    // Statistics count only own rows; admin counts everything.
    auto stats = [](Client& c) {
        Response s = c.get("/statistics");
        REQUIRE_STATUS(s, 200);
        return as_object(s);
    };
    json::object sa = stats(alice), sb = stats(bob), sz = stats(admin);
    CHECK(int_field(sa, "contact_total") == 2);
    CHECK(int_field(sa, "group_total") == 1);
    CHECK(int_field(sb, "contact_total") == 1);
    CHECK(int_field(sb, "group_total") == 1);
    CHECK(int_field(sz, "contact_total") == 4);
    CHECK(int_field(sz, "group_total") == 2);

    // Admin sees and changes everyone's rows; the owner stays the same.
    r = admin.get("/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 4);
    CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>{a1, a2, b1, z1});
    r = admin.get("/groups");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 2);
    r = admin.get(B1);
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "created_by") == bob_id);
    r = admin.put(B1, json::object{{"last_name", "By Admin"}});
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "created_by") == bob_id);
    CHECK(str_field(as_object(bob.get(B1)), "last_name") == "By Admin");
    r = admin.get(GA + "/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>{a1});
    r = admin.get(GB + "/csv");
    REQUIRE_STATUS(r, 200);
    CHECK(parse_csv(r.body).size() == 1);

    // Users don't see admin's rows either.
    check_error(alice.get("/contacts/" + std::to_string(z1)), 404);

    // A CSV import belongs to the importing user.
    Response imp = alice.post_raw(GA + "/csv", "3001000003,Imported\n", "text/csv");
    REQUIRE_STATUS(imp, 200);
    CHECK(int_field(as_object(imp), "imported") == 1);
    r = alice.get("/contacts?first_name=Imported");
    REQUIRE_STATUS(r, 200);
    REQUIRE(as_array(r).size() == 1);
    CHECK(int_field(as_array(r)[0].as_object(), "created_by") == alice_id);
    r = bob.get("/contacts?first_name=Imported");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());

    // Deleting own rows works; the other user's rows are untouched.
    r = alice.del(A1);
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    r = alice.del(GA);
    CHECK_STATUS(r, 200);
    CHECK_STATUS(bob.get(B1), 200);
    CHECK_STATUS(bob.get(GB), 200);
    CHECK(int_field(stats(bob), "contact_total") == 1);
    CHECK(int_field(stats(alice), "contact_total") == 2);  // Andy and the imported one
}

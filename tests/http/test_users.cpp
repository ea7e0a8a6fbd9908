// Users, roles and permissions: CRUD of /users, seeded roles, role and permission grants, and
// what a plain user may and may not do.
#include "helpers.hpp"

namespace {

struct Catalog {
    std::int64_t admin_role = 0;
    std::int64_t user_role = 0;
    std::int64_t user_read = 0;  // permission user_read
    std::int64_t contact = 0;    // permission contact (prefix)
};

Catalog catalog(Client& admin) {
    Catalog c;
    Response roles = admin.get("/roles");
    REQUIRE_STATUS(roles, 200);
    json::array rs = as_array(roles);
    c.admin_role = id_by_name(rs, "role_id", "admin");
    c.user_role = id_by_name(rs, "role_id", "user");
    REQUIRE_MESSAGE(c.admin_role > 0, "no seeded role `admin`: " << roles.describe());
    REQUIRE_MESSAGE(c.user_role > 0, "no seeded role `user`: " << roles.describe());
    Response perms = admin.get("/permissions");
    REQUIRE_STATUS(perms, 200);
    json::array ps = as_array(perms);
    c.user_read = id_by_name(ps, "permission_id", "user_read");
    c.contact = id_by_name(ps, "permission_id", "contact");
    return c;
}

}  // namespace

TEST_CASE("users: roles and permissions are listed") {
    ServerProcess server;
    Client admin = admin_client(server);

    Response r = admin.get("/roles");
    REQUIRE_STATUS(r, 200);
    json::array roles = as_array(r);
    CHECK(roles.size() >= 2);
    std::vector<std::int64_t> role_ids = ids_of(roles, "role_id");
    std::vector<std::string> role_names = strings_of(roles, "name");
    CHECK(std::find(role_names.begin(), role_names.end(), "admin") != role_names.end());
    CHECK(std::find(role_names.begin(), role_names.end(), "user") != role_names.end());
    std::sort(role_ids.begin(), role_ids.end());
    CHECK(std::adjacent_find(role_ids.begin(), role_ids.end()) == role_ids.end());

    r = admin.get("/permissions");
    REQUIRE_STATUS(r, 200);
    json::array perms = as_array(r);
    std::vector<std::string> names = strings_of(perms, "name");
    std::vector<std::int64_t> perm_ids = ids_of(perms, "permission_id");
    CHECK(perm_ids.size() == names.size());
    // Names are <resource>_<action> (or a bare resource prefix).
    for (const auto& n : names) {
        CAPTURE(n);
        CHECK(!n.empty());
        CHECK(n.find(' ') == std::string::npos);
    }
    for (const char* expected : {"contact_create", "contact_read", "group_create", "user_create", "user_read"}) {
        CAPTURE(expected);
        CHECK(std::find(names.begin(), names.end(), expected) != names.end());
    }
    std::sort(perm_ids.begin(), perm_ids.end());
    CHECK(std::adjacent_find(perm_ids.begin(), perm_ids.end()) == perm_ids.end());

    // A plain user has no role_/permission_ read rights.
    create_user(admin, "plain", "plain-pass-1");
    Client plain = client_as(server, "plain", "plain-pass-1");
    check_error(plain.get("/roles"), 403);
    check_error(plain.get("/permissions"), 403);
}

TEST_CASE("users: create, read, list, update, delete") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t admin_id = user_id_of(admin, "admin");

    json::object alice{{"username", "alice"},
                       {"passwd", "alice-pass-1"},
                       {"first_name", "Alice"},
                       {"last_name", "Liddell"},
                       {"phone", 3001234567},
                       {"email", "alice@example.com"},
                       {"address", "1 Rabbit Hole"},
                       {"company", "Wonder Ltd"},
                       {"country_id", 1},
                       {"timezone_id", 2},
                       {"active", 1}};
    std::int64_t alice_id = created_id(admin.post("/users", alice), "user_id");
    CHECK(alice_id != admin_id);

    Response r = admin.get("/users/" + std::to_string(alice_id));
    REQUIRE_STATUS(r, 200);
    json::object u = as_object(r);
    CHECK(int_field(u, "user_id") == alice_id);
    CHECK(str_field(u, "username") == "alice");
    CHECK(str_field(u, "first_name") == "Alice");
    CHECK(str_field(u, "last_name") == "Liddell");
    CHECK(str_field(u, "phone") == "3001234567");  // JSON number in, string out
    CHECK(str_field(u, "email") == "alice@example.com");
    CHECK(str_field(u, "address") == "1 Rabbit Hole");
    CHECK(str_field(u, "company") == "Wonder Ltd");
    CHECK(int_field(u, "country_id") == 1);
    CHECK(int_field(u, "timezone_id") == 2);
    CHECK(int_field(u, "active") == 1);
    CHECK_MESSAGE(!u.contains("passwd"), "passwd must never be returned: " << r.describe());
    CHECK_MESSAGE(r.body.find("alice-pass-1") == std::string::npos, r.describe());

    // The new user can log in (both password keys).
    CHECK(!login(server, "alice", "alice-pass-1").empty());
    {
        Client anon = server.client();
        CHECK_STATUS(anon.post("/authentication", json::object{{"username", "alice"}, {"passowrd", "alice-pass-1"}}),
                     200);
    }

    std::int64_t bob_id = create_user(admin, "bob", "bob-pass-1", {{"first_name", "Bob"}});

    // List.
    r = admin.get("/users");
    REQUIRE_STATUS(r, 200);
    json::array users = as_array(r);
    CHECK(users.size() == 3);
    CHECK(total_count(r) == 3);
    CHECK(has_id(users, "user_id", admin_id));
    CHECK(has_id(users, "user_id", alice_id));
    CHECK(has_id(users, "user_id", bob_id));
    for (const auto& v : users) CHECK_MESSAGE(!v.as_object().contains("passwd"), json::serialize(v));
    CHECK(r.body.find("bob-pass-1") == std::string::npos);

    // Filters: substring on text, exact id, limit/sort.
    r = admin.get("/users?username=LIC");
    REQUIRE_STATUS(r, 200);
    users = as_array(r);
    REQUIRE(users.size() == 1);
    CHECK(int_field(users[0].as_object(), "user_id") == alice_id);
    CHECK(total_count(r) == 1);
    r = admin.get("/users?user_id=" + std::to_string(bob_id));
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "user_id") == std::vector<std::int64_t>{bob_id});
    // passwd is secret: never a filter or a sort key (no oracle on the stored hash).
    for (const std::string q : {"?passwd=a", "?passwd=%24", "?passwd=alice-pass-1", "?passwd=argon"}) {
        CAPTURE(q);
        r = admin.get("/users" + q);
        CHECK_MESSAGE((r.status == 200 || r.status == 412), r.describe());
        if (r.status == 200) CHECK(total_count(r) == 3);
    }
    r = admin.get("/users?sort=passwd");
    CHECK_MESSAGE((r.status == 200 || r.status == 412), r.describe());
    r = admin.get("/users?sort=-username&limit=2");
    REQUIRE_STATUS(r, 200);
    CHECK(strings_of(as_array(r), "username") == std::vector<std::string>{"bob", "alice"});
    CHECK(total_count(r) == 3);

    // Partial update returns the whole object; only the given fields change.
    r = admin.put("/users/" + std::to_string(alice_id), json::object{{"first_name", "Alicia"}});
    REQUIRE_STATUS(r, 200);
    u = as_object(r);
    CHECK(int_field(u, "user_id") == alice_id);
    CHECK(str_field(u, "first_name") == "Alicia");
    CHECK(str_field(u, "last_name") == "Liddell");
    CHECK(str_field(u, "username") == "alice");
    CHECK(str_field(u, "email") == "alice@example.com");
    CHECK(!u.contains("passwd"));
    r = admin.get("/users/" + std::to_string(alice_id));
    CHECK(str_field(as_object(r), "first_name") == "Alicia");
    CHECK(str_field(as_object(r), "company") == "Wonder Ltd");

    // Changing the password: old one stops working, new one works.
    r = admin.put("/users/" + std::to_string(alice_id), json::object{{"passwd", "alice-pass-2"}});
    CHECK_STATUS(r, 200);
    CHECK(r.body.find("alice-pass-2") == std::string::npos);
    {
        Client anon = server.client();
        check_error(anon.post("/authentication", json::object{{"username", "alice"}, {"password", "alice-pass-1"}}),
                    401);
    }
    CHECK(!login(server, "alice", "alice-pass-2").empty());

    // Delete, then the user is gone and cannot log in; GET …/delete is the same route.
    r = admin.del("/users/" + std::to_string(bob_id));
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get("/users/" + std::to_string(bob_id)), 404);
    check_error(admin.del("/users/" + std::to_string(bob_id)), 404);
    {
        Client anon = server.client();
        check_error(anon.post("/authentication", json::object{{"username", "bob"}, {"password", "bob-pass-1"}}), 401);
    }
    std::int64_t carol_id = create_user(admin, "carol", "carol-pass-1");
    r = admin.get("/users/" + std::to_string(carol_id) + "/delete");
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get("/users/" + std::to_string(carol_id)), 404);
    check_error(admin.get("/users/" + std::to_string(carol_id) + "/delete"), 404);

    r = admin.get("/users");
    CHECK(total_count(r) == 2);
}

TEST_CASE("users: validation and unknown ids") {
    ServerProcess server;
    Client admin = admin_client(server);
    create_user(admin, "dora", "dora-pass-1");

    auto users_total = [&] {
        Response r = admin.get("/users");
        REQUIRE_STATUS(r, 200);
        return total_count(r);
    };
    const std::int64_t before = users_total();
    CHECK(before == 2);

    // Duplicate username is a validation error (412), not a 500.
    std::string msg =
        check_error(admin.post("/users", json::object{{"username", "dora"}, {"passwd", "other-pass"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "username"), msg);
    // Missing or empty required fields.
    msg = check_error(admin.post("/users", json::object{{"passwd", "x-pass-123"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "username"), msg);
    msg = check_error(admin.post("/users", json::object{{"username", "nopass"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "passwd"), msg);
    check_error(admin.post("/users", json::object{{"username", ""}, {"passwd", "x-pass-123"}}), 412);
    // Wrong types.
    check_error(admin.post("/users", json::object{{"username", 5}, {"passwd", "x-pass-123"}}), 412);
    check_error(admin.post("/users", json::object{{"username", "typed"}, {"passwd", "x-pass-123"}, {"active", "yes"}}),
                412);
    check_error(
        admin.post("/users", json::object{{"username", "typed"}, {"passwd", "x-pass-123"}, {"country_id", "PK"}}), 412);
    // Field rules.
    msg = check_error(
        admin.post("/users", json::object{{"username", "mail"}, {"passwd", "x-pass-123"}, {"email", "not-an-email"}}),
        412);
    CHECK_MESSAGE(contains_ci(msg, "email"), msg);
    msg = check_error(admin.post("/users", json::object{{"username", "ph"}, {"passwd", "x-pass-123"}, {"phone", "12"}}),
                      412);
    CHECK_MESSAGE(contains_ci(msg, "phone"), msg);
    check_error(admin.post("/users", json::object{{"username", std::string(65, 'u')}, {"passwd", "x-pass-123"}}), 412);
    // Malformed JSON, non-object JSON.
    check_error(admin.post_raw("/users", "{\"username\": \"broken\", \"passwd\": \"x\""), 412);
    check_error(admin.post_raw("/users", "[\"username\", \"passwd\"]"), 412);
    // Unknown role on create.
    {
        Response r =
            admin.post("/users", json::object{{"username", "norole"}, {"passwd", "x-pass-123"}, {"role_id", 999999}});
        CHECK_MESSAGE((r.status == 404 || r.status == 412), r.describe());
    }
    CHECK(users_total() == before);
    {
        Response r = admin.get("/users?username=norole");
        REQUIRE_STATUS(r, 200);
        CHECK(as_array(r).empty());
    }

    // Updates that fail validation change nothing.
    std::int64_t dora = user_id_of(admin, "dora");
    std::string path = "/users/" + std::to_string(dora);
    create_user(admin, "eric", "eric-pass-1");
    check_error(admin.put(path, json::object{{"username", "eric"}}), 412);  // clash
    check_error(admin.put(path, json::object{{"email", "bad@"}}), 412);
    check_error(admin.put(path, json::object{{"username", ""}}), 412);
    check_error(admin.put_raw(path, "{\"first_name\": "), 412);
    Response r = admin.get(path);
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "username") == "dora");
    CHECK(!login(server, "dora", "dora-pass-1").empty());

    // Unknown and non-numeric ids.
    for (const std::string target : {"/users/999999", "/users/0", "/users/-1", "/users/abc", "/users/1x",
                                     "/users/99999999999999999999999", "/users/1.0"}) {
        CAPTURE(target);
        check_error(admin.get(target), 404);
        check_error(admin.put(target, json::object{{"first_name", "x"}}), 404);
        check_error(admin.del(target), 404);
    }
}

TEST_CASE("users: a plain user, self-service, role and permission grants") {
    ServerProcess server;
    Client admin = admin_client(server);
    Catalog cat = catalog(admin);
    REQUIRE_MESSAGE(cat.user_read > 0, "no permission named user_read in GET /permissions");
    std::int64_t admin_id = user_id_of(admin, "admin");

    std::int64_t alice_id = create_user(admin, "alice", "alice-pass-1", {{"first_name", "Alice"}});
    std::int64_t bob_id = create_user(admin, "bob", "bob-pass-1");
    Client alice = client_as(server, "alice", "alice-pass-1");
    const std::string alice_path = "/users/" + std::to_string(alice_id);

    // A new user has role `user`: its own contacts and groups, no user_* permissions.
    CHECK_STATUS(alice.get("/contacts"), 200);
    CHECK(create_contact(alice, "Mine", "3005550001") > 0);
    CHECK(create_group(alice, "my group") > 0);
    CHECK_STATUS(alice.get("/statistics"), 200);
    check_error(alice.post("/users", json::object{{"username", "mallory"}, {"passwd", "mallory-pass"}}), 403);
    check_error(alice.get("/users"), 403);
    {
        Response r = admin.get("/users?username=mallory");
        REQUIRE_STATUS(r, 200);
        CHECK(as_array(r).empty());
    }
    // Someone else's user record: forbidden (403) or invisible (404), never served.
    for (std::int64_t other : {admin_id, bob_id}) {
        std::string p = "/users/" + std::to_string(other);
        CAPTURE(p);
        Response r = alice.get(p);
        CHECK_MESSAGE((r.status == 403 || r.status == 404), r.describe());
        r = alice.put(p, json::object{{"first_name", "Hacked"}});
        CHECK_MESSAGE((r.status == 403 || r.status == 404), r.describe());
        r = alice.del(p);
        CHECK_MESSAGE((r.status == 403 || r.status == 404), r.describe());
        r = admin.get(p);
        REQUIRE_STATUS(r, 200);
        CHECK(opt_str(as_object(r), "first_name") != std::optional<std::string>("Hacked"));
    }
    CHECK(!login(server, "bob", "bob-pass-1").empty());

    // Self-service: a user may read and update itself.
    Response r = alice.get(alice_path);
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "user_id") == alice_id);
    CHECK(str_field(as_object(r), "username") == "alice");
    r = alice.put(alice_path, json::object{{"first_name", "Alicia"}, {"company", "Self Inc"}});
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "first_name") == "Alicia");
    CHECK(str_field(as_object(r), "company") == "Self Inc");
    CHECK(str_field(as_object(admin.get(alice_path)), "first_name") == "Alicia");
    // ... but not deactivate itself or escalate.
    r = alice.put(alice_path, json::object{{"active", 0}});
    CHECK_MESSAGE(r.status != 500, r.describe());
    CHECK(int_field(as_object(admin.get(alice_path)), "active") == 1);
    CHECK(!login(server, "alice", "alice-pass-1").empty());
    check_error(alice.put(alice_path + "/roles/" + std::to_string(cat.admin_role)), 403);
    check_error(alice.put(alice_path + "/permissions/" + std::to_string(cat.user_read)), 403);
    check_error(alice.del(alice_path + "/roles/" + std::to_string(cat.user_role)), 403);
    check_error(alice.get("/users"), 403);

    // Grant role admin: PUT returns the user; alice can now manage users.
    r = admin.put(alice_path + "/roles/" + std::to_string(cat.admin_role));
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "user_id") == alice_id);
    CHECK(str_field(as_object(r), "username") == "alice");
    CHECK(!as_object(r).contains("passwd"));
    {
        Client fresh = client_as(server, "alice", "alice-pass-1");
        CHECK_STATUS(fresh.get("/users"), 200);
        CHECK_STATUS(fresh.get("/users/" + std::to_string(bob_id)), 200);
    }
    // Granting again is harmless.
    CHECK_STATUS(admin.put(alice_path + "/roles/" + std::to_string(cat.admin_role)), 200);
    // Revoke: DELETE returns true; the old token and a new one both lose the rights.
    r = admin.del(alice_path + "/roles/" + std::to_string(cat.admin_role));
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    {
        Client fresh = client_as(server, "alice", "alice-pass-1");
        check_error(fresh.get("/users"), 403);
    }
    CHECK_MESSAGE(alice.get("/users").status == 403, "a revoked role must not live on in an earlier token");

    // Direct permission grant: user_read lets bob list users but not create them.
    const std::string bob_path = "/users/" + std::to_string(bob_id);
    r = admin.put(bob_path + "/permissions/" + std::to_string(cat.user_read));
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "user_id") == bob_id);
    {
        Client bob = client_as(server, "bob", "bob-pass-1");
        r = bob.get("/users");
        CHECK_STATUS(r, 200);
        if (r.status == 200) CHECK(total_count(r) == static_cast<std::int64_t>(as_array(r).size()));
        check_error(bob.post("/users", json::object{{"username", "eve"}, {"passwd", "eve-pass-1"}}), 403);
        r = admin.del(bob_path + "/permissions/" + std::to_string(cat.user_read));
        CHECK_STATUS(r, 200);
        CHECK_TRUE_BODY(r);
        check_error(client_as(server, "bob", "bob-pass-1").get("/users"), 403);
    }
    // DELETE of a permission also answers GET …/delete.
    CHECK_STATUS(admin.put(bob_path + "/permissions/" + std::to_string(cat.user_read)), 200);
    r = admin.get(bob_path + "/permissions/" + std::to_string(cat.user_read) + "/delete");
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(client_as(server, "bob", "bob-pass-1").get("/users"), 403);

    // A user created with role admin.
    r = admin.post("/users",
                   json::object{{"username", "root2"}, {"passwd", "root2-pass"}, {"role_id", cat.admin_role}});
    REQUIRE_STATUS(r, 200);
    CHECK_STATUS(client_as(server, "root2", "root2-pass").get("/users"), 200);

    // Unknown role / permission / user ids; non-numeric ids.
    check_error(admin.put(alice_path + "/roles/999999"), 404);
    check_error(admin.put(alice_path + "/permissions/999999"), 404);
    check_error(admin.put("/users/999999/roles/" + std::to_string(cat.user_role)), 404);
    check_error(admin.put("/users/999999/permissions/" + std::to_string(cat.user_read)), 404);
    check_error(admin.del("/users/999999/roles/" + std::to_string(cat.user_role)), 404);
    check_error(admin.put(alice_path + "/roles/abc"), 404);
    check_error(admin.put(alice_path + "/permissions/abc"), 404);
    check_error(admin.put("/users/abc/roles/" + std::to_string(cat.user_role)), 404);
}

TEST_CASE("users: removing role `user` takes away contact routes; inactive users cannot log in") {
    ServerProcess server;
    Client admin = admin_client(server);
    Catalog cat = catalog(admin);

    std::int64_t carol_id = create_user(admin, "carol", "carol-pass-1");
    const std::string carol_path = "/users/" + std::to_string(carol_id);
    Client carol = client_as(server, "carol", "carol-pass-1");
    std::int64_t contact = create_contact(carol, "Carol's", "3007770001");

    Response r = admin.del(carol_path + "/roles/" + std::to_string(cat.user_role));
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    {
        Client fresh = client_as(server, "carol", "carol-pass-1");
        check_error(fresh.get("/contacts"), 403);
        check_error(fresh.post("/contacts", json::object{{"first_name", "x"}, {"phone", "3001234567"}}), 403);
        check_error(fresh.get("/contacts/" + std::to_string(contact)), 403);
        check_error(fresh.get("/groups"), 403);
    }
    check_error(carol.get("/contacts"), 403);  // the token issued before the change
    // Give the role back.
    r = admin.put(carol_path + "/roles/" + std::to_string(cat.user_role));
    CHECK_STATUS(r, 200);
    r = client_as(server, "carol", "carol-pass-1").get("/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>{contact});

    // A single permission instead of the role: `contact` (a prefix) grants contact_read etc.
    if (cat.contact > 0) {
        CHECK_STATUS(admin.del(carol_path + "/roles/" + std::to_string(cat.user_role)), 200);
        CHECK_STATUS(admin.put(carol_path + "/permissions/" + std::to_string(cat.contact)), 200);
        Client fresh = client_as(server, "carol", "carol-pass-1");
        CHECK_STATUS(fresh.get("/contacts"), 200);
        CHECK(create_contact(fresh, "Via prefix", "3007770002") > 0);
        check_error(fresh.get("/groups"), 403);
    }

    // Inactive users: created inactive, or deactivated by an admin.
    create_user(admin, "sleepy", "sleepy-pass-1", {{"active", 0}});
    {
        Client anon = server.client();
        check_error(anon.post("/authentication", json::object{{"username", "sleepy"}, {"password", "sleepy-pass-1"}}),
                    401);
        anon.set_basic("sleepy", "sleepy-pass-1");
        check_error(anon.get("/statistics"), 401);
    }
    std::int64_t dave_id = create_user(admin, "dave", "dave-pass-1");
    Client dave = client_as(server, "dave", "dave-pass-1");
    CHECK_STATUS(dave.get("/statistics"), 200);
    r = admin.put("/users/" + std::to_string(dave_id), json::object{{"active", 0}});
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "active") == 0);
    {
        Client anon = server.client();
        check_error(anon.post("/authentication", json::object{{"username", "dave"}, {"password", "dave-pass-1"}}), 401);
    }
    CHECK_MESSAGE(dave.get("/statistics").status == 401, "a deactivated user's earlier token must stop working");

    // A deleted user's token stops working too.
    create_user(admin, "gone", "gone-pass-1");
    Client gone = client_as(server, "gone", "gone-pass-1");
    CHECK_STATUS(gone.get("/statistics"), 200);
    CHECK_STATUS(admin.del("/users/" + std::to_string(user_id_of(admin, "gone"))), 200);
    check_error(gone.get("/statistics"), 401);
}

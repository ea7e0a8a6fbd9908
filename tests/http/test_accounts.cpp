// Accounts: CRUD of /accounts, secrets that never come back, the default account of every
// user, what a plain user may do, ownership moves and program subscriptions.
#include "helpers.hpp"

namespace {

std::string account_path(std::int64_t id) { return "/accounts/" + std::to_string(id); }

std::int64_t create_account(Client& c, json::object body) {
    return created_id(c.post("/accounts", body), "account_id");
}

std::int64_t accounts_total(Client& admin) {
    Response r = admin.get("/accounts");
    REQUIRE_STATUS(r, 200);
    return total_count(r);
}

// The accounts of one user, as an admin lists them.
json::array accounts_of(Client& admin, std::int64_t user_id) {
    Response r = admin.get("/accounts?user_id=" + std::to_string(user_id));
    REQUIRE_STATUS(r, 200);
    return as_array(r);
}

void check_no_secrets(const Response& r, std::initializer_list<std::string_view> plain = {}) {
    CHECK_MESSAGE(r.body.find("passwd") == std::string::npos, "secrets must never be returned: " << r.describe());
    CHECK_MESSAGE(r.body.find("argon2") == std::string::npos, "hashes must never be returned: " << r.describe());
    for (auto p : plain) CHECK_MESSAGE(r.body.find(p) == std::string::npos, r.describe());
}

std::vector<std::int64_t> program_ids(Client& c, std::int64_t account_id) {
    Response r = c.get(account_path(account_id) + "/programs");
    REQUIRE_STATUS(r, 200);
    std::vector<std::int64_t> ids;
    for (const auto& v : as_array(r)) ids.push_back(as_int(v));
    return ids;
}

std::int64_t create_sms_program(Client& c, const std::string& name) {
    const std::int64_t text =
        created_id(c.post("/messages/texts", json::object{{"name", name}, {"data", "hello"}}), "text_id");
    return created_id(c.post("/programs/sendsms", json::object{{"name", name}, {"text_id", text}}), "program_id");
}

}  // namespace

TEST_CASE("accounts: create, read, list, update, delete") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t admin_id = user_id_of(admin, "admin");
    const std::int64_t alice_id = create_user(admin, "alice", "alice-pass-1");
    const std::int64_t base = accounts_total(admin);
    CHECK(base == 2);  // the default accounts of admin and alice

    // Without user_id the admin owns it; secrets in, never out.
    json::object body{{"username", "sip100"},        {"passwd", "sip-password-1"}, {"passwd_pin", "4321"},
                      {"first_name", "Front"},       {"last_name", "Desk"},        {"phone", 3001234567},
                      {"email", "desk@example.com"}, {"address", "1 Main St"},     {"active", 1}};
    const std::int64_t own = create_account(admin, body);
    Response r = admin.get(account_path(own));
    REQUIRE_STATUS(r, 200);
    json::object a = as_object(r);
    CHECK(int_field(a, "account_id") == own);
    CHECK(int_field(a, "user_id") == admin_id);
    CHECK(str_field(a, "username") == "sip100");
    CHECK(str_field(a, "type") == "account");
    CHECK(str_field(a, "first_name") == "Front");
    CHECK(str_field(a, "last_name") == "Desk");
    CHECK(str_field(a, "phone") == "3001234567");
    CHECK(str_field(a, "email") == "desk@example.com");
    CHECK(str_field(a, "address") == "1 Main St");
    CHECK(int_field(a, "active") == 1);
    check_no_secrets(r, {"sip-password-1", "4321"});

    // With user_id the account is created for that user.
    const std::int64_t for_alice =
        create_account(admin, json::object{{"username", "alice-ext"}, {"type", "extension"}, {"user_id", alice_id}});
    r = admin.get(account_path(for_alice));
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "user_id") == alice_id);
    CHECK(str_field(as_object(r), "type") == "extension");
    const std::int64_t did = create_account(
        admin, json::object{{"username", "did-1"}, {"type", "did"}, {"user_id", std::to_string(alice_id)}});
    CHECK(int_field(as_object(admin.get(account_path(did))), "user_id") == alice_id);

    // List: everything for the admin, streamed with a total; filters.
    r = admin.get("/accounts");
    REQUIRE_STATUS(r, 200);
    json::array rows = as_array(r);
    CHECK(rows.size() == static_cast<std::size_t>(base + 3));
    CHECK(total_count(r) == base + 3);
    CHECK(has_id(rows, "account_id", own));
    CHECK(has_id(rows, "account_id", for_alice));
    for (const auto& v : rows) {
        CHECK(v.as_object().contains("user_id"));
        CHECK(v.as_object().contains("account_id"));
    }
    check_no_secrets(r);
    r = admin.get("/accounts?username=SIP1");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "account_id") == std::vector<std::int64_t>{own});
    CHECK(total_count(r) == 1);
    r = admin.get("/accounts?type=extension");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "account_id") == std::vector<std::int64_t>{for_alice});
    r = admin.get("/accounts?user_id=" + std::to_string(alice_id) + "&sort=-account_id");
    REQUIRE_STATUS(r, 200);
    rows = as_array(r);
    REQUIRE(rows.size() == 3);
    CHECK(int_field(rows[0].as_object(), "account_id") == did);
    CHECK(int_field(rows[1].as_object(), "account_id") == for_alice);
    r = admin.get("/accounts?phone=1234567");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "account_id") == std::vector<std::int64_t>{own});

    // Partial update returns the whole object; a new passwd stays hidden.
    r = admin.put(account_path(own), json::object{{"first_name", "Back"}, {"passwd", "sip-password-2"}});
    REQUIRE_STATUS(r, 200);
    a = as_object(r);
    CHECK(int_field(a, "account_id") == own);
    CHECK(str_field(a, "first_name") == "Back");
    CHECK(str_field(a, "last_name") == "Desk");
    CHECK(str_field(a, "username") == "sip100");
    CHECK(int_field(a, "user_id") == admin_id);
    check_no_secrets(r, {"sip-password-2"});
    r = admin.put(account_path(own), json::object{{"passwd_pin", "987654"}, {"type", "eaddress"}, {"active", 0}});
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "type") == "eaddress");
    CHECK(int_field(as_object(r), "active") == 0);
    check_no_secrets(r, {"987654"});
    // user_id in an update body does not move the account.
    r = admin.put(account_path(own), json::object{{"user_id", alice_id}, {"account_id", 777}});
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "user_id") == admin_id);
    CHECK(int_field(as_object(r), "account_id") == own);
    r = admin.get(account_path(own));
    CHECK(str_field(as_object(r), "first_name") == "Back");
    check_no_secrets(r);

    // Delete answers true; GET …/delete is the same route.
    r = admin.del(account_path(own));
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(account_path(own)), 404);
    check_error(admin.del(account_path(own)), 404);
    r = admin.get(account_path(did) + "/delete");
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(account_path(did)), 404);
    check_error(admin.get(account_path(did) + "/delete"), 404);
    CHECK(accounts_total(admin) == base + 1);

    for (const std::string target : {"/accounts/999999", "/accounts/0", "/accounts/abc"}) {
        CAPTURE(target);
        check_error(admin.get(target), 404);
        check_error(admin.put(target, json::object{{"first_name", "x"}}), 404);
        check_error(admin.del(target), 404);
    }
}

TEST_CASE("accounts: invalid input is refused with 412 and changes nothing") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t id =
        create_account(admin, json::object{{"username", "keep"}, {"first_name", "Kept"}, {"passwd", "keep-password"}});
    const std::int64_t total = accounts_total(admin);

    const std::vector<json::object> bad_creates{
        json::object{{"first_name", "no username"}},
        json::object{{"username", ""}},
        json::object{{"username", std::string(129, 'u')}},
        json::object{{"username", "t"}, {"type", "trunk"}},
        json::object{{"username", "t"}, {"passwd", "short"}},
        json::object{{"username", "t"}, {"passwd_pin", "12"}},
        json::object{{"username", "t"}, {"passwd_pin", "1234567890123"}},
        json::object{{"username", "t"}, {"passwd_pin", "12ab"}},
        json::object{{"username", "t"}, {"phone", "12"}},
        json::object{{"username", "t"}, {"email", "nope"}},
        json::object{{"username", "t"}, {"active", 2}},
        json::object{{"username", "t"}, {"active", "yes"}},
        json::object{{"username", "t"}, {"user_id", 999999}},
        json::object{{"username", "t"}, {"user_id", "someone"}},
    };
    for (const auto& body : bad_creates) {
        CAPTURE(json::serialize(body));
        check_error(admin.post("/accounts", body), 412);
    }
    check_error(admin.post_raw("/accounts", "{\"username\": "), 412);
    check_error(admin.post_raw("/accounts", "[]"), 412);
    CHECK(accounts_total(admin) == total);
    {
        Response r = admin.get("/accounts?username=t");
        REQUIRE_STATUS(r, 200);
        CHECK(as_array(r).empty());
    }

    const std::vector<json::object> bad_updates{
        json::object{{"first_name", "Changed"}, {"passwd_pin", "12x4"}},
        json::object{{"first_name", "Changed"}, {"passwd_pin", "123"}},
        json::object{{"first_name", "Changed"}, {"passwd", "1234567"}},
        json::object{{"first_name", "Changed"}, {"type", "bogus"}},
        json::object{{"first_name", "Changed"}, {"username", ""}},
        json::object{{"first_name", "Changed"}, {"email", "bad@"}},
        json::object{{"first_name", "Changed"}, {"active", 5}},
    };
    for (const auto& body : bad_updates) {
        CAPTURE(json::serialize(body));
        std::string msg = check_error(admin.put(account_path(id), body), 412);
        if (body.contains("passwd_pin")) CHECK_MESSAGE(contains_ci(msg, "passwd_pin"), msg);
    }
    Response r = admin.get(account_path(id));
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "first_name") == "Kept");
    CHECK(str_field(as_object(r), "username") == "keep");
    CHECK(str_field(as_object(r), "type") == "account");
    // Valid pins: 4 and 12 digits.
    CHECK_STATUS(admin.put(account_path(id), json::object{{"passwd_pin", "0000"}}), 200);
    CHECK_STATUS(admin.put(account_path(id), json::object{{"passwd_pin", "012345678901"}}), 200);
}

TEST_CASE("accounts: every user gets a default account; a plain user sees only its own") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t admin_id = user_id_of(admin, "admin");

    // The admin's own, made on first start.
    json::array mine = accounts_of(admin, admin_id);
    REQUIRE(mine.size() == 1);
    CHECK(str_field(mine[0].as_object(), "username") == "admin");
    const std::int64_t admins_account = int_field(mine[0].as_object(), "account_id");

    const std::int64_t alice_id = create_user(admin, "alice", "alice-pass-1",
                                              {{"first_name", "Alice"},
                                               {"last_name", "Liddell"},
                                               {"phone", "+92 300 7654321"},
                                               {"email", "alice@example.com"}});
    create_user(admin, "bob", "bob-pass-1");
    json::array alices = accounts_of(admin, alice_id);
    REQUIRE(alices.size() == 1);
    const json::object& d = alices[0].as_object();
    const std::int64_t alice_account = int_field(d, "account_id");
    CHECK(str_field(d, "username") == "alice");
    CHECK(str_field(d, "first_name") == "Alice");
    CHECK(str_field(d, "last_name") == "Liddell");
    CHECK(str_field(d, "phone") == "+923007654321");
    CHECK(str_field(d, "email") == "alice@example.com");
    CHECK(str_field(d, "type") == "account");
    CHECK(int_field(d, "active") == 1);
    CHECK(int_field(d, "user_id") == alice_id);
    const std::int64_t bob_account =
        int_field(accounts_of(admin, user_id_of(admin, "bob"))[0].as_object(), "account_id");
    const std::int64_t free_account = create_account(admin, json::object{{"username", "spare"}});
    CHECK_STATUS(admin.del(account_path(free_account) + "/users"), 200);

    Client alice = client_as(server, "alice", "alice-pass-1");
    Response r = alice.get("/accounts");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "account_id") == std::vector<std::int64_t>{alice_account});
    CHECK(total_count(r) == 1);
    check_no_secrets(r);
    r = alice.get(account_path(alice_account));
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "user_id") == alice_id);
    check_no_secrets(r);
    for (std::int64_t other : {admins_account, bob_account, free_account}) {
        CAPTURE(other);
        check_error(alice.get(account_path(other)), 404);
    }
    r = alice.get("/accounts?username=spare");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());

    // Role `user` only reads accounts.
    const std::int64_t total = accounts_total(admin);
    check_error(alice.post("/accounts", json::object{{"username", "mine-too"}}), 403);
    check_error(alice.put(account_path(alice_account), json::object{{"first_name", "Hacked"}}), 403);
    check_error(alice.del(account_path(alice_account)), 403);
    check_error(alice.get(account_path(alice_account) + "/delete"), 403);
    check_error(alice.put(account_path(alice_account) + "/users/" + std::to_string(alice_id)), 403);
    check_error(alice.del(account_path(alice_account) + "/users"), 403);
    check_error(alice.del(account_path(alice_account) + "/programs"), 403);
    CHECK(accounts_total(admin) == total);
    CHECK(str_field(as_object(admin.get(account_path(alice_account))), "first_name") == "Alice");

    // Deleting a user deletes its accounts.
    CHECK_STATUS(admin.del("/users/" + std::to_string(alice_id)), 200);
    CHECK(accounts_of(admin, alice_id).empty());
    check_error(admin.get(account_path(alice_account)), 404);
}

TEST_CASE("accounts: assign to another user and free") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t alice_id = create_user(admin, "alice", "alice-pass-1");
    const std::int64_t bob_id = create_user(admin, "bob", "bob-pass-1");
    const std::int64_t account = int_field(accounts_of(admin, alice_id)[0].as_object(), "account_id");
    Client alice = client_as(server, "alice", "alice-pass-1");
    Client bob = client_as(server, "bob", "bob-pass-1");

    Response r = admin.put(account_path(account) + "/users/" + std::to_string(bob_id));
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "account_id") == account);
    CHECK(int_field(as_object(r), "user_id") == bob_id);
    CHECK(str_field(as_object(r), "username") == "alice");
    check_no_secrets(r);
    check_error(alice.get(account_path(account)), 404);
    CHECK_STATUS(bob.get(account_path(account)), 200);
    CHECK(accounts_of(admin, alice_id).empty());
    CHECK(accounts_of(admin, bob_id).size() == 2);

    check_error(admin.put(account_path(account) + "/users/999999"), 404);
    check_error(admin.put("/accounts/999999/users/" + std::to_string(bob_id)), 404);
    CHECK(int_field(as_object(admin.get(account_path(account))), "user_id") == bob_id);

    // Free: no user; only admins see it.
    r = admin.del(account_path(account) + "/users");
    REQUIRE_STATUS(r, 200);
    const json::object freed = as_object(r);
    CHECK(int_field(freed, "account_id") == account);
    CHECK_MESSAGE((!freed.contains("user_id") || freed.at("user_id").is_null()), r.describe());
    check_error(bob.get(account_path(account)), 404);
    r = admin.get(account_path(account));
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r).at("user_id").is_null());
    {
        Response list = bob.get("/accounts");
        REQUIRE_STATUS(list, 200);
        CHECK(!has_id(as_array(list), "account_id", account));
    }

    // Back to alice, then GET …/users/delete frees it again.
    r = admin.put(account_path(account) + "/users/" + std::to_string(alice_id));
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "user_id") == alice_id);
    CHECK_STATUS(alice.get(account_path(account)), 200);
    r = admin.get(account_path(account) + "/users/delete");
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r).at("user_id").is_null());
    check_error(admin.get("/accounts/999999/users/delete"), 404);
}

TEST_CASE("accounts: program subscriptions") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t admin_id = user_id_of(admin, "admin");
    const std::int64_t account = int_field(accounts_of(admin, admin_id)[0].as_object(), "account_id");
    const std::int64_t p1 = create_sms_program(admin, "first");
    const std::int64_t p2 = create_sms_program(admin, "second");
    const std::string programs = account_path(account) + "/programs";

    Response r = admin.put(programs + "/" + std::to_string(p1));
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "account_id") == account);
    CHECK(str_field(as_object(r), "username") == "admin");
    check_no_secrets(r);
    CHECK_STATUS(admin.put(programs + "/" + std::to_string(p1)), 200);  // idempotent
    CHECK(program_ids(admin, account) == std::vector<std::int64_t>{p1});
    CHECK_STATUS(admin.put(programs + "/" + std::to_string(p2)), 200);
    CHECK(program_ids(admin, account) == std::vector<std::int64_t>{p1, p2});

    std::string msg = check_error(admin.put(programs + "/999999"), 404);
    CHECK_MESSAGE(contains_ci(msg, "program"), msg);
    msg = check_error(admin.put("/accounts/999999/programs/" + std::to_string(p1)), 404);
    CHECK_MESSAGE(contains_ci(msg, "account"), msg);
    check_error(admin.del("/accounts/999999/programs"), 404);
    check_error(admin.get("/accounts/999999/programs"), 404);
    CHECK(program_ids(admin, account) == std::vector<std::int64_t>{p1, p2});

    // Unsubscribe one (twice is fine), and its GET …/delete form.
    r = admin.del(programs + "/" + std::to_string(p1));
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "account_id") == account);
    CHECK_STATUS(admin.del(programs + "/" + std::to_string(p1)), 200);
    CHECK(program_ids(admin, account) == std::vector<std::int64_t>{p2});
    CHECK_STATUS(admin.get(programs + "/" + std::to_string(p2) + "/delete"), 200);
    CHECK(program_ids(admin, account).empty());

    // Clear all.
    CHECK_STATUS(admin.put(programs + "/" + std::to_string(p1)), 200);
    CHECK_STATUS(admin.put(programs + "/" + std::to_string(p2)), 200);
    r = admin.del(programs);
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "account_id") == account);
    CHECK(program_ids(admin, account).empty());
    CHECK_STATUS(admin.put(programs + "/" + std::to_string(p1)), 200);
    CHECK_STATUS(admin.get(programs + "/delete"), 200);
    CHECK(program_ids(admin, account).empty());

    // A plain user can read its account but not subscribe it, nor reach the admin's program.
    const std::int64_t alice_id = create_user(admin, "alice", "alice-pass-1");
    const std::int64_t alice_account = int_field(accounts_of(admin, alice_id)[0].as_object(), "account_id");
    Client alice = client_as(server, "alice", "alice-pass-1");
    check_error(alice.put(account_path(alice_account) + "/programs/" + std::to_string(p1)), 403);
    CHECK(program_ids(alice, alice_account).empty());
    check_error(alice.get(account_path(account) + "/programs"), 404);
    // An admin may subscribe her account to its program.
    CHECK_STATUS(admin.put(account_path(alice_account) + "/programs/" + std::to_string(p1)), 200);
    CHECK(program_ids(admin, alice_account) == std::vector<std::int64_t>{p1});
}

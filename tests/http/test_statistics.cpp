// GET /statistics: every key present as an integer, counts follow creates and deletes, and a
// user counts only its own rows.
#include "helpers.hpp"

namespace {

const std::vector<std::string> keys = {"campaign_total", "campaign_active",    "group_total",
                                       "contact_total",  "transmission_total", "transmission_active",
                                       "spool_total",    "spool_success",      "spool_failed"};

json::object stats(Client& c) {
    Response r = c.get("/statistics");
    REQUIRE_STATUS(r, 200);
    CHECK(r.header("Content-Type").value_or("").find("application/json") != std::string::npos);
    json::object o = as_object(r);
    for (const auto& k : keys) {
        CAPTURE(k);
        REQUIRE(o.contains(k));
        CHECK(as_int(o.at(k)) >= 0);
    }
    return o;
}

}  // namespace

TEST_CASE("statistics: keys, counts, deletes, per-user scope") {
    ServerProcess server;
    Client admin = admin_client(server);

    json::object s = stats(admin);
    for (const auto& k : keys) {
        CAPTURE(k);
        CHECK(as_int(s.at(k)) == 0);
    }

    std::int64_t c1 = create_contact(admin, "One", "3001000001");
    create_contact(admin, "Two", "3001000002");
    create_contact(admin, "Three", "3001000003");
    std::int64_t g1 = create_group(admin, "G1");
    create_group(admin, "G2");
    s = stats(admin);
    CHECK(int_field(s, "contact_total") == 3);
    CHECK(int_field(s, "group_total") == 2);
    CHECK(int_field(s, "campaign_total") == 0);
    CHECK(int_field(s, "transmission_total") == 0);
    CHECK(int_field(s, "spool_total") == 0);

    // A CSV import counts; a delete uncounts; links do not change contact counts.
    Response r = admin.post_raw("/groups/" + std::to_string(g1) + "/csv", "3001000004\n3001000005\n", "text/csv");
    REQUIRE_STATUS(r, 200);
    CHECK_STATUS(admin.put("/contacts/" + std::to_string(c1) + "/link/" + std::to_string(g1)), 200);
    s = stats(admin);
    CHECK(int_field(s, "contact_total") == 5);
    CHECK_STATUS(admin.del("/contacts/" + std::to_string(c1)), 200);
    CHECK_STATUS(admin.del("/groups/" + std::to_string(g1)), 200);
    s = stats(admin);
    CHECK(int_field(s, "contact_total") == 4);
    CHECK(int_field(s, "group_total") == 1);

    // A user counts only its own rows; admin counts all.
    create_user(admin, "stat", "stat-pass-1");
    Client user = client_as(server, "stat", "stat-pass-1");
    json::object us = stats(user);
    CHECK(int_field(us, "contact_total") == 0);
    CHECK(int_field(us, "group_total") == 0);
    create_contact(user, "Mine", "3002000001");
    create_group(user, "Mine");
    us = stats(user);
    CHECK(int_field(us, "contact_total") == 1);
    CHECK(int_field(us, "group_total") == 1);
    s = stats(admin);
    CHECK(int_field(s, "contact_total") == 5);
    CHECK(int_field(s, "group_total") == 2);

    // Basic auth works here too; no auth is 401.
    Client basic = server.client();
    basic.set_basic("stat", "stat-pass-1");
    r = basic.get("/statistics");
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "contact_total") == 1);
    check_error(server.client().get("/statistics"), 401);
}

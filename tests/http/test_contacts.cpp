// Contacts: CRUD, phone and field validation, list filters, paging and sorting, group links.
#include "helpers.hpp"

#include <set>
#include <thread>

namespace {

json::object full_contact() {
    return json::object{
        {"first_name", "First"},         {"last_name", "Last"}, {"phone", 3001234567}, {"email", "first@example.com"},
        {"address", "1 Main St"},        {"custom1", "c1"},     {"custom2", "c 2"},    {"custom3", "c3"},
        {"description", "a description"}};
}

std::int64_t contacts_total(Client& c) {
    Response r = c.get("/contacts");
    REQUIRE_STATUS(r, 200);
    return total_count(r);
}

}  // namespace

TEST_CASE("contacts: create, read, update, delete") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t admin_id = user_id_of(admin, "admin");

    Response r = admin.post("/contacts", full_contact());
    std::int64_t id = created_id(r, "contact_id");
    CHECK(r.header("Content-Type").value_or("").find("application/json") != std::string::npos);

    const std::string path = "/contacts/" + std::to_string(id);
    r = admin.get(path);
    REQUIRE_STATUS(r, 200);
    json::object c = as_object(r);
    CHECK(int_field(c, "contact_id") == id);
    CHECK(str_field(c, "first_name") == "First");
    CHECK(str_field(c, "last_name") == "Last");
    CHECK(str_field(c, "phone") == "3001234567");  // number in, string out
    CHECK(str_field(c, "email") == "first@example.com");
    CHECK(str_field(c, "address") == "1 Main St");
    CHECK(str_field(c, "custom1") == "c1");
    CHECK(str_field(c, "custom2") == "c 2");
    CHECK(str_field(c, "custom3") == "c3");
    CHECK(str_field(c, "description") == "a description");
    CHECK(int_field(c, "created_by") == admin_id);

    // Phone as a string, with formatting; ids, owner and unknown keys in the body are ignored.
    r = admin.post("/contacts", json::object{{"first_name", "Second"},
                                             {"phone", "+1 (555) 010-2030"},
                                             {"contact_id", 424242},
                                             {"created_by", 999},
                                             {"no_such_field", "ignored"}});
    std::int64_t id2 = created_id(r, "contact_id");
    CHECK(id2 != id);
    CHECK(id2 != 424242);
    r = admin.get("/contacts/" + std::to_string(id2));
    REQUIRE_STATUS(r, 200);
    c = as_object(r);
    CHECK(phone_digits(str_field(c, "phone")) == "+15550102030");
    CHECK(int_field(c, "created_by") == admin_id);
    CHECK(!c.contains("no_such_field"));
    check_error(admin.get("/contacts/424242"), 404);
    // Only the required fields: optional ones are absent or null, never invented.
    CHECK(!opt_str(c, "email").has_value());
    CHECK(!opt_str(c, "last_name").has_value());

    // Partial update: only the fields given change; returns the whole object.
    r = admin.put(path, json::object{{"last_name", "Changed"}, {"custom2", "new 2"}});
    REQUIRE_STATUS(r, 200);
    c = as_object(r);
    CHECK(int_field(c, "contact_id") == id);
    CHECK(str_field(c, "last_name") == "Changed");
    CHECK(str_field(c, "custom2") == "new 2");
    CHECK(str_field(c, "first_name") == "First");
    CHECK(str_field(c, "phone") == "3001234567");
    CHECK(str_field(c, "email") == "first@example.com");
    CHECK(str_field(c, "description") == "a description");
    r = admin.get(path);
    c = as_object(r);
    CHECK(str_field(c, "last_name") == "Changed");
    CHECK(str_field(c, "custom1") == "c1");

    // Phone update as a number; id and owner in the body are ignored.
    r = admin.put(path, json::object{{"phone", 4441234567}, {"contact_id", id2}, {"created_by", 999}});
    REQUIRE_STATUS(r, 200);
    c = as_object(r);
    CHECK(str_field(c, "phone") == "4441234567");
    CHECK(int_field(c, "contact_id") == id);
    CHECK(int_field(c, "created_by") == admin_id);
    CHECK(str_field(as_object(admin.get("/contacts/" + std::to_string(id2))), "first_name") == "Second");

    // An empty PUT body changes nothing.
    r = admin.put(path, json::object{});
    REQUIRE_STATUS(r, 200);
    CHECK(str_field(as_object(r), "last_name") == "Changed");

    // Delete (and GET …/delete).
    r = admin.del(path);
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(path), 404);
    check_error(admin.put(path, json::object{{"first_name", "Zombie"}}), 404);
    check_error(admin.del(path), 404);
    check_error(admin.get(path + "/delete"), 404);
    r = admin.get("/contacts/" + std::to_string(id2) + "/delete");
    CHECK_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get("/contacts/" + std::to_string(id2)), 404);
    CHECK(contacts_total(admin) == 0);
}

TEST_CASE("contacts: validation (phone rules, required fields, types, lengths, email)") {
    ServerProcess server;
    Client admin = admin_client(server);

    auto expect_phone_412 = [&](const json::value& phone) {
        CAPTURE(json::serialize(phone));
        std::string msg =
            check_error(admin.post("/contacts", json::object{{"first_name", "P"}, {"phone", phone}}), 412);
        CHECK_MESSAGE(contains_ci(msg, "phone"), "the message should name the field: " << msg);
    };
    auto expect_phone_ok = [&](const json::value& phone, const std::string& digits) {
        CAPTURE(json::serialize(phone));
        Response r = admin.post("/contacts", json::object{{"first_name", "P"}, {"phone", phone}});
        CHECK_STATUS(r, 200);
        if (r.status != 200) return;
        std::int64_t id = int_field(as_object(r), "contact_id");
        Response g = admin.get("/contacts/" + std::to_string(id));
        REQUIRE_STATUS(g, 200);
        CHECK(phone_digits(str_field(as_object(g), "phone")) == digits);
    };

    // Valid: optional '+', 3-15 digits after removing spaces, dashes, dots and parentheses.
    expect_phone_ok("123", "123");
    expect_phone_ok("123456789012345", "123456789012345");
    expect_phone_ok("+923001234567", "+923001234567");
    expect_phone_ok("300.123.4567", "3001234567");
    expect_phone_ok("(300) 123-4567", "3001234567");
    expect_phone_ok("+44 20 7946 0958", "+442079460958");
    expect_phone_ok(3001234567, "3001234567");
    expect_phone_ok(123, "123");
    std::int64_t valid = contacts_total(admin);
    CHECK(valid == 8);

    // Invalid.
    expect_phone_412("12");
    expect_phone_412("1-2");
    expect_phone_412("1234567890123456");  // 16 digits
    expect_phone_412("abc");
    expect_phone_412("300123456x");
    expect_phone_412("+");
    expect_phone_412("++12345");
    expect_phone_412("123+456");
    expect_phone_412("");
    expect_phone_412("   ");
    expect_phone_412("300/123/4567");
    expect_phone_412("#3001234567");
    expect_phone_412(12);
    expect_phone_412(1234567890123456);  // 16 digits as a number
    expect_phone_412(true);
    expect_phone_412(nullptr);
    expect_phone_412(json::array{"3001234567"});
    expect_phone_412(json::object{{"number", "3001234567"}});
    std::string msg = check_error(admin.post("/contacts", json::object{{"first_name", "NoPhone"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "phone"), msg);

    // first_name is required and non-empty; type errors name the field.
    msg = check_error(admin.post("/contacts", json::object{{"phone", "3001234567"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "first_name"), msg);
    msg = check_error(admin.post("/contacts", json::object{{"first_name", ""}, {"phone", "3001234567"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "first_name"), msg);
    msg = check_error(admin.post("/contacts", json::object{{"first_name", nullptr}, {"phone", "3001234567"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "first_name"), msg);
    msg = check_error(admin.post("/contacts", json::object{{"first_name", 123}, {"phone", "3001234567"}}), 412);
    CHECK_MESSAGE(contains_ci(msg, "first_name"), msg);
    msg = check_error(admin.post("/contacts", json::object{{"first_name", "T"}, {"phone", "3001234567"}, {"email", 5}}),
                      412);
    CHECK_MESSAGE(contains_ci(msg, "email"), msg);
    msg = check_error(
        admin.post("/contacts",
                   json::object{{"first_name", "T"}, {"phone", "3001234567"}, {"description", json::array{}}}),
        412);
    CHECK_MESSAGE(contains_ci(msg, "description"), msg);
    check_error(admin.post("/contacts", json::object{{"first_name", "T"}, {"phone", "3001234567"}, {"custom1", true}}),
                412);
    check_error(admin.post("/contacts", json::object{{"first_name", json::object{}}, {"phone", "3001234567"}}), 412);

    // e-mail syntax.
    for (const char* bad : {"not-an-email", "a@", "@example.com", "a b@example.com", "a@@example.com"}) {
        CAPTURE(bad);
        msg = check_error(
            admin.post("/contacts", json::object{{"first_name", "T"}, {"phone", "3001234567"}, {"email", bad}}), 412);
        CHECK_MESSAGE(contains_ci(msg, "email"), msg);
    }
    CHECK_STATUS(admin.post("/contacts", json::object{{"first_name", "T"},
                                                      {"phone", "3001234567"},
                                                      {"email", "first.last+tag@sub.example.org"}}),
                 200);

    // Lengths: first_name up to 255, address up to 1024.
    CHECK_STATUS(admin.post("/contacts", json::object{{"first_name", std::string(255, 'n')}, {"phone", "3001234567"}}),
                 200);
    check_error(admin.post("/contacts", json::object{{"first_name", std::string(256, 'n')}, {"phone", "3001234567"}}),
                412);
    CHECK_STATUS(
        admin.post("/contacts",
                   json::object{{"first_name", "A"}, {"phone", "3001234567"}, {"address", std::string(1024, 'a')}}),
        200);
    msg = check_error(
        admin.post("/contacts",
                   json::object{{"first_name", "A"}, {"phone", "3001234567"}, {"address", std::string(1025, 'a')}}),
        412);
    CHECK_MESSAGE(contains_ci(msg, "address"), msg);

    // Unicode text survives the round trip.
    {
        const std::string name = "Zoë Łukasz 山田";
        std::int64_t id = create_contact(admin, json::object{{"first_name", name}, {"phone", "3001234567"}});
        CHECK(str_field(as_object(admin.get("/contacts/" + std::to_string(id))), "first_name") == name);
    }

    // None of the rejected requests stored anything.
    CHECK(contacts_total(admin) == valid + 4);

    // Failed updates leave the row unchanged.
    std::int64_t id = create_contact(
        admin, json::object{{"first_name", "Keep"}, {"phone", "3009998888"}, {"email", "keep@example.com"}});
    const std::string path = "/contacts/" + std::to_string(id);
    check_error(admin.put(path, json::object{{"phone", "12"}}), 412);
    check_error(admin.put(path, json::object{{"phone", nullptr}}), 412);
    check_error(admin.put(path, json::object{{"first_name", ""}}), 412);
    check_error(admin.put(path, json::object{{"first_name", nullptr}}), 412);
    check_error(admin.put(path, json::object{{"email", "broken@"}}), 412);
    check_error(admin.put(path, json::object{{"last_name", 42}}), 412);
    // A valid field next to an invalid one is not applied either (atomic update).
    check_error(admin.put(path, json::object{{"last_name", "Partial"}, {"phone", "x"}}), 412);
    check_error(admin.put_raw(path, "{\"first_name\": \"Broken\""), 412);
    check_error(admin.put_raw(path, "[1,2,3]"), 412);
    json::object c = as_object(admin.get(path));
    CHECK(str_field(c, "first_name") == "Keep");
    CHECK(str_field(c, "phone") == "3009998888");
    CHECK(str_field(c, "email") == "keep@example.com");
    CHECK(!opt_str(c, "last_name").has_value());
}

TEST_CASE("contacts: list filters, paging, sorting") {
    ServerProcess server;
    Client admin = admin_client(server);

    struct Row {
        const char* first;
        const char* last;
        const char* phone;
        const char* email;
    };
    const std::vector<Row> rows = {
        {"Alice", "Smith", "3001110001", "alice@x.org"}, {"Bob", "Smithers", "3001110002", "bob@x.org"},
        {"Carol", "Jones", "4441110001", "carol@y.org"}, {"Alicia", "Brown", "5550000123", "alicia@y.org"},
        {"Dave", "Black", "6660000111", "dave@z.org"},   {"Erin", "White", "7770000222", "erin@z.org"},
        {"Frank", "Green", "8880000333", "frank@z.org"}, {"Grace", "Gray", "9990000444", "grace@z.org"},
        {"Heidi", "Stone", "3330000555", "heidi@z.org"}, {"Ivan", "Wood", "2220000666", "ivan@z.org"},
        {"Judy", "Reed", "1110000777", "judy@z.org"},    {"Ken", "Hill", "1230000888", "ken@z.org"},
    };
    std::vector<std::int64_t> ids;
    for (const auto& row : rows)
        ids.push_back(create_contact(
            admin,
            json::object{
                {"first_name", row.first}, {"last_name", row.last}, {"phone", row.phone}, {"email", row.email}}));
    const auto n = static_cast<std::int64_t>(rows.size());

    auto names = [&](const std::string& query, std::int64_t expected_total) {
        Response r = admin.get("/contacts" + query);
        REQUIRE_STATUS(r, 200);
        CHECK_MESSAGE(total_count(r) == expected_total, query << ": " << r.describe());
        return strings_of(as_array(r), "first_name");
    };
    using Names = std::vector<std::string>;

    // Everything, in id order by default.
    {
        Response r = admin.get("/contacts");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == n);
        CHECK(ids_of(as_array(r), "contact_id") == ids);
    }
    // Text fields: case-insensitive substring.
    CHECK(names("?first_name=ali", 2) == Names{"Alice", "Alicia"});
    CHECK(names("?first_name=ALI", 2) == Names{"Alice", "Alicia"});
    CHECK(names("?first_name=lic", 2) == Names{"Alice", "Alicia"});
    CHECK(names("?last_name=smith", 2) == Names{"Alice", "Bob"});
    CHECK(names("?email=" + url_encode("@y.org"), 2) == Names{"Carol", "Alicia"});
    CHECK(names("?email=" + url_encode("alice@x.org"), 1) == Names{"Alice"});
    CHECK(names("?first_name=nobody", 0).empty());
    // Phone: suffix, not substring.
    CHECK(names("?phone=1110001", 2) == Names{"Alice", "Carol"});
    CHECK(names("?phone=0001", 2) == Names{"Alice", "Carol"});
    CHECK(names("?phone=300111", 0).empty());
    CHECK(names("?phone=3001110002", 1) == Names{"Bob"});
    // Ids: exact (id 1 must not match 10, 11, 12).
    CHECK(names("?contact_id=" + std::to_string(ids[0]), 1) == Names{"Alice"});
    CHECK(names("?contact_id=" + std::to_string(ids[10]), 1) == Names{"Judy"});
    CHECK(names("?contact_id=999999", 0).empty());
    // Several filters combine with AND.
    CHECK(names("?first_name=a&last_name=o", 3) == Names{"Carol", "Alicia", "Ivan"});
    // Unknown keys are ignored.
    CHECK(names("?no_such_key=zzz", n).size() == rows.size());
    // limit / offset; X-Total-Count ignores them.
    {
        Response r = admin.get("/contacts?limit=3");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == n);
        CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>(ids.begin(), ids.begin() + 3));
        r = admin.get("/contacts?limit=3&offset=2");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == n);
        CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>(ids.begin() + 2, ids.begin() + 5));
        r = admin.get("/contacts?offset=10");
        REQUIRE_STATUS(r, 200);
        CHECK(ids_of(as_array(r), "contact_id") == std::vector<std::int64_t>(ids.begin() + 10, ids.end()));
        r = admin.get("/contacts?limit=5&offset=100");
        REQUIRE_STATUS(r, 200);
        CHECK(as_array(r).empty());
        CHECK(total_count(r) == n);
        r = admin.get("/contacts?limit=0");
        REQUIRE_STATUS(r, 200);
        CHECK(as_array(r).empty());
    }
    // sort, ascending and descending; combined with filter and limit.
    {
        Names all = names("?sort=first_name", n);
        Names sorted = all;
        std::sort(sorted.begin(), sorted.end());
        CHECK(all == sorted);
        CHECK(all.front() == "Alice");
        Names desc = names("?sort=-first_name", n);
        CHECK(desc == Names(sorted.rbegin(), sorted.rend()));
        CHECK(names("?sort=phone&limit=2", n) == Names{"Judy", "Ken"});
        CHECK(names("?sort=-contact_id&limit=2", n) == Names{"Ken", "Judy"});
        CHECK(names("?last_name=smith&sort=-first_name&limit=1", 2) == Names{"Bob"});
        CHECK(names("?sort=last_name&first_name=a", 7) ==
              Names{"Dave", "Alicia", "Grace", "Frank", "Carol", "Alice", "Ivan"});
    }
    // Query values are percent-decoded.
    CHECK(names("?first_name=%41lice", 1) == Names{"Alice"});
    CHECK(names("?last_name=%53mith", 2) == Names{"Alice", "Bob"});
    // Filter text is literal: SQL LIKE wildcards match only themselves.
    CHECK(names("?first_name=" + url_encode("%"), 0).empty());
    CHECK(names("?first_name=_", 0).empty());
    CHECK(names("?first_name=" + url_encode("A%e"), 0).empty());
    CHECK(names("?email=" + url_encode("_@x.org"), 0).empty());
    CHECK(names("?phone=" + url_encode("%1"), 0).empty());
    // Hostile or malformed paging/sorting values: refused (412) or ignored, never a 500,
    // and the table is intact afterwards.
    for (const std::string q : {"?limit=-1", "?offset=-5", "?limit=abc", "?offset=1x", "?sort=no_such_field",
                                "?sort=first_name;DROP%20TABLE%20contact", "?sort=-", "?limit=99999999999999999999",
                                "?first_name=%27%20OR%201=1--"}) {
        CAPTURE(q);
        Response r = admin.get("/contacts" + q);
        CHECK_MESSAGE((r.status == 200 || r.status == 412), r.describe());
        if (r.status == 412) check_error(r, 412);
    }
    // Broken percent-encoding is a malformed request target: 400 is fine too.
    for (const std::string q : {"?%zz=1", "?first_name=%", "?first_name=%4"}) {
        CAPTURE(q);
        Response r = admin.get("/contacts" + q);
        CHECK_MESSAGE((r.status == 200 || r.status == 400 || r.status == 412), r.describe());
        if (r.status != 200) check_error(r, r.status);
    }
    {
        Response r = admin.get("/contacts?first_name=%27%20OR%201=1--");
        if (r.status == 200) CHECK(as_array(r).empty());
    }
    CHECK(names("", n).size() == rows.size());
}

TEST_CASE("contacts: concurrent writers and readers") {
    ServerProcess server;
    const std::string token = login(server, "admin", server.admin_password());
    constexpr int writers = 6, per_writer = 40;
    std::vector<std::vector<Response>> results(writers);
    std::vector<std::string> errors(writers + 1);
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
        threads.emplace_back([&, w] {
            try {
                Client c = server.client(w % 2 == 0);
                c.set_bearer(token);
                for (int i = 0; i < per_writer; ++i)
                    results[w].push_back(
                        c.post("/contacts", json::object{{"first_name", "W" + std::to_string(w)},
                                                         {"phone", "300" + std::to_string(1000000 + i)}}));
            } catch (const std::exception& e) {
                errors[w] = e.what();
            }
        });
    }
    std::vector<unsigned> read_statuses;
    threads.emplace_back([&] {
        try {
            Client c = server.client(true);
            c.set_bearer(token);
            for (int i = 0; i < 30; ++i) read_statuses.push_back(c.get("/contacts?limit=5").status);
        } catch (const std::exception& e) {
            errors[writers] = e.what();
        }
    });
    for (auto& t : threads) t.join();
    for (const auto& e : errors) CHECK_MESSAGE(e.empty(), e);
    std::set<std::int64_t> ids;
    int failures = 0;
    std::string first_failure;
    for (const auto& list : results)
        for (const auto& r : list) {
            if (r.status != 200) {
                if (failures++ == 0) first_failure = r.describe();
                continue;
            }
            ids.insert(int_field(as_object(r), "contact_id"));
        }
    CHECK_MESSAGE(failures == 0, failures << " concurrent creates failed; first: " << first_failure);
    CHECK(ids.size() == static_cast<std::size_t>(writers * per_writer));
    CHECK(std::count(read_statuses.begin(), read_statuses.end(), 200u) == 30);
    Client admin = admin_client(server);
    Response r = admin.get("/contacts");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == writers * per_writer);
    r = admin.get("/contacts?first_name=W3");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == per_writer);
}

TEST_CASE("contacts: unknown and non-numeric ids, unknown routes") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t id = create_contact(admin, "Only", "3001234567");
    std::int64_t group = create_group(admin, "g");

    for (const std::string& target :
         std::vector<std::string>{"/contacts/999999", "/contacts/0", "/contacts/-1", "/contacts/abc",
                                  "/contacts/" + std::to_string(id) + "x", "/contacts/1.5",
                                  "/contacts/99999999999999999999999", "/contacts/1e3"}) {
        CAPTURE(target);
        check_error(admin.get(target), 404);
        check_error(admin.put(target, json::object{{"first_name", "x"}}), 404);
        check_error(admin.del(target), 404);
    }
    check_error(admin.get("/contacts/abc/delete"), 404);
    check_error(admin.get("/contacts/999999/delete"), 404);
    // Unknown routes and wrong methods on known paths.
    check_error(admin.get("/"), 404);
    check_error(admin.get("/nothing"), 404);
    check_error(admin.get("/contacts/" + std::to_string(id) + "/nothing"), 404);
    check_error(admin.post("/contacts/" + std::to_string(id), json::object{{"first_name", "x"}}), 404);
    check_error(admin.put("/contacts", json::object{{"first_name", "x"}}), 404);
    check_error(admin.del("/contacts"), 404);
    check_error(admin.get("/contacts/" + std::to_string(id) + "/link/" + std::to_string(group)), 404);
    // Still there, unchanged.
    CHECK(str_field(as_object(admin.get("/contacts/" + std::to_string(id))), "first_name") == "Only");
    CHECK(contacts_total(admin) == 1);
}

TEST_CASE("contacts: link to and unlink from groups") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t c1 = create_contact(admin, json::object{{"first_name", "Linked"}, {"phone", "3001230001"}});
    std::int64_t c2 = create_contact(admin, "Second", "3001230002");
    std::int64_t g1 = create_group(admin, "group one");
    std::int64_t g2 = create_group(admin, "group two");

    auto group_total = [&](std::int64_t g) {
        Response r = admin.get("/groups/" + std::to_string(g));
        REQUIRE_STATUS(r, 200);
        return int_field(as_object(r), "contact_total");
    };
    auto members = [&](std::int64_t g) {
        Response r = admin.get("/groups/" + std::to_string(g) + "/contacts");
        REQUIRE_STATUS(r, 200);
        auto v = ids_of(as_array(r), "contact_id");
        CHECK(total_count(r) == static_cast<std::int64_t>(v.size()));
        std::sort(v.begin(), v.end());
        return v;
    };
    using Ids = std::vector<std::int64_t>;
    const std::string link1 = "/contacts/" + std::to_string(c1) + "/link/" + std::to_string(g1);

    Response r = admin.put(link1);
    REQUIRE_STATUS(r, 200);
    json::object c = as_object(r);
    CHECK(int_field(c, "contact_id") == c1);
    CHECK(str_field(c, "first_name") == "Linked");
    CHECK(str_field(c, "phone") == "3001230001");
    CHECK(group_total(g1) == 1);
    CHECK(members(g1) == Ids{c1});
    CHECK(group_total(g2) == 0);
    // Idempotent.
    CHECK_STATUS(admin.put(link1), 200);
    CHECK(group_total(g1) == 1);
    CHECK(members(g1) == Ids{c1});
    // A contact in two groups, a group with two contacts.
    CHECK_STATUS(admin.put("/contacts/" + std::to_string(c1) + "/link/" + std::to_string(g2)), 200);
    CHECK_STATUS(admin.put("/contacts/" + std::to_string(c2) + "/link/" + std::to_string(g1)), 200);
    CHECK(members(g1) == Ids{c1, c2});
    CHECK(members(g2) == Ids{c1});
    CHECK(group_total(g1) == 2);

    // Unlink returns the contact.
    r = admin.del(link1);
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "contact_id") == c1);
    CHECK(members(g1) == Ids{c2});
    CHECK(group_total(g1) == 1);
    CHECK(members(g2) == Ids{c1});
    // Idempotent.
    CHECK_STATUS(admin.del(link1), 200);
    CHECK(group_total(g1) == 1);
    // GET …/delete is the same as DELETE.
    r = admin.get("/contacts/" + std::to_string(c2) + "/link/" + std::to_string(g1) + "/delete");
    CHECK_STATUS(r, 200);
    CHECK(group_total(g1) == 0);

    // Deleting a contact removes it from its groups.
    CHECK(group_total(g2) == 1);
    CHECK_STATUS(admin.del("/contacts/" + std::to_string(c1)), 200);
    CHECK(group_total(g2) == 0);
    CHECK(members(g2).empty());

    // Unknown or non-numeric contact or group.
    const std::string c2s = std::to_string(c2), g1s = std::to_string(g1);
    check_error(admin.put("/contacts/" + c2s + "/link/999999"), 404);
    check_error(admin.put("/contacts/999999/link/" + g1s), 404);
    check_error(admin.put("/contacts/" + std::to_string(c1) + "/link/" + g1s), 404);  // deleted contact
    check_error(admin.put("/contacts/" + c2s + "/link/abc"), 404);
    check_error(admin.put("/contacts/abc/link/" + g1s), 404);
    check_error(admin.del("/contacts/" + c2s + "/link/999999"), 404);
    check_error(admin.del("/contacts/999999/link/" + g1s), 404);
    CHECK(group_total(g1) == 0);
}

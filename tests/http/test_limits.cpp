// Bad input, body limits and timeouts: malformed JSON stores nothing, bodies over --max-body
// (and CSV over --max-import) get 413, slow clients are cut off after --header-timeout /
// --body-timeout / --idle-timeout while others are still served, and garbage never kills
// the server.
#include "helpers.hpp"

#include <thread>

namespace {

std::int64_t contacts_total(Client& c) {
    Response r = c.get("/contacts");
    REQUIRE_STATUS(r, 200);
    return total_count(r);
}

// A valid contact body padded with trailing JSON whitespace to exactly `size` bytes.
std::string contact_body_of_size(std::size_t size) {
    std::string body = R"({"first_name":"Pad","phone":"3001234567"})";
    REQUIRE(body.size() <= size);
    body.append(size - body.size(), ' ');
    return body;
}

std::string request_head(const std::string& method, const std::string& target, const std::string& auth,
                         std::size_t content_length, bool keep_alive = false) {
    std::string head = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth;
    if (content_length)
        head += "Content-Type: application/json\r\nContent-Length: " + std::to_string(content_length) + "\r\n";
    if (!keep_alive) head += "Connection: close\r\n";
    return head + "\r\n";
}

}  // namespace

TEST_CASE("bad input: malformed JSON is 412 with a position, and nothing is stored") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t group = create_group(admin, "g");

    const std::vector<std::string> malformed = {
        "{\"first_name\": \"x\", \"phone\": ",                  // truncated
        "{\"first_name\": \"x\", \"phone\": \"3001234567\",}",  // trailing comma
        "{'first_name': 'x', 'phone': '3001234567'}",           // single quotes
        "{\"first_name\": \"x\", \"phone\": \"3001234567\"} trailing",
        "{\"first_name\": \"x\" \"phone\": \"3001234567\"}",  // missing comma
        "{first_name: \"x\"}",
        "nul",
        "{\"first_name\": \"\xff\xfe\", \"phone\": \"3001234567\"}",  // invalid UTF-8
        "{\"first_name\": \"x\", \"phone\": \"3001234567\"",          // unterminated object
    };
    for (const auto& body : malformed) {
        CAPTURE(body);
        Response r = admin.post_raw("/contacts", body);
        std::string msg = check_error(r, 412);
        CHECK_MESSAGE(msg.find_first_of("0123456789") != std::string::npos,
                      "the message should say where parsing stopped: " << msg);
    }
    // Not an object.
    for (const std::string body :
         {"[]", "[{\"first_name\":\"x\",\"phone\":\"3001234567\"}]", "\"text\"", "42", "null", "true"}) {
        CAPTURE(body);
        check_error(admin.post_raw("/contacts", body), 412);
    }
    // Deep nesting must not crash the server.
    check_error(admin.post_raw("/contacts", std::string(100000, '[')), 412);
    check_error(admin.post_raw("/contacts", "{\"first_name\":" + std::string(5000, '[') + std::string(5000, ']') + "}"),
                412);
    // Group and user bodies too.
    check_error(admin.post_raw("/groups", "{\"name\": "), 412);
    check_error(admin.put_raw("/groups/" + std::to_string(group), "{\"name\": "), 412);
    check_error(admin.post_raw("/users", "{\"username\": \"u\", \"passwd\": "), 412);

    CHECK(contacts_total(admin) == 0);
    Response g = admin.get("/groups");
    REQUIRE_STATUS(g, 200);
    CHECK(total_count(g) == 1);
    CHECK(str_field(as_object(admin.get("/groups/" + std::to_string(group))), "name") == "g");
    Response u = admin.get("/users");
    REQUIRE_STATUS(u, 200);
    CHECK(total_count(u) == 1);

    // The server is fine afterwards.
    CHECK(create_contact(admin, "After", "3001234567") > 0);

    // The default --max-body is 1 MiB.
    CHECK_STATUS(admin.post_raw("/contacts", contact_body_of_size(1024 * 1024)), 200);
    check_error(admin.post_raw("/contacts", contact_body_of_size(1024 * 1024 + 1)), 413);
    CHECK(contacts_total(admin) == 2);
}

TEST_CASE("limits: --max-body and --max-import give 413 and store nothing") {
    ServerProcess server(with_args({"--max-body", "4096", "--max-import", "65536"}));
    Client admin = admin_client(server);
    std::int64_t group = create_group(admin, "limits");

    // Exactly the limit is accepted; one byte more is 413.
    CHECK_STATUS(admin.post_raw("/contacts", contact_body_of_size(4096)), 200);
    check_error(admin.post_raw("/contacts", contact_body_of_size(4097)), 413);
    check_error(admin.post_raw("/contacts", contact_body_of_size(1 << 20)), 413);
    // A chunked body over the limit (no Content-Length to check up front).
    check_error(admin.request_chunked("POST", "/contacts", contact_body_of_size(8192), "application/json"), 413);
    CHECK_STATUS(admin.request_chunked("POST", "/contacts", contact_body_of_size(1000), "application/json"), 200);
    // PUT is limited too.
    std::int64_t id = create_contact(admin, "Limit", "3007654321");
    check_error(admin.put_raw("/contacts/" + std::to_string(id), contact_body_of_size(5000)), 413);
    CHECK(str_field(as_object(admin.get("/contacts/" + std::to_string(id))), "first_name") == "Limit");
    // Login bodies too.
    {
        Client anon = server.client();
        std::string big = R"({"username":"admin","password":")" + server.admin_password() + "\"}";
        big.append(5000, ' ');
        check_error(anon.post_raw("/authentication", big), 413);
    }
    CHECK(contacts_total(admin) == 3);

    // CSV import uses --max-import, not --max-body.
    std::string csv;
    int rows = 0;
    while (csv.size() < 20000) {
        csv += "+1666" + std::to_string(1000000 + rows) + ",Row" + std::to_string(rows) + "\n";
        ++rows;
    }
    Response r = admin.post_raw("/groups/" + std::to_string(group) + "/csv", csv, "text/csv");
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "imported") == rows);
    std::string too_big;
    int n = 0;
    while (too_big.size() <= 65536) {
        too_big += "+1777" + std::to_string(1000000 + n) + ",Big" + std::to_string(n) + "\n";
        ++n;
    }
    std::int64_t g2 = create_group(admin, "too big");
    check_error(admin.post_raw("/groups/" + std::to_string(g2) + "/csv", too_big, "text/csv"), 413);
    check_error(admin.request_chunked("POST", "/groups/" + std::to_string(g2) + "/csv", too_big, "text/csv"), 413);
    CHECK(int_field(as_object(admin.get("/groups/" + std::to_string(g2))), "contact_total") == 0);
    CHECK(contacts_total(admin) == 3 + rows);

    // The server keeps serving new connections after refusing big bodies.
    Client fresh = admin_client(server, false);
    CHECK_STATUS(fresh.get("/statistics"), 200);
}

TEST_CASE("limits: garbage and oversized requests do not take the server down") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::string token = login(server, "admin", server.admin_password());

    auto garbage = [&](const std::string& bytes) {
        RawConnection raw(server.port());
        raw.send(bytes);
        auto res = raw.read_until_close(5s);
        CHECK_MESSAGE(res.closed, "server should answer and/or close the connection: " << res.data.substr(0, 200));
        CHECK_MESSAGE(res.data.rfind("HTTP/1.1 2", 0) != 0,
                      "garbage must not be answered 2xx: " << res.data.substr(0, 200));
    };
    garbage("GARBAGE\r\n\r\n");
    garbage(std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(300, '\0'));  // a TLS hello
    garbage("GET /statistics HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(200000, 'a') + "\r\n\r\n");
    garbage("POST /contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
            "\r\nContent-Length: -5\r\n\r\n{}");
    garbage("POST /contacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
            "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");

    // A client that disconnects half-way through a body.
    {
        RawConnection raw(server.port());
        raw.send(request_head("POST", "/contacts", "Authorization: Bearer " + token + "\r\n", 100));
        raw.send("{\"first_name\": \"Half\"");
        raw.close();
    }
    std::this_thread::sleep_for(100ms);
    CHECK(contacts_total(admin) == 0);
    CHECK_STATUS(admin.get("/statistics"), 200);
    CHECK(create_contact(admin, "Alive", "3001234567") > 0);
}

TEST_CASE("timeouts: stalled and slow clients are disconnected while others are served") {
    ServerProcess server(with_args({"--header-timeout", "1", "--body-timeout", "1", "--idle-timeout", "1"}));
    Client admin = admin_client(server, false);
    const std::string auth = "Authorization: Bearer " + login(server, "admin", server.admin_password()) + "\r\n";
    using Clock = std::chrono::steady_clock;

    SUBCASE("half a header, then a stall; a normal client is served meanwhile") {
        std::vector<RawConnection> stalled;
        auto start = Clock::now();
        for (int i = 0; i < 8; ++i) {
            stalled.emplace_back(server.port());
            REQUIRE(stalled.back().send("GET /statistics HTTP/1.1\r\nHost: 127.0.0.1\r\n"));
        }
        // Served while all eight stall (well before the 1 s header timeout).
        Response r = admin.get("/statistics");
        auto served_after = Clock::now() - start;
        CHECK_STATUS(r, 200);
        CHECK_MESSAGE(served_after < 900ms,
                      "normal request took "
                          << std::chrono::duration_cast<std::chrono::milliseconds>(served_after).count()
                          << " ms while other clients stalled");
        for (auto& s : stalled) {
            auto res = s.read_until_close(6s);
            auto since_start = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
            CHECK_MESSAGE(res.closed, "a stalled client must be disconnected after --header-timeout 1");
            CHECK_MESSAGE(since_start >= 700ms, "closed too early: " << since_start.count() << " ms");
            CHECK_MESSAGE(since_start <= 4000ms, "closed too late: " << since_start.count() << " ms");
            CHECK_MESSAGE(res.data.rfind("HTTP/1.1 2", 0) != 0, res.data);
        }
        CHECK_STATUS(admin.get("/statistics"), 200);
    }

    SUBCASE("a header trickled one byte at a time is still cut off") {
        RawConnection slow(server.port());
        const std::string head = "GET /statistics HTTP/1.1\r\nHost: 127.0.0.1\r\n" + auth +
                                 "X-Padding: " + std::string(100, 'p') + "\r\n\r\n";
        auto start = Clock::now();
        bool cut = false;
        for (char ch : head) {
            if (!slow.send(std::string_view(&ch, 1))) {
                cut = true;
                break;
            }
            auto res = slow.read_until_close(200ms);
            if (res.closed) {
                cut = true;
                break;
            }
            if (Clock::now() - start > 6s) break;
        }
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        CHECK_MESSAGE(cut, "a header sent at 5 bytes/s must not keep the connection past --header-timeout");
        CHECK_MESSAGE(took <= 4000ms, "cut after " << took.count() << " ms");
        CHECK_STATUS(admin.get("/statistics"), 200);
    }

    SUBCASE("a body that stalls is cut off after --body-timeout; nothing stored") {
        RawConnection raw(server.port());
        auto start = Clock::now();
        REQUIRE(raw.send(request_head("POST", "/contacts", auth, 200)));
        raw.send("{\"first_name\": \"Stall\", ");
        auto res = raw.read_until_close(6s);
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        CHECK_MESSAGE(res.closed, "a stalled body must be disconnected after --body-timeout 1");
        CHECK_MESSAGE(took >= 700ms, "closed too early: " << took.count() << " ms");
        CHECK_MESSAGE(took <= 4000ms, "closed too late: " << took.count() << " ms");
        CHECK(res.data.rfind("HTTP/1.1 2", 0) != 0);
        CHECK(contacts_total(admin) == 0);
    }

    SUBCASE("an idle keep-alive connection is closed after --idle-timeout") {
        RawConnection raw(server.port());
        REQUIRE(raw.send(request_head("GET", "/statistics", auth, 0, true)));
        auto first = raw.read_response(3s);
        REQUIRE(first.has_value());
        CHECK(first->status == 200);
        CHECK(first->keep_alive);
        // Still usable right away...
        REQUIRE(raw.send(request_head("GET", "/contacts", auth, 0, true)));
        auto second = raw.read_response(3s);
        REQUIRE(second.has_value());
        CHECK(second->status == 200);
        // ... then closed once idle.
        auto start = Clock::now();
        auto res = raw.read_until_close(6s);
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        CHECK_MESSAGE(res.closed, "an idle keep-alive connection must be closed after --idle-timeout 1");
        CHECK_MESSAGE(took >= 700ms, "closed too early: " << took.count() << " ms");
        CHECK_MESSAGE(took <= 4000ms, "closed too late: " << took.count() << " ms");
    }

    SUBCASE("a slow but steady body within the timeouts is served") {
        RawConnection raw(server.port());
        const std::string body = R"({"first_name":"Steady","phone":"3001234567"})";
        REQUIRE(raw.send(request_head("POST", "/contacts", auth, body.size())));
        REQUIRE(raw.send(body.substr(0, 10)));
        std::this_thread::sleep_for(300ms);
        REQUIRE(raw.send(body.substr(10)));
        auto res = raw.read_response(3s);
        REQUIRE(res.has_value());
        CHECK_MESSAGE(res->status == 200, res->describe());
        CHECK(contacts_total(admin) == 1);
    }
}

TEST_CASE("keep-alive: one connection serves many requests") {
    ServerProcess server;
    Client admin = admin_client(server, true);
    for (int i = 0; i < 20; ++i) {
        Response r = admin.get("/statistics");
        REQUIRE_STATUS(r, 200);
        CHECK(r.keep_alive);
    }
    std::int64_t id = create_contact(admin, "Kept", "3001234567");
    CHECK_STATUS(admin.get("/contacts/" + std::to_string(id)), 200);
    CHECK(admin.connections_opened() == 1);
    // Error answers (404, 412) do not need to cost the client its connection either.
    check_error(admin.get("/contacts/999999"), 404);
    check_error(admin.post_raw("/contacts", "{"), 412);
    CHECK_STATUS(admin.get("/contacts/" + std::to_string(id)), 200);
    CHECK_MESSAGE(admin.connections_opened() == 1, "the server closed a keep-alive connection after an error answer");
}

// The server process: --version, --help, bad options, the admin created on first start, data
// that survives a restart, and graceful SIGTERM (in-flight requests finish, exit status 0).
#include "helpers.hpp"

#include <signal.h>

#include <thread>

#ifndef ICTCORE_EXPECTED_VERSION
#define ICTCORE_EXPECTED_VERSION ""
#endif

TEST_CASE("cli: --version, --help, bad options") {
    RunResult v = run_server_binary({"--version"});
    CHECK_MESSAGE(v.status.ok(), v.status.describe() << "\n" << v.err);
    std::string first_line = v.out.substr(0, v.out.find('\n'));
    CHECK(first_line == std::string("ictcore-server ") + ICTCORE_EXPECTED_VERSION);

    RunResult h = run_server_binary({"--help"});
    CHECK_MESSAGE(h.status.ok(), h.status.describe() << "\n" << h.err);
    for (const char* opt : {"--listen", "--data", "--max-body", "--max-import", "--header-timeout", "--body-timeout",
                            "--idle-timeout", "--token-lifetime", "--password-cost", "--version"}) {
        CAPTURE(opt);
        CHECK(h.out.find(opt) != std::string::npos);
    }

    // Unknown option, a bad value, and a listen address already in use: non-zero exit, promptly.
    TempDir dir;
    RunResult bad = run_server_binary({"--no-such-option", "--data", dir.path().string()}, 10s);
    CHECK_MESSAGE((bad.status.exited && bad.status.code != 0), bad.status.describe());
    CHECK_MESSAGE(!(bad.err + bad.out).empty(), "an unknown option should be reported");
    RunResult bad_value =
        run_server_binary({"--listen", "127.0.0.1:0", "--data", dir.path().string(), "--max-body", "lots"}, 10s);
    CHECK_MESSAGE((bad_value.status.exited && bad_value.status.code != 0), bad_value.status.describe());
    {
        ServerProcess running;
        TempDir other;
        RunResult busy = run_server_binary({"--listen", "127.0.0.1:" + std::to_string(running.port()), "--data",
                                            other.path().string(), "--password-cost", "minimal"},
                                           10s, {{"ICTCORE_ADMIN_PASSWORD", "x-pass-123"}});
        CHECK_MESSAGE((busy.status.exited && busy.status.code != 0),
                      "a second server on a busy port must fail: " << busy.status.describe());
        CHECK_STATUS(admin_client(running).get("/statistics"), 200);
    }
}

TEST_CASE("lifecycle: admin is created on first start only; data survives a restart") {
    TempDir dir;
    const auto data = dir.path() / "data";
    std::int64_t contact = 0;
    {
        ServerProcess first(on_data(data, "First-Pass-1"));
        Client admin = admin_client(first);
        contact = create_contact(admin, json::object{{"first_name", "Durable"}, {"phone", "3001234567"}});
        create_user(admin, "keeper", "keeper-pass-1");
        ExitStatus st = first.stop();
        CHECK_MESSAGE(st.ok(), st.describe() << "\n" << first.output());
    }
    {
        // A different ICTCORE_ADMIN_PASSWORD on an existing data dir does not reset admin.
        ServerProcess second(on_data(data, "Second-Pass-2"));
        Client anon = second.client();
        check_error(anon.post("/authentication", json::object{{"username", "admin"}, {"password", "Second-Pass-2"}}),
                    401);
        Client admin = client_as(second, "admin", "First-Pass-1");
        Response r = admin.get("/contacts/" + std::to_string(contact));
        REQUIRE_STATUS(r, 200);
        CHECK(str_field(as_object(r), "first_name") == "Durable");
        CHECK(!login(second, "keeper", "keeper-pass-1").empty());
        r = admin.get("/users");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == 2);  // still one admin, not two
    }
}

TEST_CASE("shutdown: SIGTERM with a request in flight") {
    TempDir dir;
    const auto data = dir.path() / "data";
    using Clock = std::chrono::steady_clock;

    SUBCASE("idle server: exits 0 promptly") {
        ServerProcess server(on_data(data));
        auto start = Clock::now();
        ExitStatus st = server.stop(10s);
        CHECK_MESSAGE(st.ok(), st.describe() << "\n" << server.output());
        CHECK(Clock::now() - start < 3s);
    }

    SUBCASE("request half-sent when SIGTERM arrives is completed, then exit 0") {
        std::int64_t contact = 0;
        {
            ServerProcess server(on_data(data));
            const std::string token = login(server, "admin", server.admin_password());
            const std::string body = R"({"first_name":"InFlight","phone":"3001234567"})";
            RawConnection raw(server.port());
            REQUIRE(raw.send("POST /contacts HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                             "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                             "\r\nConnection: close\r\n\r\n" + body.substr(0, 12)));
            std::this_thread::sleep_for(200ms);
            server.signal(SIGTERM);
            std::this_thread::sleep_for(200ms);
            raw.send(body.substr(12));
            auto res = raw.read_response(5s);
            REQUIRE_MESSAGE(res.has_value(), "the in-flight request got no response\n" << server.output());
            CHECK_MESSAGE(res->status == 200, res->describe());
            if (res->status == 200) contact = int_field(as_object(*res), "contact_id");
            ExitStatus st = server.wait(10s);
            CHECK_MESSAGE(st.ok(), st.describe() << "\n" << server.output());
            // The listener is gone.
            CHECK_THROWS(RawConnection(server.port()));
        }
        // The acknowledged contact was stored durably.
        ServerProcess again(on_data(data));
        Client admin = admin_client(again);
        Response r = admin.get("/contacts");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == 1);
        if (contact) CHECK_STATUS(admin.get("/contacts/" + std::to_string(contact)), 200);
    }

    SUBCASE("a large CSV import in flight finishes; an idle keep-alive connection does not delay exit") {
        constexpr int N = 50000;
        std::string csv;
        for (int i = 0; i < N; ++i) csv += "+1888" + std::to_string(1000000 + i) + ",Term" + std::to_string(i) + "\n";
        std::int64_t group = 0;
        {
            ServerProcess server(on_data(data));
            Client admin = admin_client(server, true);
            group = create_group(admin, "in flight");
            const std::string token = login(server, "admin", server.admin_password());
            // An idle keep-alive connection that stays open across the SIGTERM.
            RawConnection idle(server.port());
            REQUIRE(idle.send("GET /statistics HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                              "\r\n\r\n"));
            auto first = idle.read_response(5s);
            REQUIRE(first.has_value());
            CHECK(first->status == 200);

            // Half of the CSV is sent, then SIGTERM, then the rest.
            RawConnection upload(server.port());
            REQUIRE(upload.send("POST /groups/" + std::to_string(group) +
                                "/csv HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                                "\r\nContent-Type: text/csv\r\nContent-Length: " + std::to_string(csv.size()) +
                                "\r\n\r\n" + csv.substr(0, csv.size() / 2)));
            std::this_thread::sleep_for(200ms);
            auto signalled = Clock::now();
            server.signal(SIGTERM);
            std::this_thread::sleep_for(200ms);
            CHECK(upload.send(csv.substr(csv.size() / 2)));
            auto res = upload.read_response(60s);
            REQUIRE_MESSAGE(res.has_value(), "the in-flight import got no response\n" << server.output());
            CHECK_MESSAGE(res->status == 200, res->describe());
            if (res->status == 200) CHECK(int_field(as_object(*res), "imported") == N);
            ExitStatus st = server.wait(10s);
            CHECK_MESSAGE(st.ok(), st.describe() << "\n" << server.output());
            CHECK_MESSAGE(Clock::now() - signalled < 8s, "shutdown waited on the idle connection");
            auto closed = idle.read_until_close(1s);
            CHECK(closed.closed);
        }
        ServerProcess again(on_data(data));
        Client admin = admin_client(again);
        Response r = admin.get("/groups/" + std::to_string(group));
        REQUIRE_STATUS(r, 200);
        CHECK(int_field(as_object(r), "contact_total") == N);
    }
}

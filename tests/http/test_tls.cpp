// HTTPS (--tls-cert, --tls-key): a real TLS client (tests/rigs/tls_client.py, Python's ssl
// module) verifies the server against a certificate made for this run with the openssl CLI,
// then logs in, reads and writes over one kept-alive connection; plain HTTP, stalled and old
// (TLS 1.1, CBC) clients are turned away without hurting the others; a bad TLS set-up keeps
// the server from starting.
#include "helpers.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

long long ms_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

void openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "/usr/bin/openssl");
    const RunResult r = run_program(args, 30s);
    REQUIRE_MESSAGE(r.status.ok(), "openssl failed: " << r.status.describe() << "\n" << r.err);
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// A P-256 key and a self-signed certificate for 127.0.0.1, valid one day: NAME.pem, NAME.key.
void self_signed(const fs::path& dir, const std::string& name) {
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
             "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-days", "1", "-keyout",
             (dir / (name + ".key")).string(), "-out", (dir / (name + ".pem")).string()});
}

// Certificates made once per test case.
struct Certs {
    TempDir dir{"ictcore-tls"};
    fs::path cert = dir.path() / "server.pem";
    fs::path key = dir.path() / "server.key";
    Certs() { self_signed(dir.path(), "server"); }
};

ServerOptions tls_server(const Certs& certs, std::vector<std::string> extra = {}) {
    ServerOptions o;
    o.args = {"--tls-cert", certs.cert.string(), "--tls-key", certs.key.string()};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    return o;
}

// Runs tls_client.py and returns its JSON answer.
json::object tls_client(std::uint16_t port, const fs::path& ca, const std::string& command,
                        std::vector<std::string> args = {}) {
    std::vector<std::string> argv{"/usr/bin/python3",
                                  std::string(ICTCORE_TEST_RIGS) + "/tls_client.py",
                                  command,
                                  "--port",
                                  std::to_string(port),
                                  "--ca",
                                  ca.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult r = run_program(argv, 60s);
    REQUIRE_MESSAGE(r.status.ok(), "tls_client.py " << command << " failed: " << r.status.describe() << "\n"
                                                    << r.out << "\n"
                                                    << r.err);
    json::value v;
    try {
        v = json::parse(r.out);
    } catch (const std::exception&) {
        FAIL("tls_client.py printed no JSON: " << r.out << "\n" << r.err);
    }
    REQUIRE(v.is_object());
    return v.as_object();
}

// Sends `requests` in order over one TLS connection; returns tls_client's answer.
json::object https(std::uint16_t port, const fs::path& ca, const json::array& requests) {
    return tls_client(port, ca, "requests", {"--requests", json::serialize(requests)});
}

json::object request(std::string_view method, std::string_view path, const std::string& password,
                     std::optional<json::value> body = std::nullopt) {
    json::object r{{"method", method}, {"path", path}, {"basic", json::array{"admin", password}}};
    if (body) {
        r["body"] = json::serialize(*body);
        r["headers"] = json::object{{"Content-Type", "application/json"}};
    }
    return r;
}

const json::object& response_at(const json::object& answer, std::size_t i) {
    const json::array& responses = member(answer, "responses").as_array();
    REQUIRE_MESSAGE(i < responses.size(), json::serialize(answer));
    return responses[i].as_object();
}

std::int64_t status_at(const json::object& answer, std::size_t i) {
    return int_field(response_at(answer, i), "status");
}

json::value body_at(const json::object& answer, std::size_t i) {
    const std::string body = str_field(response_at(answer, i), "body");
    try {
        return json::parse(body);
    } catch (const std::exception&) {
        FAIL("response " << i << " is not JSON: " << body);
    }
    return {};
}

// The server's combined stdout and log, once `text` appears in it (or after `within`).
std::string wait_for_output(const ServerProcess& server, std::string_view text, std::chrono::milliseconds within) {
    const auto deadline = Clock::now() + within;
    std::string out = server.output();
    while (out.find(text) == std::string::npos && Clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        out = server.output();
    }
    return out;
}

// Milliseconds since midnight of the spdlog line ("[2026-11-28 14:52:11.179] ...") holding
// `text`; -1 when there is none.
long long log_time(const std::string& log, std::string_view text) {
    const auto at = log.find(text);
    if (at == std::string::npos) return -1;
    const auto line = log.rfind('\n', at) == std::string::npos ? 0 : log.rfind('\n', at) + 1;
    if (log.size() < line + 24 || log[line] != '[') return -1;
    try {
        const long long h = std::stoll(log.substr(line + 12, 2));
        const long long m = std::stoll(log.substr(line + 15, 2));
        const long long sec = std::stoll(log.substr(line + 18, 2));
        const long long milli = std::stoll(log.substr(line + 21, 3));
        return ((h * 60 + m) * 60 + sec) * 1000 + milli;
    } catch (const std::exception&) {
        return -1;
    }
}

}  // namespace

TEST_CASE("tls: login, authenticated reads and writes over HTTPS on one kept-alive connection") {
    Certs certs;
    ServerProcess server(tls_server(certs));
    const std::string out = wait_for_output(server, "TLS on", 5s);
    CHECK_MESSAGE(out.find("listening on https://127.0.0.1:") != std::string::npos, out);
    CHECK_MESSAGE(out.find("TLS on") != std::string::npos, out);

    // Login, then use the token.
    json::object answer =
        https(server.port(), certs.cert,
              json::array{json::object{
                  {"method", "POST"},
                  {"path", "/authentication"},
                  {"body", json::serialize(json::object{{"username", "admin"}, {"password", server.admin_password()}})},
                  {"headers", json::object{{"Content-Type", "application/json"}}}}});
    REQUIRE_MESSAGE(status_at(answer, 0) == 200, json::serialize(answer));
    const std::string token = str_field(body_at(answer, 0).as_object(), "token");
    CHECK(str_field(answer, "version") == "TLSv1.3");

    const json::object bearer{{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
    json::array requests;
    requests.push_back(json::object{{"method", "GET"}, {"path", "/statistics"}, {"headers", bearer}});
    requests.push_back(
        json::object{{"method", "POST"},
                     {"path", "/contacts"},
                     {"body", json::serialize(json::object{{"first_name", "Secure"}, {"phone", "+923001234567"}})},
                     {"headers", bearer}});
    requests.push_back(json::object{{"method", "GET"}, {"path", "/contacts?first_name=Secure"}, {"headers", bearer}});
    for (int i = 0; i < 5; ++i) {
        requests.push_back(json::object{{"method", "GET"}, {"path", "/statistics"}, {"headers", bearer}});
    }
    // An error answer keeps the connection too.
    requests.push_back(json::object{{"method", "GET"}, {"path", "/contacts/999999"}, {"headers", bearer}});
    requests.push_back(json::object{{"method", "GET"}, {"path", "/contacts"}, {"headers", bearer}});
    answer = https(server.port(), certs.cert, requests);

    const json::array& responses = member(answer, "responses").as_array();
    REQUIRE(responses.size() == requests.size());
    CHECK(status_at(answer, 0) == 200);
    REQUIRE_MESSAGE(status_at(answer, 1) == 200, json::serialize(response_at(answer, 1)));
    const std::int64_t id = int_field(body_at(answer, 1).as_object(), "contact_id");
    CHECK(id > 0);
    REQUIRE(status_at(answer, 2) == 200);
    const json::value listed = body_at(answer, 2);
    REQUIRE(listed.is_array());
    REQUIRE(listed.as_array().size() == 1);
    CHECK(int_field(listed.as_array()[0].as_object(), "contact_id") == id);
    CHECK(str_field(listed.as_array()[0].as_object(), "phone") == "+923001234567");
    CHECK(status_at(answer, requests.size() - 2) == 404);
    CHECK(status_at(answer, requests.size() - 1) == 200);

    // Keep-alive: every request went over the first connection (same client port), none closed.
    const std::int64_t first_port = int_field(response_at(answer, 0), "local_port");
    for (std::size_t i = 0; i < responses.size(); ++i) {
        CHECK_MESSAGE(int_field(response_at(answer, i), "local_port") == first_port,
                      "request " << i << " needed a new connection");
        const auto& headers = member(response_at(answer, i), "headers").as_object();
        const json::value* connection = headers.if_contains("connection");
        CHECK_MESSAGE((connection == nullptr || connection->as_string() != "close"), json::serialize(headers));
    }

    // Plain HTTP clients of the testkit do not get through: the data is only reachable over TLS.
    Client plain = server.client();
    plain.set_timeout(5s);
    CHECK_THROWS(plain.get("/statistics"));
}

TEST_CASE("tls: a plain HTTP request to the HTTPS port gets no HTTP answer and the server keeps serving") {
    Certs certs;
    ServerProcess server(tls_server(certs));
    const std::string pw = server.admin_password();

    for (const std::string& payload : {std::string("GET /statistics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
                                       std::string("POST /authentication HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                   "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"),
                                       std::string(64, '\x16')}) {
        RawConnection raw(server.port());
        const auto start = Clock::now();
        raw.send(payload);
        const auto res = raw.read_until_close(5s);
        CHECK_MESSAGE(res.closed, "the server must close a connection that does not speak TLS");
        CHECK_MESSAGE(ms_since(start) < 3000, "closed after " << ms_since(start) << " ms");
        CHECK_MESSAGE(res.data.find("HTTP/") == std::string::npos, res.data);
        // Nothing but a TLS alert record (content type 21) may come back.
        if (!res.data.empty()) CHECK(static_cast<unsigned char>(res.data[0]) == 21);
    }
    const json::object answer = https(server.port(), certs.cert, json::array{request("GET", "/statistics", pw)});
    CHECK(status_at(answer, 0) == 200);
}

TEST_CASE("tls: stalled handshakes are dropped after --header-timeout while a normal client is served") {
    Certs certs;
    ServerProcess server(tls_server(certs, {"--header-timeout", "1"}));
    const std::string pw = server.admin_password();

    // Clients that never start the handshake...
    const auto start = Clock::now();
    std::vector<RawConnection> silent;
    for (int i = 0; i < 4; ++i) silent.emplace_back(server.port());
    // ... one that stops after its ClientHello (mid-handshake), one that handshakes and then
    // sends no request.
    auto mid_handshake = std::async(std::launch::async, [&] {
        return tls_client(server.port(), certs.cert, "hold", {"--mode", "hello", "--wait", "6"});
    });
    auto no_request = std::async(std::launch::async, [&] {
        return tls_client(server.port(), certs.cert, "hold", {"--mode", "handshaken", "--wait", "6"});
    });
    std::this_thread::sleep_for(200ms);  // let them connect first

    // A normal client is served at once meanwhile: handshakes do not wait for one another.
    const json::object answer = https(server.port(), certs.cert, json::array{request("GET", "/statistics", pw)});
    const auto served_at = ms_since(start);
    CHECK(status_at(answer, 0) == 200);
    const double latency = member(response_at(answer, 0), "elapsed").to_number<double>();
    CHECK_MESSAGE(latency < 0.5, "the request took " << latency << " s while other handshakes stalled");
    if (served_at > 900) MESSAGE("slow machine: the normal client was served " << served_at << " ms after the stall");

    for (auto& raw : silent) {
        const auto res = raw.read_until_close(6s);
        const auto closed_at = ms_since(start);
        CHECK_MESSAGE(res.closed, "a client that never handshakes must be dropped after --header-timeout 1");
        CHECK_MESSAGE(closed_at >= 700, "closed too early: " << closed_at << " ms");
        CHECK_MESSAGE(closed_at <= 4000, "closed too late: " << closed_at << " ms");
        CHECK(res.data.empty());
    }
    const json::object hello = mid_handshake.get();
    CHECK_MESSAGE(member(hello, "closed").as_bool(), json::serialize(hello));
    CHECK_MESSAGE(int_field(hello, "received") > 0, "the server never answered the ClientHello");
    CHECK(member(hello, "elapsed").to_number<double>() >= 0.7);
    CHECK(member(hello, "elapsed").to_number<double>() <= 4.0);
    const json::object idle = no_request.get();
    CHECK_MESSAGE(member(idle, "closed").as_bool(), json::serialize(idle));
    CHECK(member(idle, "elapsed").to_number<double>() >= 0.7);
    CHECK(member(idle, "elapsed").to_number<double>() <= 4.0);

    CHECK(status_at(https(server.port(), certs.cert, json::array{request("GET", "/statistics", pw)}), 0) == 200);
}

TEST_CASE("tls: TLS 1.2 at least, ECDHE with AEAD ciphers for TLS 1.2, no compression") {
    Certs certs;
    ServerProcess server(tls_server(certs));
    auto handshake = [&](std::vector<std::string> args) {
        return tls_client(server.port(), certs.cert, "handshake", std::move(args));
    };

    for (const char* old : {"TLSv1_1", "TLSv1"}) {
        CAPTURE(old);
        const json::object r = handshake({"--min", "TLSv1", "--max", old});
        CHECK_FALSE(member(r, "ok").as_bool());
        // The server's protocol_version alert: the client did offer the old protocol.
        CHECK_MESSAGE(str_field(r, "reason") == "TLSV1_ALERT_PROTOCOL_VERSION", json::serialize(r));
    }

    json::object r = handshake({"--min", "TLSv1_2", "--max", "TLSv1_2"});
    REQUIRE_MESSAGE(member(r, "ok").as_bool(), json::serialize(r));
    CHECK(str_field(r, "version") == "TLSv1.2");
    const std::string cipher = str_field(r, "cipher");
    CHECK_MESSAGE(cipher.rfind("ECDHE-", 0) == 0, cipher);
    CHECK_MESSAGE((cipher.find("GCM") != std::string::npos || cipher.find("CHACHA20") != std::string::npos), cipher);
    CHECK(member(r, "compression").is_null());

    // CBC suites with ECDHE, which OpenSSL's default list would accept, are refused.
    r = handshake({"--max", "TLSv1_2", "--ciphers", "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384"});
    CHECK_FALSE(member(r, "ok").as_bool());
    CHECK_MESSAGE(str_field(r, "reason") == "SSLV3_ALERT_HANDSHAKE_FAILURE", json::serialize(r));

    r = handshake({});
    REQUIRE_MESSAGE(member(r, "ok").as_bool(), json::serialize(r));
    CHECK(str_field(r, "version") == "TLSv1.3");
    CHECK(member(r, "compression").is_null());
}

TEST_CASE("tls: graceful closes send close_notify, on Connection: close and when the server stops") {
    Certs certs;
    ServerProcess server(tls_server(certs));
    const std::string basic = "admin:" + server.admin_password();

    const json::object closed =
        tls_client(server.port(), certs.cert, "close", {"--path", "/statistics", "--basic", basic, "--wait", "5"});
    CHECK(str_field(closed, "status_line") == "HTTP/1.1 200 OK");
    CHECK_MESSAGE(member(closed, "closed").as_bool(), json::serialize(closed));
    CHECK_MESSAGE(member(closed, "clean").as_bool(), "no close_notify after Connection: close");
    CHECK(member(closed, "elapsed").to_number<double>() < 2.0);

    // An idle kept-alive connection when the server stops: close_notify, and no waiting for
    // the client's own close_notify (this client never sends one).
    auto idle = std::async(std::launch::async, [&] {
        return tls_client(server.port(), certs.cert, "close",
                          {"--path", "/contacts", "--basic", basic, "--keep-alive", "--wait", "8"});
    });
    const std::string out = wait_for_output(server, "/contacts 200", 10s);
    REQUIRE_MESSAGE(out.find("/contacts 200") != std::string::npos, out);
    const ExitStatus status = server.stop(10s);
    CHECK_MESSAGE(status.ok(), status.describe());
    // Closing the connections is the time between these log lines; waiting for the client's
    // close_notify would take the 2 s bound of the TLS shutdown.
    const std::string log = server.output();
    const long long signalled = log_time(log, "received signal");
    const long long stopped = log_time(log, "] stopped");
    REQUIRE_MESSAGE((signalled >= 0 && stopped >= 0), log);
    CHECK_MESSAGE(stopped - signalled < 1000, "closing took " << stopped - signalled << " ms with an idle TLS client");
    const json::object kept = idle.get();
    CHECK(str_field(kept, "status_line") == "HTTP/1.1 200 OK");
    CHECK_MESSAGE(member(kept, "closed").as_bool(), json::serialize(kept));
    CHECK_MESSAGE(member(kept, "clean").as_bool(), "no close_notify when the server stopped");
}

TEST_CASE("tls: the certificate file may carry the intermediate certificates") {
    TempDir dir("ictcore-tls");
    const fs::path d = dir.path();
    // root CA -> intermediate CA -> server certificate; the client trusts only the root.
    openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
             "/CN=ictcore test root", "-days", "1", "-keyout", (d / "root.key").string(), "-out",
             (d / "root.pem").string()});
    write_file(d / "ca.ext", "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
    write_file(d / "leaf.ext", "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\n");
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
             "/CN=ictcore test intermediate", "-keyout", (d / "int.key").string(), "-out", (d / "int.csr").string()});
    openssl({"x509", "-req", "-in", (d / "int.csr").string(), "-CA", (d / "root.pem").string(), "-CAkey",
             (d / "root.key").string(), "-CAcreateserial", "-days", "1", "-extfile", (d / "ca.ext").string(), "-out",
             (d / "int.pem").string()});
    openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
             "/CN=127.0.0.1", "-keyout", (d / "leaf.key").string(), "-out", (d / "leaf.csr").string()});
    openssl({"x509", "-req", "-in", (d / "leaf.csr").string(), "-CA", (d / "int.pem").string(), "-CAkey",
             (d / "int.key").string(), "-CAcreateserial", "-days", "1", "-extfile", (d / "leaf.ext").string(), "-out",
             (d / "leaf.pem").string()});
    write_file(d / "chain.pem", read_text(d / "leaf.pem") + read_text(d / "int.pem"));

    {
        ServerOptions o;
        o.args = {"--tls-cert", (d / "chain.pem").string(), "--tls-key", (d / "leaf.key").string()};
        ServerProcess server(o);
        const json::object answer =
            https(server.port(), d / "root.pem", json::array{request("GET", "/statistics", server.admin_password())});
        CHECK(status_at(answer, 0) == 200);
    }
    {
        // Control: without the intermediate in the file the same client cannot verify the server.
        ServerOptions o;
        o.args = {"--tls-cert", (d / "leaf.pem").string(), "--tls-key", (d / "leaf.key").string()};
        ServerProcess server(o);
        const json::object r = tls_client(server.port(), d / "root.pem", "handshake");
        CHECK_FALSE(member(r, "ok").as_bool());
        CHECK_MESSAGE(str_field(r, "reason") == "CERTIFICATE_VERIFY_FAILED", json::serialize(r));
    }
}

TEST_CASE("tls: a bad TLS set-up keeps the server from starting, with a message naming the problem") {
    Certs certs;
    const fs::path d = certs.dir.path();
    self_signed(d, "other");
    openssl({"pkey", "-in", certs.key.string(), "-aes256", "-passout", "pass:secret", "-out",
             (d / "encrypted.key").string()});
    write_file(d / "garbage.pem", "not a certificate\n");

    struct Case {
        const char* name;
        std::vector<std::string> args;
        std::vector<std::string> expect;  // all in the message
    };
    const std::vector<Case> cases{
        {"only --tls-cert", {"--tls-cert", certs.cert.string()}, {"--tls-key"}},
        {"only --tls-key", {"--tls-key", certs.key.string()}, {"--tls-cert"}},
        {"missing key file",
         {"--tls-cert", certs.cert.string(), "--tls-key", (d / "missing.key").string()},
         {"missing.key", "No such file"}},
        {"missing certificate file",
         {"--tls-cert", (d / "missing.pem").string(), "--tls-key", certs.key.string()},
         {"missing.pem", "No such file"}},
        {"a directory as certificate", {"--tls-cert", d.string(), "--tls-key", certs.key.string()}, {"directory"}},
        {"key of another certificate",
         {"--tls-cert", certs.cert.string(), "--tls-key", (d / "other.key").string()},
         {"does not match", "other.key", "server.pem"}},
        {"not a certificate",
         {"--tls-cert", (d / "garbage.pem").string(), "--tls-key", certs.key.string()},
         {"garbage.pem", "no PEM certificate"}},
        {"the key given as certificate",
         {"--tls-cert", certs.key.string(), "--tls-key", certs.key.string()},
         {"no PEM certificate"}},
        {"an encrypted key (no prompt)",
         {"--tls-cert", certs.cert.string(), "--tls-key", (d / "encrypted.key").string()},
         {"encrypted.key", "unencrypted"}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        TempDir data("ictcore-tls-data");
        std::vector<std::string> args{"--listen",        "127.0.0.1:0", "--data", (data.path() / "db").string(),
                                      "--password-cost", "minimal"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        const RunResult r = run_server_binary(args, 15s);
        CHECK_MESSAGE((r.status.exited && r.status.code != 0), r.status.describe());
        CHECK_MESSAGE(r.out.find("listening") == std::string::npos, r.out);
        for (const auto& text : c.expect)
            CHECK_MESSAGE(r.err.find(text) != std::string::npos, text << " in: " << r.err);
        // Refused before the database was opened: nothing was created.
        CHECK_FALSE(fs::exists(data.path() / "db"));
    }
}

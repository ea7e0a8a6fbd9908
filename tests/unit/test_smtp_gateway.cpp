// The SMTP e-mail gateway against a real SMTP server (tests/rigs/smtp_rig.py, aiosmtpd from
// Debian) on a loopback port: what arrives in its mailbox is read back with Python's own
// e-mail parser, and the server's scripted 4xx/5xx answers check the outcomes.
#include "core_options.hpp"
#include "rig_process.hpp"
#include "temp_dir.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/json/parse.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <thread>

namespace {

using namespace ictcore;
using namespace std::chrono_literals;

// Python's e-mail parser, as a second opinion on what we sent: subject (decoded), the
// text and HTML parts, and each attachment's file name, type and bytes (hex).
constexpr const char* read_message_py = R"py(
import email, email.policy, json, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
out = {'subject': str(m['subject']), 'from': str(m['from']), 'to': str(m['to']),
       'date': str(m['date'] or ''), 'message_id': str(m['message-id'] or ''),
       'text': m.get_body(('plain',)).get_content(), 'html': m.get_body(('html',)).get_content(),
       'attachments': [{'name': a.get_filename(), 'type': a.get_content_type(),
                        'hex': a.get_payload(decode=True).hex()} for a in m.iter_attachments()]}
print(json.dumps(out))
)py";

boost::json::object read_message(const std::filesystem::path& file) {
    const std::string cmd = "/usr/bin/python3 -c \"$ICTCORE_READ_MESSAGE\" '" + file.string() + "'";
    ::setenv("ICTCORE_READ_MESSAGE", read_message_py, 1);
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        std::array<char, 4096> buf{};
        std::size_t n;
        while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
        ::pclose(p);
    }
    return boost::json::parse(out).as_object();
}

std::vector<std::filesystem::path> messages_in(const std::filesystem::path& maildir) {
    std::vector<std::filesystem::path> files;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(maildir / "new", ec)) files.push_back(e.path());
    return files;
}

struct Rig {
    test::TempDir dir;
    std::unique_ptr<test::RigProcess> smtp = start_server();
    std::unique_ptr<Core> core;
    Principal admin;
    std::int64_t template_id = 0;
    std::int64_t program_id = 0;

    explicit Rig(std::chrono::seconds retry_delay = 300s) {
        auto o = test::core_options(dir);
        o.seed_loopback_providers = false;
        o.retry_delay = retry_delay;
        core = std::make_unique<Core>(o);
        admin = core->auth().from_password("admin", *o.admin_password);
        Provider p;
        p.name = "local smtp";
        p.type = "smtp";
        p.service_flag = service::email;
        p.username = "ictcore";
        p.host = "127.0.0.1";
        p.port = smtp->port();
        p.settings = R"({"tls": "none", "from": "campaigns@example.com"})";
        core->providers().create(admin, p);
        Template t;
        t.name = "welcome";
        t.subject = "Hello [contact:first_name] – 10 € off";
        t.body = "<p>Dear [contact:first_name],</p><p>10 € off today.</p>";
        t.body_alt = "Dear [contact:first_name],\n10 € off today.";
        template_id = core->templates().create(admin, t);
        Program program;
        program.name = "welcome";
        program.template_id = template_id;
        program_id = core->programs().create(admin, "sendemail", program);
    }

    // The SMTP server, on `port` (0: a free one).
    std::unique_ptr<test::RigProcess> start_server(int port = 0) {
        std::vector<std::string> argv{"/usr/bin/python3", std::string(ICTCORE_TEST_RIGS) + "/smtp_rig.py",
                                      (dir.path() / "maildir").string()};
        if (port) argv.insert(argv.end(), {"--port", std::to_string(port)});
        return std::make_unique<test::RigProcess>(argv);
    }

    // Connections the server has seen (one EHLO each).
    int connections() const {
        std::ifstream in(dir.path() / "maildir" / "connections.log");
        int n = 0;
        std::string line;
        while (std::getline(in, line)) ++n;
        return n;
    }

    std::int64_t transmission_to(const std::string& email, std::int64_t tries = 1) {
        Contact c;
        c.first_name = "Ada";
        c.phone = "+442079460018";
        c.email = email;
        Transmission t;
        t.contact_id = core->contacts().create(admin, c);
        t.program_id = program_id;
        t.try_allowed = tries;
        return core->transmissions().create(admin, t);
    }

    Transmission await_end(std::int64_t id, std::chrono::milliseconds within = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (;;) {
            auto t = core->transmissions().get(admin, id);
            if (t.status == "completed" || t.status == "failed" || t.status == "invalid") return t;
            if (std::chrono::steady_clock::now() > deadline) return t;
            std::this_thread::sleep_for(20ms);
        }
    }
};

}  // namespace

TEST_CASE("smtp gateway: the rendered template arrives with both parts and the attachment's bytes") {
    Rig rig;
    std::string attachment;
    for (int i = 0; i < 3000; ++i) attachment += static_cast<char>((i * 7919) % 256);
    rig.core->templates().put_media(rig.admin, rig.template_id, Upload{attachment, "application/pdf", "offer.pdf"});
    const auto id = rig.transmission_to("ok-ada@example.com");
    rig.core->transmissions().send(rig.admin, id);
    const auto t = rig.await_end(id);
    CHECK(t.status == "completed");
    CHECK(t.response.value_or("").rfind("250", 0) == 0);

    const auto files = messages_in(rig.dir.path() / "maildir");
    REQUIRE(files.size() == 1);
    const auto m = read_message(files.front());
    CHECK(m.at("subject").as_string() == "Hello Ada – 10 € off");
    CHECK(m.at("from").as_string() == "campaigns@example.com");
    CHECK(m.at("to").as_string() == "ok-ada@example.com");
    CHECK_FALSE(m.at("date").as_string().empty());
    CHECK(m.at("message_id").as_string().find("spool-") != std::string::npos);
    CHECK(m.at("text").as_string() == "Dear Ada,\n10 € off today.");
    CHECK(m.at("html").as_string().find("<p>Dear Ada,</p><p>10 € off today.</p>") != std::string::npos);
    const auto& attachments = m.at("attachments").as_array();
    REQUIRE(attachments.size() == 1);
    CHECK(attachments[0].at("name").as_string() == "offer.pdf");
    std::string hex;
    for (const unsigned char ch : attachment) hex += fmt::format("{:02x}", ch);
    CHECK(attachments[0].at("hex").as_string() == hex);
}

TEST_CASE("smtp gateway: a 4xx is retried within try_allowed; a 5xx fails at once") {
    Rig rig(1s);
    const auto flaky = rig.transmission_to("flaky-bob@example.com", 2);
    const auto perm = rig.transmission_to("perm-carol@example.com", 3);
    const auto temp = rig.transmission_to("temp-dan@example.com", 2);
    for (const auto id : {flaky, perm, temp}) rig.core->transmissions().send(rig.admin, id);

    const auto f = rig.await_end(flaky);
    CHECK(f.status == "completed");
    CHECK(f.try_done == 2);
    const auto spools = rig.core->transmissions().detail(rig.admin, flaky);
    REQUIRE(spools.size() == 2);
    CHECK(spools.front().response.value_or("") == "451 4.4.1 Try again later");

    const auto p = rig.await_end(perm);
    CHECK(p.status == "failed");
    CHECK(p.try_done == 1);  // not retried, though two tries were left
    CHECK(p.response.value_or("") == "550 5.1.1 No such user here");

    const auto t = rig.await_end(temp);
    CHECK(t.status == "failed");
    CHECK(t.try_done == 2);
    CHECK(t.response.value_or("").rfind("451", 0) == 0);
    CHECK(messages_in(rig.dir.path() / "maildir").size() == 1);
}

TEST_CASE("smtp gateway: messages to one server share one connection") {
    Rig rig;
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(rig.transmission_to(fmt::format("ok-{}@example.com", i)));
    for (const auto id : ids) {
        rig.core->transmissions().send(rig.admin, id);
        CHECK(rig.await_end(id).status == "completed");
    }
    CHECK(messages_in(rig.dir.path() / "maildir").size() == 5);
    CHECK(rig.connections() == 1);
}

TEST_CASE("smtp gateway: with the server down attempts fail; the retry after it is back delivers") {
    Rig rig(1s);
    const int port = rig.smtp->port();
    rig.smtp.reset();  // stopped
    const auto id = rig.transmission_to("ok-eve@example.com", 3);
    rig.core->transmissions().send(rig.admin, id);
    // The first attempt cannot connect: the spool fails and a retry is due in a second.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (rig.core->transmissions().get(rig.admin, id).status != "pending_retry" &&
           std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    const auto waiting = rig.core->transmissions().get(rig.admin, id);
    REQUIRE(waiting.status == "pending_retry");
    CHECK(waiting.response.value_or("").find("127.0.0.1") != std::string::npos);
    rig.smtp = rig.start_server(port);
    const auto t = rig.await_end(id);
    CHECK(t.status == "completed");
    CHECK(t.try_done >= 2);
    CHECK(messages_in(rig.dir.path() / "maildir").size() == 1);
}

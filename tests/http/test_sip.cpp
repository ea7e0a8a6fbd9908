// Voice and fax over SIP through ictcore-server (issue 7), configured only through the REST API:
// a voicemessage answered by SIPp, whose RFC 2833 digits come back as spool results; and a fax
// the server sends to itself, received by a faxtoemail account and e-mailed as a PDF through a
// real SMTP server (tests/rigs/smtp_rig.py).
#include "helpers.hpp"
#include "pdf_writer.hpp"
#include "rig_process.hpp"
#include "sipp_rig.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <map>

using namespace http_test_helpers;

namespace {

// A WAV of `seconds` of a 1 kHz tone, 8 kHz mono 16-bit.
std::string tone_wav(double seconds) {
    const auto samples = static_cast<std::uint32_t>(seconds * 8000);
    std::string wav;
    auto put = [&wav](std::uint32_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) wav += static_cast<char>((v >> (8 * i)) & 0xFF);
    };
    wav += "RIFF";
    put(36 + samples * 2, 4);
    wav += "WAVEfmt ";
    put(16, 4);
    put(1, 2);
    put(1, 2);
    put(8000, 4);
    put(16000, 4);
    put(2, 2);
    put(16, 2);
    wav += "data";
    put(samples * 2, 4);
    for (std::uint32_t i = 0; i < samples; ++i) {
        const auto s = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 1000 * i / 8000.0));
        put(static_cast<std::uint16_t>(s), 2);
    }
    return wav;
}

std::map<std::string, std::string> results_of(Client& c, std::int64_t transmission_id) {
    Response r = c.get(tx_path(transmission_id, "result"));
    REQUIRE_STATUS(r, 200);
    std::map<std::string, std::string> out;
    for (const auto& row : as_array(r)) {
        const auto& o = row.as_object();
        out[str_field(o, "type") + "/" + str_field(o, "name")] = str_field(o, "data");
    }
    return out;
}

// The messages in a Maildir, read by Python's e-mail parser: recipient, subject, and each
// attachment's name, type and page objects (for a PDF).
constexpr const char* mailbox_py = R"py(
import email, email.policy, json, os, re, sys
out = []
d = os.path.join(sys.argv[1], 'new')
for name in sorted(os.listdir(d) if os.path.isdir(d) else []):
    m = email.message_from_binary_file(open(os.path.join(d, name), 'rb'), policy=email.policy.default)
    atts = []
    for a in m.iter_attachments():
        data = a.get_payload(decode=True)
        atts.append({'name': a.get_filename(), 'type': a.get_content_type(), 'pdf': data.startswith(b'%PDF'),
                     'pages': len(re.findall(rb'/Type\s*/Page(?![A-Za-z])', data))})
    out.append({'to': str(m['to']), 'subject': str(m['subject']), 'attachments': atts})
print(json.dumps(out))
)py";

json::array mailbox(const std::filesystem::path& maildir) {
    ::setenv("ICTCORE_SIP_MAILBOX", mailbox_py, 1);
    const std::string cmd = "/usr/bin/python3 -c \"$ICTCORE_SIP_MAILBOX\" '" + maildir.string() + "'";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        std::array<char, 4096> buf{};
        std::size_t n;
        while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
        ::pclose(p);
    }
    return json::parse(out).as_array();
}

}  // namespace

TEST_CASE("sip: a voicemessage through the server; SIPp answers and its RFC 2833 digits are results") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: SIPp plays its DTMF pcaps only as root (CAP_NET_RAW)");
        return;
    }
    TempDir dir("ictcore-sip");
    ictcore::test::SippRig callee(dir.path() / "sipp", "uas_dtmf", {.calls = 1, .timeout = 30s});
    ServerProcess server;
    Client admin = admin_client(server);
    set_provider_active(admin, seeded_voice_provider, false);
    created_id(
        admin.post("/providers",
                   json::object{
                       {"name", "sipp"},
                       {"type", "sip"},
                       {"service_flag", 1},
                       {"username", "ictcore"},
                       {"host", "127.0.0.1"},
                       {"port", callee.port()},
                       {"settings", json::object{{"listen", "127.0.0.1:0"}, {"ring_timeout", 5}, {"digit_wait", 1}}}}),
        "provider_id");
    const auto recording =
        created_id(admin.post("/messages/recordings", json::object{{"name", "tone"}}), "recording_id");
    REQUIRE_STATUS(
        admin.put_raw("/messages/recordings/" + std::to_string(recording) + "/media", tone_wav(1.0), "audio/wav"), 200);
    const auto program =
        created_id(admin.post("/programs/voicemessage", json::object{{"name", "tone"}, {"recording_id", recording}}),
                   "program_id");
    const auto id = new_transmission(admin, create_contact(admin, "Callee", "15551230001"), program);
    send_transmission(admin, id);

    const auto done = await_transmission(admin, id, std::vector<std::string>{"completed", "failed"}, 30s);
    CHECK(str_field(done, "status") == "completed");
    const auto spools = spools_of(admin, id);
    REQUIRE(spools.size() == 1);
    const auto& spool = spools[0].as_object();
    CHECK(str_field(spool, "response") == "200 OK");
    REQUIRE(opt_int(spool, "time_connect"));
    CHECK(*opt_int(spool, "time_connect") >= *opt_int(spool, "time_start"));
    CHECK(*opt_int(spool, "time_end") >= *opt_int(spool, "time_connect"));
    const auto results = results_of(admin, id);
    CHECK(results.at("dtmf/dtmf") == "1#");
    CHECK(results.at("info/codec") == "PCMU");
    CHECK(std::stoi(results.at("info/billsec")) >= 1);
    CHECK(std::stoi(results.at("info/rtp_packets")) >= 50);  // 1 s of prompt at 20 ms, then silence
    const int sipp_exit = callee.wait_exit(15s);
    INFO(callee.messages_log());
    CHECK(sipp_exit == 0);
}

TEST_CASE("sip: faxtoemail through the server; a fax it sends itself arrives as a PDF e-mail") {
    TempDir dir("ictcore-sip-fax");
    const auto maildir = dir.path() / "maildir";
    ictcore::test::RigProcess smtp(
        {"/usr/bin/python3", std::string(ICTCORE_TEST_RIGS) + "/smtp_rig.py", maildir.string()});
    ServerProcess server;
    Client admin = admin_client(server);
    set_provider_active(admin, seeded_fax_provider, false);
    set_provider_active(admin, seeded_email_provider, false);
    const int sip_port = ictcore::test::free_udp_port();
    // The server calls its own SIP listener: sendfax out, receivefax in.
    created_id(admin.post("/providers",
                          json::object{{"name", "fax loop"},
                                       {"type", "sip"},
                                       {"service_flag", 2},
                                       {"username", "ictcore"},
                                       {"host", "127.0.0.1"},
                                       {"port", sip_port},
                                       {"settings", json::object{{"listen", "127.0.0.1:" + std::to_string(sip_port)},
                                                                 {"t38", true}}}}),
               "provider_id");
    created_id(admin.post("/providers",
                          json::object{{"name", "smtp"},
                                       {"type", "smtp"},
                                       {"service_flag", 8},
                                       {"username", "ictcore"},
                                       {"host", "127.0.0.1"},
                                       {"port", smtp.port()},
                                       {"settings", json::object{{"tls", "none"}, {"from", "fax@example.com"}}}}),
               "provider_id");

    create_user(admin, "faxdesk", "faxdesk-password",
                json::object{{"phone", "15550002222"}, {"email", "faxdesk@example.com"}});
    Client desk = client_as(server, "faxdesk", "faxdesk-password");
    created_id(desk.post("/programs/faxtoemail", json::object{{"name", "fax to my mailbox"}}), "program_id");

    const auto document = created_id(admin.post("/messages/documents", json::object{{"name", "memo"}}), "document_id");
    const std::string pdf = ictcore::test::pdf_of_pages({"BT /F1 24 Tf 72 720 Td (Fax over SIP) Tj ET"});
    REQUIRE_STATUS(admin.put_raw("/messages/documents/" + std::to_string(document) + "/media", pdf, "application/pdf"),
                   200);
    const auto sendfax = created_id(
        admin.post("/programs/sendfax", json::object{{"name", "memo"}, {"document_id", document}}), "program_id");
    const auto id = new_transmission(admin, create_contact(admin, "Fax desk", "15550002222"), sendfax);
    send_transmission(admin, id);

    const auto done = await_transmission(admin, id, std::vector<std::string>{"completed", "failed"}, 150s);
    CHECK(str_field(done, "status") == "completed");
    const auto sent = results_of(admin, id);
    CHECK(sent.at("info/pages") == "1");
    CHECK(sent.at("info/transport") == "t38");

    // The desk's inbound fax, and the e-mail it caused.
    json::array mails;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while ((mails = mailbox(maildir)).empty() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
    }
    REQUIRE(mails.size() == 1);
    const auto& mail = mails[0].as_object();
    CHECK(str_field(mail, "to").find("faxdesk@example.com") != std::string::npos);
    const auto& attachments = member(mail, "attachments").as_array();
    REQUIRE(attachments.size() == 1);
    const auto& attachment = attachments[0].as_object();
    CHECK(str_field(attachment, "type") == "application/pdf");
    CHECK(member(attachment, "pdf").as_bool());
    CHECK(int_field(attachment, "pages") == 1);

    Response listing = desk.get("/transmissions");
    REQUIRE_STATUS(listing, 200);
    std::vector<std::int64_t> inbound;
    for (const auto& t : as_array(listing)) {
        if (str_field(t.as_object(), "direction") == "inbound")
            inbound.push_back(int_field(t.as_object(), "transmission_id"));
    }
    REQUIRE(inbound.size() == 1);
    const auto received = results_of(desk, inbound[0]);
    CHECK(received.at("info/pages") == "1");
    CHECK(received.at("info/transport") == "t38");
}

TEST_CASE("sip: provider fields and settings the gateway cannot use are refused with 412, nothing stored") {
    ServerProcess server;
    Client admin = admin_client(server);
    const auto before = total_count(admin.get("/providers"));
    const json::object ok{{"name", "trunk"},       {"type", "sip"},       {"service_flag", 3},
                          {"username", "ictcore"}, {"host", "127.0.0.1"}, {"port", 5060}};
    auto refused = [&](json::object body, std::string_view mention) {
        CAPTURE(json::serialize(body));
        const std::string message = check_error(admin.post("/providers", body), 412);
        CHECK_MESSAGE(contains_ci(message, mention), message);
        CHECK(total_count(admin.get("/providers")) == before);
    };
    auto with_settings = [&ok](json::object settings) {
        json::object body = ok;
        body["settings"] = std::move(settings);
        return body;
    };
    json::object no_host = ok;
    no_host.erase("host");
    refused(no_host, "host");
    json::object bad_port = ok;
    bad_port["port"] = 70000;
    refused(bad_port, "port");
    json::object bad_dialstring = ok;
    bad_dialstring["dialstring"] = "tel:{number}";
    refused(bad_dialstring, "dialstring");
    bad_dialstring["dialstring"] = "sip:fixed@example.com";  // no {number}: every call to one place
    refused(bad_dialstring, "dialstring");
    refused(with_settings({{"listen", "0.0.0.0:5060"}}), "listen");
    refused(with_settings({{"listen", "127.0.0.1"}}), "listen");
    refused(with_settings({{"listen", "127.0.0.1:99999"}}), "listen");
    refused(with_settings({{"codecs", json::array{"PCMU", "G729"}}}), "codecs");
    refused(with_settings({{"codecs", json::array{}}}), "codecs");
    refused(with_settings({{"ring_timeout", 0}}), "ring_timeout");
    refused(with_settings({{"digit_wait", 61}}), "digit_wait");
    refused(with_settings({{"t38", "yes"}}), "t38");
    refused(with_settings({{"station_id", "a station id longer than twenty"}}), "station_id");
    refused(with_settings({{"register_expires", 10}}), "register_expires");

    // And one that works, with every setting.
    json::object good = with_settings({{"listen", "127.0.0.1:0"},
                                       {"caller_id", "15550001"},
                                       {"codecs", json::array{"PCMA"}},
                                       {"ring_timeout", 20},
                                       {"digit_wait", 3},
                                       {"t38", true},
                                       {"ecm", false},
                                       {"station_id", "+1 555 0001"},
                                       {"register_expires", 600},
                                       {"max_duration", 120}});
    good["dialstring"] = "sip:{number}@{host}:{port};user=phone";
    created_id(admin.post("/providers", good), "provider_id");
    CHECK(total_count(admin.get("/providers")) == before + 1);
}

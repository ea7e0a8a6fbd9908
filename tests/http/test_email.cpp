// E-mail end to end through ictcore-server (issue 6): an `smtp` provider pointing at a real
// SMTP server (tests/rigs/smtp_rig.py) on a loopback port, a template with an attachment
// uploaded over HTTP, and a campaign over a group whose addresses script the server's
// answers. What arrives is read back from the server's Maildir with Python's e-mail parser.
#include "helpers.hpp"
#include "rig_process.hpp"

#include <array>
#include <cstdio>
#include <set>

namespace {

constexpr const char* summary_py = R"py(
import email, email.policy, json, os, sys
out = []
new = os.path.join(sys.argv[1], 'new')
for name in sorted(os.listdir(new)):
    m = email.message_from_binary_file(open(os.path.join(new, name), 'rb'), policy=email.policy.default)
    out.append({'to': str(m['to']), 'subject': str(m['subject']),
                'text': m.get_body(('plain',)).get_content(), 'html': m.get_body(('html',)).get_content(),
                'attachments': [[a.get_filename(), a.get_payload(decode=True).hex()] for a in m.iter_attachments()]})
print(json.dumps(out))
)py";

json::array mailbox_summary(const std::filesystem::path& maildir) {
    ::setenv("ICTCORE_MAIL_SUMMARY", summary_py, 1);
    const std::string cmd = "/usr/bin/python3 -c \"$ICTCORE_MAIL_SUMMARY\" '" + maildir.string() + "'";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        std::array<char, 4096> buf{};
        std::size_t n;
        while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
        ::pclose(p);
    }
    return json::parse(out).as_array();
}

std::string hex_of(const std::string& bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (const unsigned char ch : bytes) {
        hex += digits[ch >> 4];
        hex += digits[ch & 15];
    }
    return hex;
}

}  // namespace

TEST_CASE("email: a campaign through a real SMTP server; 4xx retried, 5xx failed, content intact") {
    TempDir dir("ictcore-email");
    const auto maildir = dir.path() / "maildir";
    ictcore::test::RigProcess smtp(
        {"/usr/bin/python3", std::string(ICTCORE_TEST_RIGS) + "/smtp_rig.py", maildir.string()});
    ServerOptions options;
    options.args = {"--retry-delay", "1"};
    ServerProcess server(options);
    Client admin = admin_client(server);

    REQUIRE_STATUS(admin.put("/providers/" + std::to_string(http_test_helpers::seeded_email_provider),
                             json::object{{"active", 0}}),
                   200);
    created_id(admin.post("/providers",
                          json::object{{"name", "local smtp"},
                                       {"type", "smtp"},
                                       {"service_flag", 8},
                                       {"username", "ictcore"},
                                       {"host", "127.0.0.1"},
                                       {"port", smtp.port()},
                                       {"settings", json::object{{"tls", "none"}, {"from", "news@example.com"}}}}),
               "provider_id");
    const std::int64_t template_id =
        created_id(admin.post("/messages/templates", json::object{{"name", "news"},
                                                                  {"subject", "News for [contact:first_name]"},
                                                                  {"body", "<p>Hello [contact:first_name]</p>"},
                                                                  {"body_alt", "Hello [contact:first_name]"}}),
                   "template_id");
    std::string attachment = "%PDF-1.4\n";
    for (int i = 0; i < 2000; ++i) attachment += static_cast<char>((i * 31) % 256);
    attachment += "\n%%EOF\n";
    REQUIRE_STATUS(admin.request("PUT", "/messages/templates/" + std::to_string(template_id) + "/media", attachment,
                                 "application/pdf", {{"Content-Disposition", "attachment; filename=\"news.pdf\""}}),
                   200);
    const std::int64_t program_id = created_id(
        admin.post("/programs/sendemail", json::object{{"name", "news"}, {"template_id", template_id}}), "program_id");

    // 8 accepted, 2 accepted on the second try, 2 refused for good.
    std::string csv;
    std::vector<std::string> accepted;
    for (int i = 0; i < 12; ++i) {
        const std::string local = i < 8 ? "ok" : i < 10 ? "flaky" : "perm";
        const std::string address = local + "-" + std::to_string(i) + "@example.com";
        if (local != "perm") accepted.push_back(address);
        csv += "+1415555000" + std::to_string(10 + i) + ",Reader" + std::to_string(i) + ",," + address + "\n";
    }
    const std::int64_t group_id = create_group(admin, "news");
    REQUIRE_STATUS(admin.post_raw("/groups/" + std::to_string(group_id) + "/csv", csv, "text/csv"), 200);
    const std::int64_t campaign_id = created_id(
        admin.post("/campaigns", json::object{{"program_id", program_id}, {"group_id", group_id}, {"try_allowed", 2}}),
        "campaign_id");
    REQUIRE_STATUS(admin.put("/campaigns/" + std::to_string(campaign_id) + "/start", json::object{}), 200);

    json::object campaign;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    do {
        std::this_thread::sleep_for(50ms);
        campaign = as_object(admin.get("/campaigns/" + std::to_string(campaign_id)));
    } while (str_field(campaign, "status") == "running" && std::chrono::steady_clock::now() < deadline);
    CHECK(str_field(campaign, "status") == "completed");
    CHECK(int_field(campaign, "completed") == 10);
    CHECK(int_field(campaign, "failed") == 2);

    Response list = admin.get("/transmissions?campaign_id=" + std::to_string(campaign_id));
    REQUIRE_STATUS(list, 200);
    int refused = 0, retried = 0;
    for (const auto& v : as_array(list)) {
        const json::object& t = v.as_object();
        if (str_field(t, "status") == "failed") {
            ++refused;
            CHECK(int_field(t, "try_done") == 1);  // a 5xx is not retried
            CHECK(str_field(t, "response") == "550 5.1.1 No such user here");
        } else if (int_field(t, "try_done") == 2) {
            ++retried;
        }
    }
    CHECK(refused == 2);
    CHECK(retried == 2);

    const json::array mails = mailbox_summary(maildir);
    REQUIRE(mails.size() == accepted.size());
    std::set<std::string> to;
    for (const auto& v : mails) {
        const json::object& m = v.as_object();
        to.insert(std::string(m.at("to").as_string()));
        const std::string subject(m.at("subject").as_string());
        REQUIRE(subject.rfind("News for Reader", 0) == 0);
        const std::string reader = subject.substr(std::string("News for ").size());
        CHECK(m.at("text").as_string() == "Hello " + reader);
        CHECK(std::string(m.at("html").as_string()).find("<p>Hello " + reader + "</p>") != std::string::npos);
        const auto& attachments = m.at("attachments").as_array();
        REQUIRE(attachments.size() == 1);
        CHECK(attachments[0].as_array()[0].as_string() == "news.pdf");
        CHECK(attachments[0].as_array()[1].as_string() == hex_of(attachment));
    }
    CHECK(to == std::set<std::string>(accepted.begin(), accepted.end()));
}

// SMS end to end through ictcore-server and a real Kannel (issue 6): bearerbox + smsbox with
// fakesmsc ("fake1") and a scripted HTTP SMSC ("http1"), started per test by
// tests/rigs/kannel_rig.py on loopback ports. Messages are read back from what the SMSCs got;
// delivery reports come from Kannel to the server's report route; inbound SMS come from
// fakesmsc through Kannel's get-url.
#include "helpers.hpp"
#include "kannel_rig.hpp"

#include <map>
#include <set>

using namespace http_test_helpers;
using namespace http_test_helpers::campaign_helpers;

namespace {

// A server whose SMS go through Kannel (the seeded loopback SMS provider is off), and the rig
// whose get-url points back at the server.
struct KannelSetup {
    TempDir dir{"ictcore-kannel"};
    ServerProcess server;
    Client admin;
    std::unique_ptr<ictcore::test::KannelRig> rig;

    explicit KannelSetup(ServerOptions options = with_retry_delay())
        : server(std::move(options)), admin(admin_client(server)) {
        Response settings = admin.get("/gateways/kannel");
        REQUIRE_STATUS(settings, 200);
        const std::string get_url = str_field(as_object(settings), "get_url");
        // The server's public URL (from --listen here) with the inbound key and Kannel's escapes.
        CHECK(get_url.rfind("http://127.0.0.1:" + std::to_string(server.port()) + "/gateways/kannel/mo?key=", 0) == 0);
        CHECK(get_url.find("&from=%p&to=%P&text=%a") != std::string::npos);
        rig = std::make_unique<ictcore::test::KannelRig>(dir.path() / "kannel", get_url);
        set_provider_active(admin, seeded_sms_provider, false);
    }
    static ServerOptions with_retry_delay() {
        ServerOptions o;
        o.args = {"--retry-delay", "1"};
        return o;
    }
    std::int64_t provider(const std::string& smsc, json::object extra = {}) {
        json::object settings{{"smsc", smsc}, {"sender", "ICT"}};
        for (const auto& [k, v] : extra) settings[k] = v;
        return created_id(admin.post("/providers", json::object{{"name", "kannel " + smsc},
                                                                {"type", "kannel"},
                                                                {"service_flag", 4},
                                                                {"username", rig->user()},
                                                                {"password", rig->password()},
                                                                {"host", "127.0.0.1"},
                                                                {"port", rig->sendsms_port()},
                                                                {"settings", settings}}),
                          "provider_id");
    }
    std::int64_t contact(const std::string& phone) {
        return created_id(admin.post("/contacts", json::object{{"first_name", "Phone"}, {"phone", phone}}),
                          "contact_id");
    }
    std::int64_t send_to(const std::string& phone, std::int64_t program_id, std::int64_t try_allowed = 1) {
        const auto id = new_transmission(admin, contact(phone), program_id, json::object{{"try_allowed", try_allowed}});
        send_transmission(admin, id);
        return id;
    }
};

std::string last_response(Client& c, std::int64_t transmission_id) {
    const auto spools = spools_of(c, transmission_id);
    if (spools.empty()) return {};
    const auto& last = spools.back().as_object();
    const auto* r = last.if_contains("response");
    return r && r->is_string() ? std::string(r->as_string()) : std::string();
}

}  // namespace

TEST_CASE("kannel: an SMS campaign of 100 reaches the SMSC as UCS-2 with its text, and delivery reports complete it") {
    KannelSetup k;
    k.provider("fake1");
    const std::string text = "Привет! Your code is 42 — €5 off";
    const auto program_id = new_sms_program(k.admin, "unicode offer", text);
    const auto phones = numbered_phones("1555200", 100);
    const auto group = group_of_phones(k.admin, "hundred", phones);
    const auto campaign_id = new_campaign(k.admin, program_id, group);
    start_campaign(k.admin, campaign_id);

    REQUIRE(k.rig->wait_for_messages(100, 30s));
    const auto messages = k.rig->messages();
    CHECK(messages.size() == 100);  // none twice
    std::set<std::string> to;
    for (const auto& m : messages) {
        CHECK(m.smsc == "fake1");
        CHECK(m.from == "ICT");
        CHECK(m.coding == 2);
        CHECK(m.text == text);
        to.insert(m.to);
    }
    CHECK(to == std::set<std::string>(phones.begin(), phones.end()));

    json::object campaign;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    do {
        std::this_thread::sleep_for(50ms);
        campaign = get_campaign(k.admin, campaign_id);
    } while (str_field(campaign, "status") == "running" && std::chrono::steady_clock::now() < deadline);
    CHECK(str_field(campaign, "status") == "completed");
    CHECK(int_field(campaign, "completed") == 100);
    CHECK(int_field(campaign, "failed") == 0);

    // Each spool was completed by the report, not by smsbox's 202.
    Response list = k.admin.get("/transmissions?campaign_id=" + std::to_string(campaign_id));
    REQUIRE_STATUS(list, 200);
    const auto& all = as_array(list);
    REQUIRE(all.size() == 100);
    const auto sample = spools_of(k.admin, int_field(all[17].as_object(), "transmission_id"));
    REQUIRE(sample.size() == 1);
    CHECK(str_field(sample[0].as_object(), "status") == "completed");
    CHECK(str_field(sample[0].as_object(), "response").rfind("delivered to the phone", 0) == 0);
    CHECK(opt_int(sample[0].as_object(), "time_connect"));
}

TEST_CASE("kannel: GSM text goes as plain text; SMSC failures map to failed, rejected and buffered") {
    KannelSetup k;
    k.provider("http1");
    const auto program_id = new_sms_program(k.admin, "plain", "Meeting at 10:00 (room 4)");

    const auto delivered = k.send_to("15553000001", program_id);
    const auto barred = k.send_to("19990000001", program_id, 3);       // SMSC refuses: DLR 16
    const auto undelivered = k.send_to("18880000001", program_id, 2);  // DLR 2 each time
    const auto buffered = k.send_to("17770000001", program_id);        // DLR 4, then nothing

    await_transmission(k.admin, delivered, "completed", 15s);
    const auto b = await_transmission(k.admin, barred, "failed", 15s);
    CHECK(int_field(b, "try_done") == 1);  // a rejection is not retried
    CHECK(str_field(b, "response").find("NACK/ERR number barred") != std::string::npos);

    // A failed report is retried within try_allowed, then the transmission fails.
    const auto u = await_transmission(k.admin, undelivered, "failed", 20s);
    CHECK(int_field(u, "try_done") == 2);
    CHECK(last_response(k.admin, undelivered).find("undelivered") != std::string::npos);

    // Buffered: the spool stays connected and the transmission processing.
    std::this_thread::sleep_for(1s);
    CHECK(str_field(get_transmission(k.admin, buffered), "status") == "processing");
    const auto spools = spools_of(k.admin, buffered);
    REQUIRE(spools.size() == 1);
    CHECK(str_field(spools[0].as_object(), "status") == "connected");

    CHECK(k.rig->wait_for_messages(5, 10s));
    const auto messages = k.rig->messages();
    std::map<std::string, int> per_number;
    for (const auto& m : messages) {
        ++per_number[m.to];
        CHECK(m.coding == 0);
        CHECK(m.text == "Meeting at 10:00 (room 4)");
    }
    CHECK(per_number["15553000001"] == 1);
    CHECK(per_number["19990000001"] == 1);
    CHECK(per_number["18880000001"] == 2);
    CHECK(per_number["17770000001"] == 1);
}

TEST_CASE("kannel: the report route checks each spool's token and ignores what awaits nothing") {
    KannelSetup k;
    k.provider("http1");
    const auto program_id = new_sms_program(k.admin, "wait", "hold on");
    const auto id = k.send_to("17770000002", program_id);  // buffered: awaits its report
    const auto spools = [&] {
        for (int i = 0; i < 200; ++i) {
            auto s = spools_of(k.admin, id);
            if (!s.empty() && str_field(s[0].as_object(), "status") == "connected") return s;
            std::this_thread::sleep_for(25ms);
        }
        return spools_of(k.admin, id);
    }();
    REQUIRE(spools.size() == 1);
    const auto spool_id = int_field(spools[0].as_object(), "spool_id");
    REQUIRE(str_field(spools[0].as_object(), "status") == "connected");

    Client anyone(k.server.port());
    const std::string base = "/gateways/kannel/report?spool=" + std::to_string(spool_id);
    CHECK(anyone.get(base + "&token=00000000000000000000000000000000&type=1").status == 401);
    CHECK(anyone.get(base + "&type=1").status == 401);
    CHECK(anyone.get("/gateways/kannel/report?spool=abc&token=x&type=1").status == 412);
    CHECK(anyone.get("/gateways/kannel/mo?key=wrong&from=1&to=2&text=x").status == 401);
    // Nothing changed.
    CHECK(str_field(get_transmission(k.admin, id), "status") == "processing");
    // An admin-only route: a plain user may not read the inbound key.
    CHECK(anyone.get("/gateways/kannel").status == 401);
}

TEST_CASE("kannel: an inbound SMS becomes an inbound transmission of the account with that number") {
    KannelSetup k;
    // The admin's default account receives on +1 555 700 0001.
    Response accounts = k.admin.get("/accounts");
    REQUIRE_STATUS(accounts, 200);
    const auto account_id = int_field(as_array(accounts).at(0).as_object(), "account_id");
    REQUIRE_STATUS(k.admin.put("/accounts/" + std::to_string(account_id), json::object{{"phone", "+15557000001"}}),
                   200);
    const auto program_id =
        created_id(k.admin.post("/programs/receivesms", json::object{{"name", "inbox"}}), "program_id");

    k.rig->send_mo("15551230000", "15557000001", "Hi there, is this ICT? ✓");
    k.rig->send_mo("15551230000", "15559999999", "nobody has this number");

    json::array inbound;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
        Response r = k.admin.get("/transmissions?direction=inbound");
        REQUIRE_STATUS(r, 200);
        inbound = as_array(r);
        if (!inbound.empty()) break;
        std::this_thread::sleep_for(50ms);
    }
    REQUIRE(inbound.size() == 1);
    const auto& t = inbound[0].as_object();
    CHECK(str_field(t, "status") == "completed");
    CHECK(int_field(t, "program_id") == program_id);
    CHECK(int_field(t, "account_id") == account_id);
    const auto spools = spools_of(k.admin, int_field(t, "transmission_id"));
    REQUIRE(spools.size() == 1);
    Response results =
        k.admin.get("/spools/" + std::to_string(int_field(spools[0].as_object(), "spool_id")) + "/result");
    REQUIRE_STATUS(results, 200);
    std::map<std::string, std::string> by_name;
    for (const auto& v : as_array(results))
        by_name[str_field(v.as_object(), "name")] = str_field(v.as_object(), "data");
    CHECK(by_name["text"] == "Hi there, is this ICT? ✓");
    CHECK(by_name["from"] == "15551230000");
    // The sender became a contact.
    Response contact = k.admin.get("/contacts/" + std::to_string(int_field(t, "contact_id")));
    REQUIRE_STATUS(contact, 200);
    CHECK(str_field(as_object(contact), "phone") == "15551230000");

    // The message to an unknown number was answered and dropped: still one inbound after a while.
    std::this_thread::sleep_for(1s);
    CHECK(as_array(k.admin.get("/transmissions?direction=inbound")).size() == 1);
}

TEST_CASE("kannel: Kannel stopped mid-run — attempts fail as provider errors and retries succeed once it is back") {
    KannelSetup k;
    k.provider("fake1");
    const auto program_id = new_sms_program(k.admin, "retry", "are you there");
    const auto before = k.send_to("15554000001", program_id, 5);
    await_transmission(k.admin, before, "completed", 15s);

    k.rig->stop_kannel();
    std::vector<std::int64_t> during;
    for (int i = 2; i <= 6; ++i) during.push_back(k.send_to("1555400000" + std::to_string(i), program_id, 5));
    for (const auto id : during) {
        const auto t = await_transmission(k.admin, id, "pending_retry", 15s);
        CHECK(str_field(t, "response").find("kannel 127.0.0.1") != std::string::npos);
    }
    k.rig->start_kannel();
    for (const auto id : during) {
        const auto t = await_transmission(k.admin, id, "completed", 30s);
        CHECK(int_field(t, "try_done") >= 2);
    }
    // fakesmsc's log of what it got may trail the delivery reports a little.
    CHECK(k.rig->wait_for_messages(6, 10s));
    std::set<std::string> to;
    for (const auto& m : k.rig->messages()) to.insert(m.to);
    CHECK(to.size() == 6);
    CHECK(k.rig->messages().size() == 6);
}

TEST_CASE("kannel: credentials smsbox refuses are a provider error: the next provider sends the message") {
    KannelSetup k;
    const auto refused =
        created_id(k.admin.post("/providers", json::object{{"name", "kannel wrong password"},
                                                           {"type", "kannel"},
                                                           {"service_flag", 4},
                                                           {"username", k.rig->user()},
                                                           {"password", "not-the-password"},
                                                           {"host", "127.0.0.1"},
                                                           {"port", k.rig->sendsms_port()},
                                                           {"weight", 1000},
                                                           {"settings", json::object{{"smsc", "fake1"}}}}),
                   "provider_id");
    const auto working = k.provider("fake1", json::object{});
    REQUIRE_STATUS(k.admin.put("/providers/" + std::to_string(working), json::object{{"weight", 1}}), 200);
    const auto program_id = new_sms_program(k.admin, "failover", "hello again");
    const auto id = k.send_to("15556000001", program_id);
    await_transmission(k.admin, id, "completed", 15s);
    const auto spools = spools_of(k.admin, id);
    REQUIRE(spools.size() == 1);  // one attempt, moved to the next provider
    CHECK(int_field(spools[0].as_object(), "provider_id") == working);
    CHECK(k.rig->wait_for_messages(1, 10s));
    CHECK(k.rig->messages().size() == 1);

    // With only the refused provider left, the attempt fails with smsbox's answer.
    set_provider_active(k.admin, working, false);
    const auto alone = k.send_to("15556000002", program_id);
    const auto t = await_transmission(k.admin, alone, "failed", 15s);
    CHECK(str_field(t, "response").find("provider " + std::to_string(refused)) != std::string::npos);
    CHECK(str_field(t, "response").find("403") != std::string::npos);
}

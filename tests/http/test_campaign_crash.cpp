// Crash safety of campaigns (issue 5, item 6): the real server is killed with SIGKILL in the
// middle of a 10,000-contact SMS campaign through a loopback provider (100 ms latency, at most
// 300 deliveries at once, so the campaign takes a few seconds), then restarted on the same
// data without any further call. The campaign must resume by itself and end completed, and
// the provider's ledger (the test's view of "the gateway") must hold exactly one delivery per
// contact: none lost, none sent twice.
#include "helpers.hpp"

#include <signal.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

namespace {

constexpr int contacts_total = 10000;

int ledger_lines(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return static_cast<int>(std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n'));
}

json::object get_campaign(Client& c, std::int64_t id) {
    Response r = c.get("/campaigns/" + std::to_string(id));
    REQUIRE_STATUS(r, 200);
    return as_object(r);
}

}  // namespace

TEST_CASE("campaign crash: kill -9 mid-campaign, restart: it resumes and reaches each contact exactly once") {
    TempDir root("ictcore-campaign-crash");
    const auto data_dir = root.path() / "data";
    const auto ledger_path = root.path() / "ledger.jsonl";

    auto server = std::make_unique<ServerProcess>(on_data(data_dir));
    Client admin = admin_client(*server);

    // Our loopback provider is the only one serving SMS: the ledger then sees every delivery.
    const std::int64_t provider_id =
        created_id(admin.post("/providers", json::object{{"name", "crash loopback"},
                                                         {"type", "loopback"},
                                                         {"service_flag", 4},
                                                         {"username", "crash"},
                                                         {"settings", json::object{{"latency_ms", 100},
                                                                                   {"concurrency", 300},
                                                                                   {"ledger", ledger_path.string()}}}}),
                   "provider_id");
    REQUIRE_STATUS(
        admin.put("/providers/" + std::to_string(http_test_helpers::seeded_sms_provider), json::object{{"active", 0}}),
        200);

    const std::int64_t program_id = http_test_helpers::new_sms_program(admin, "crash", "campaign crash test");
    const std::int64_t group_id = create_group(admin, "crash");
    {
        std::string csv;
        for (int i = 0; i < contacts_total; ++i) {
            const std::string n = std::to_string(i);
            csv += "+141555" + std::string(5 - n.size(), '0') + n + ",Crash" + n + "\n";
        }
        Response r = admin.post_raw("/groups/" + std::to_string(group_id) + "/csv", csv, "text/csv");
        REQUIRE_STATUS(r, 200);
        REQUIRE_MESSAGE(int_field(as_object(r), "imported") == contacts_total, r.describe());
    }
    const std::int64_t campaign_id = created_id(
        admin.post("/campaigns", json::object{{"program_id", program_id}, {"group_id", group_id}}), "campaign_id");
    Response started = admin.put("/campaigns/" + std::to_string(campaign_id) + "/start", json::object{});
    REQUIRE_STATUS(started, 200);
    const auto start = std::chrono::steady_clock::now();

    // Kill a good way in: some outcomes committed, some delivered but not yet committed (they
    // are delivered again after the restart and deduplicated), the rest not yet begun.
    const auto deadline = start + 20s;
    while (ledger_lines(ledger_path) < contacts_total / 4 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(2ms);
    const json::object at_kill = get_campaign(admin, campaign_id);
    server->signal(SIGKILL);
    const ExitStatus killed = server->wait(10s);
    REQUIRE_MESSAGE(killed.signal == SIGKILL, "the server did not die of SIGKILL: " << killed.describe());
    const int delivered_at_kill = ledger_lines(ledger_path);
    const std::int64_t done_at_kill = int_field(at_kill, "contact_done");
    MESSAGE("SIGKILL "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count()
            << " ms after the start, with " << delivered_at_kill << " deliveries in the ledger and " << done_at_kill
            << " contacts done");
    // The kill must really have interrupted the campaign, or the test proves nothing.
    REQUIRE(str_field(at_kill, "status") == "running");
    REQUIRE(delivered_at_kill < contacts_total);

    // Restart on the same data and make no call: the campaign goes on by itself.
    server.reset();
    ServerProcess again(on_data(data_dir));
    Client admin2 = admin_client(again);
    json::object campaign;
    const auto restart = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - restart < 60s) {
        campaign = get_campaign(admin2, campaign_id);
        if (str_field(campaign, "status") != "running") break;
        std::this_thread::sleep_for(50ms);
    }
    MESSAGE("after the restart the campaign took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - restart).count()
            << " ms to finish: " << json::serialize(campaign));
    CHECK(str_field(campaign, "status") == "completed");
    CHECK(int_field(campaign, "contact_total") == contacts_total);
    CHECK(int_field(campaign, "contact_done") == contacts_total);
    CHECK(int_field(campaign, "completed") == contacts_total);
    CHECK(int_field(campaign, "failed") == 0);
    CHECK(int_field(campaign, "pending") == 0);

    // One transmission per contact, every one completed.
    Response list = admin2.get("/transmissions?campaign_id=" + std::to_string(campaign_id));
    REQUIRE_STATUS(list, 200);
    std::map<std::int64_t, std::int64_t> contact_of;  // transmission -> contact
    std::set<std::int64_t> contacts;
    int not_completed = 0;
    for (const auto& v : as_array(list)) {
        const json::object& t = v.as_object();
        contact_of[int_field(t, "transmission_id")] = int_field(t, "contact_id");
        contacts.insert(int_field(t, "contact_id"));
        if (str_field(t, "status") != "completed") ++not_completed;
    }
    CHECK(contact_of.size() == static_cast<std::size_t>(contacts_total));
    CHECK(contacts.size() == static_cast<std::size_t>(contacts_total));
    CHECK(not_completed == 0);

    // The gateway's count: exactly one delivery per contact (and per destination).
    std::ifstream in(ledger_path);
    std::string line;
    std::map<std::int64_t, int> deliveries_of_contact;
    std::map<std::string, int> deliveries_to;
    int lines = 0, unknown = 0, malformed = 0;
    while (std::getline(in, line)) {
        ++lines;
        try {
            const json::object o = json::parse(line).as_object();
            const auto it = contact_of.find(o.at("transmission_id").to_number<std::int64_t>());
            if (it == contact_of.end()) {
                ++unknown;
                continue;
            }
            ++deliveries_of_contact[it->second];
            ++deliveries_to[std::string(o.at("destination").as_string())];
        } catch (const std::exception&) {
            ++malformed;
        }
    }
    int twice = 0;
    for (const auto& [contact, n] : deliveries_of_contact)
        if (n != 1) ++twice;
    int twice_to = 0;
    for (const auto& [destination, n] : deliveries_to)
        if (n != 1) ++twice_to;
    CHECK(malformed == 0);
    CHECK(unknown == 0);
    CHECK(lines == contacts_total);
    const int unreached = contacts_total - static_cast<int>(deliveries_of_contact.size());
    CHECK_MESSAGE(unreached == 0, unreached << " contacts never reached");
    CHECK_MESSAGE(twice == 0, twice << " contacts reached more than once");
    CHECK_MESSAGE(twice_to == 0, twice_to << " destinations reached more than once");
    (void)provider_id;
}

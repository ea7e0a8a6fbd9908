// Campaigns over HTTP against a real server, delivering SMS through a loopback provider whose
// ledger file records every delivery: CRUD with defaults, filters and the guide's example
// body; refusals that change nothing; ownership (another user's campaign is 404 everywhere);
// a run that reaches every contact once; pacing by delay and cpm (timed from the start call
// to the ledger's last entry) and a pace changed mid-run; stop/resume without duplicates,
// also under quick start/stop churn and two clients racing start against stop; try_allowed
// with failing destinations; provider concurrency and a stop while attempts wait for a slot;
// contacts an e-mail program cannot reach (counted failed); contacts linked late or
// unlinked; broken campaigns (program, group or provider gone, before or during a run) and
// their recovery; deleting a running campaign; start/stop schedules and their cancellation;
// a start schedule, a running and a paused campaign across a server restart.
#include "helpers.hpp"

#include <map>
#include <set>

using namespace http_test_helpers::campaign_helpers;

namespace {

constexpr std::int64_t unknown_id = 987654;
constexpr std::int64_t sms = 4;

// The SMS path of a test server: one loopback provider writing a ledger, the only active one.
struct SmsPath {
    std::filesystem::path ledger;
    std::int64_t provider = 0;
};

SmsPath ledger_provider(Client& admin, const TempDir& dir, json::object settings = {}) {
    SmsPath p;
    p.ledger = dir.path() / "ledger.jsonl";
    settings["ledger"] = p.ledger.string();
    p.provider = new_loopback_provider(admin, "campaign-sms", sms, settings);
    set_provider_active(admin, seeded_sms_provider, false);
    return p;
}

std::set<std::int64_t> transmission_ids(const json::array& rows) {
    const auto ids = ids_of(rows, "transmission_id");
    return {ids.begin(), ids.end()};
}

// The ledger rows of these transmissions.
std::vector<json::object> entries_of(const std::vector<json::object>& ledger, const std::set<std::int64_t>& ids) {
    std::vector<json::object> out;
    for (const auto& row : ledger)
        if (ids.count(int_field(row, "transmission_id"))) out.push_back(row);
    return out;
}

// A destination as compared: an e-mail address as it is, a phone by its digits.
std::string destination_key(const std::string& d) {
    return d.find('@') != std::string::npos ? lower(d) : phone_digits(d);
}

// Every destination (phone or e-mail address) delivered exactly once, and nothing else: the
// campaign's no-duplicate promise checked at the gateway.
void check_once_each(const std::vector<json::object>& entries, const std::vector<std::string>& phones) {
    std::map<std::string, int> seen;
    for (const auto& row : entries) ++seen[destination_key(str_field(row, "destination"))];
    std::vector<std::string> twice;
    for (const auto& [phone, n] : seen)
        if (n > 1) twice.push_back(phone + " x" + std::to_string(n));
    CHECK_MESSAGE(twice.empty(), twice.size() << " destinations delivered more than once, e.g. "
                                              << (twice.empty() ? std::string() : twice.front()));
    std::set<std::string> want;
    for (const auto& p : phones) want.insert(destination_key(p));
    std::vector<std::string> missing, extra;
    for (const auto& p : want)
        if (!seen.count(p)) missing.push_back(p);
    for (const auto& [p, n] : seen)
        if (!want.count(p)) extra.push_back(p);
    CHECK_MESSAGE(missing.empty(), missing.size() << " phones never delivered, e.g. "
                                                  << (missing.empty() ? std::string() : missing.front()));
    CHECK_MESSAGE(extra.empty(),
                  extra.size() << " unexpected destinations, e.g. " << (extra.empty() ? std::string() : extra.front()));
    CHECK(entries.size() == phones.size());
}

std::map<std::string, std::int64_t> status_counts(const json::array& transmissions) {
    std::map<std::string, std::int64_t> out;
    for (const auto& v : transmissions) ++out[str_field(v.as_object(), "status")];
    return out;
}

// Progress counters of a finished campaign that reached `n` contacts, `failed` of them failing.
void check_finished(const json::object& cp, std::int64_t n, std::int64_t failed = 0) {
    CHECK(str_field(cp, "status") == "completed");
    CHECK(int_field(cp, "contact_total") == n);
    CHECK(int_field(cp, "contact_done") == n);
    CHECK(int_field(cp, "completed") == n - failed);
    CHECK(int_field(cp, "failed") == failed);
    CHECK(int_field(cp, "pending") == 0);
}

// Polls the ledger until it holds at least `n` entries (or 10 s pass: REQUIRE fails).
void await_ledger(const std::filesystem::path& ledger, std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ledger_count(ledger) < n) {
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the ledger never reached " << n << " entries");
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::vector<std::int64_t> listed_campaigns(Client& c, const std::string& query = "") {
    Response r = c.get("/campaigns" + query);
    REQUIRE_STATUS(r, 200);
    const auto ids = ids_of(as_array(r), "campaign_id");
    CHECK_MESSAGE(total_count(r) == static_cast<std::int64_t>(ids.size()), r.describe());
    return ids;
}

json::object statistics(Client& c) {
    Response r = c.get("/statistics");
    REQUIRE_STATUS(r, 200);
    return as_object(r);
}

// The caller's default account: the lowest of its accounts.
std::int64_t default_account(Client& c, std::int64_t user_id) {
    Response r = c.get("/accounts?user_id=" + std::to_string(user_id));
    REQUIRE_STATUS(r, 200);
    const auto ids = ids_of(as_array(r), "account_id");
    REQUIRE_MESSAGE(!ids.empty(), r.describe());
    return *std::min_element(ids.begin(), ids.end());
}

std::int64_t inbound_program(Client& c, const std::string& name) {
    return created_id(c.post("/programs/receivesms", json::object{{"name", name}}), "program_id");
}

}  // namespace

TEST_CASE("campaigns: create with defaults, the guide's body, list and filters, update rules, delete") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t admin_id = user_id_of(admin, "admin");
    const std::int64_t account = default_account(admin, admin_id);
    const std::int64_t second_account =
        created_id(admin.post("/accounts", json::object{{"username", "campaign-second"}}), "account_id");
    REQUIRE(second_account != account);
    const std::int64_t program = new_sms_program(admin, "Crud");
    const std::int64_t program2 = new_sms_program(admin, "Crud2");
    const std::int64_t group = group_of_phones(admin, "three", numbered_phones("300100", 3));
    const std::int64_t group2 = group_of_phones(admin, "two", numbered_phones("300200", 2));

    const std::int64_t before = unix_seconds();
    const std::int64_t plain = new_campaign(admin, program, group);
    json::object cp = get_campaign(admin, plain);
    CHECK(int_field(cp, "campaign_id") == plain);
    CHECK(int_field(cp, "program_id") == program);
    CHECK(int_field(cp, "group_id") == group);
    CHECK(int_field(cp, "account_id") == account);
    CHECK(int_field(cp, "delay") == 0);
    CHECK(int_field(cp, "cpm") == 0);
    CHECK(int_field(cp, "try_allowed") == 1);
    CHECK(str_field(cp, "status") == "new");
    CHECK_FALSE(opt_str(cp, "reason").has_value());
    CHECK(int_field(cp, "contact_total") == 3);  // the group's size at creation
    CHECK(int_field(cp, "contact_done") == 0);
    CHECK(int_field(cp, "completed") == 0);
    CHECK(int_field(cp, "failed") == 0);
    CHECK(int_field(cp, "pending") == 3);
    CHECK(int_field(cp, "time_created") >= before);
    CHECK(int_field(cp, "time_created") <= unix_seconds());
    CHECK(int_field(cp, "created_by") == admin_id);

    // The guide's example: its account key is an API Blueprint artefact, its status is output only.
    const std::int64_t guide =
        new_campaign(admin, program, group,
                     json::object{{"delay", 2},
                                  {"try_allowed", 2},
                                  {"account_id: 1 (number) - account_id of associated account", second_account},
                                  {"status", "active"}});
    cp = get_campaign(admin, guide);
    CHECK(int_field(cp, "delay") == 2);
    CHECK(int_field(cp, "try_allowed") == 2);
    CHECK(int_field(cp, "account_id") == second_account);
    CHECK(str_field(cp, "status") == "new");
    CHECK_FALSE(cp.contains("account_id: 1 (number) - account_id of associated account"));

    const std::int64_t other = new_campaign(admin, program2, group2, json::object{{"cpm", 600}});
    CHECK(int_field(get_campaign(admin, other), "cpm") == 600);
    CHECK(int_field(get_campaign(admin, other), "contact_total") == 2);

    // A campaign paced a minute apart stays running after its first contact.
    const std::int64_t slow = new_campaign(admin, program, group, json::object{{"delay", 60000}});
    start_campaign(admin, slow);
    CHECK(str_field(get_campaign(admin, slow), "status") == "running");

    Response r = admin.get("/campaigns");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 4);
    const json::array all = as_array(r);
    CHECK(ids_of(all, "campaign_id") == std::vector<std::int64_t>{plain, guide, other, slow});
    for (const auto& v : all) {
        const json::object& row = v.as_object();
        CAPTURE(json::serialize(row));
        for (const char* key : {"status", "contact_total", "contact_done", "completed", "failed", "pending"})
            CHECK(row.contains(key));
    }
    CHECK(listed_campaigns(admin, "?program_id=" + std::to_string(program2)) == std::vector<std::int64_t>{other});
    CHECK(listed_campaigns(admin, "?group_id=" + std::to_string(group)) ==
          std::vector<std::int64_t>{plain, guide, slow});
    CHECK(listed_campaigns(admin, "?status=running") == std::vector<std::int64_t>{slow});
    CHECK(listed_campaigns(admin, "?status=run").empty());  // status matches exactly
    CHECK(listed_campaigns(admin, "?status=new") == std::vector<std::int64_t>{plain, guide, other});
    r = admin.get("/campaigns?limit=2&offset=1");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "campaign_id") == std::vector<std::int64_t>{guide, other});
    CHECK(total_count(r) == 4);  // every match, not the page

    // Pacing and try_allowed change while running; what it sends and to whom does not.
    r = admin.put(campaign_path(slow), json::object{{"delay", 50000}, {"cpm", 2}, {"try_allowed", 3}});
    REQUIRE_STATUS(r, 200);
    cp = as_object(r);
    CHECK(int_field(cp, "campaign_id") == slow);
    CHECK(int_field(cp, "delay") == 50000);
    CHECK(int_field(cp, "cpm") == 2);
    CHECK(int_field(cp, "try_allowed") == 3);
    CHECK(str_field(cp, "status") == "running");
    for (const auto& body :
         {json::object{{"program_id", program2}}, json::object{{"group_id", group2}},
          json::object{{"account_id", second_account}}, json::object{{"program_id", program2}, {"delay", 7}}}) {
        CAPTURE(json::serialize(body));
        check_error(admin.put(campaign_path(slow), body), 423);
    }
    json::object after = get_campaign(admin, slow);
    CHECK(int_field(after, "program_id") == program);
    CHECK(int_field(after, "group_id") == group);
    CHECK(int_field(after, "account_id") == account);
    CHECK(int_field(after, "delay") == 50000);

    // Paused: it may be pointed elsewhere. Its contact_total then counts what it reached plus
    // the new group's contacts.
    stop_campaign(admin, slow);
    CHECK(str_field(get_campaign(admin, slow), "status") == "paused");
    const auto reached = static_cast<std::int64_t>(campaign_transmissions(admin, slow).size());
    CHECK(reached >= 1);
    r = admin.put(campaign_path(slow), json::object{{"program_id", program2},
                                                    {"group_id", group2},
                                                    {"account_id: 1 (number) - account_id", second_account}});
    REQUIRE_STATUS(r, 200);
    cp = as_object(r);
    CHECK(int_field(cp, "program_id") == program2);
    CHECK(int_field(cp, "group_id") == group2);
    CHECK(int_field(cp, "account_id") == second_account);
    CHECK(str_field(cp, "status") == "paused");
    CHECK(int_field(cp, "contact_total") == reached + 2);
    CHECK(get_campaign(admin, slow) == cp);
    // A new campaign may be pointed elsewhere too.
    r = admin.put(campaign_path(plain), json::object{{"group_id", group2}});
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "contact_total") == 2);

    // Delete: DELETE and the guide's GET …/delete.
    r = admin.del(campaign_path(slow));
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(campaign_path(slow)), 404);
    check_error(admin.del(campaign_path(slow)), 404);
    r = admin.get(campaign_path(guide, "delete"));
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(campaign_path(guide)), 404);
    check_error(admin.get(campaign_path(guide, "delete")), 404);
    CHECK(listed_campaigns(admin) == std::vector<std::int64_t>{plain, other});

    // Unknown ids: 404 on every route.
    check_error(admin.get(campaign_path(unknown_id)), 404);
    check_error(admin.put(campaign_path(unknown_id), json::object{{"delay", 1}}), 404);
    check_error(admin.del(campaign_path(unknown_id)), 404);
    check_error(admin.get(campaign_path(unknown_id, "delete")), 404);
    check_error(admin.put(campaign_path(unknown_id, "start")), 404);
    check_error(admin.put(campaign_path(unknown_id, "stop")), 404);
    check_error(admin.post(campaign_path(unknown_id, "start/schedule"), json::object{{"delay", 60}}), 404);
    check_error(admin.post(campaign_path(unknown_id, "stop/schedule"), json::object{{"delay", 60}}), 404);
    check_error(admin.post(campaign_path(unknown_id, "schedule"), json::object{}), 404);
    check_error(admin.del(campaign_path(unknown_id, "schedule")), 404);
}

TEST_CASE("campaigns: bad input gets 412 (or 404) with a JSON error and changes nothing") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t program = new_sms_program(admin, "Bad");
    const std::int64_t inbound = inbound_program(admin, "Inbound");
    const std::int64_t group = group_of_phones(admin, "g", numbered_phones("300300", 2));
    const json::object ok{{"program_id", program}, {"group_id", group}};
    auto with = [&](json::object changes) {
        json::object body = ok;
        for (auto& [k, v] : changes) body[k] = v;
        return body;
    };

    const std::vector<json::object> bad_creates{
        json::object{},
        json::object{{"group_id", group}},
        json::object{{"program_id", program}},
        with({{"program_id", unknown_id}}),
        with({{"program_id", 0}}),
        with({{"program_id", "one"}}),
        with({{"group_id", unknown_id}}),
        with({{"group_id", -3}}),
        with({{"account_id", unknown_id}}),
        with({{"program_id", inbound}}),
        with({{"delay", -1}}),
        with({{"delay", 86400001}}),
        with({{"delay", "fast"}}),
        with({{"cpm", -1}}),
        with({{"try_allowed", 0}}),
        with({{"try_allowed", 101}}),
        with({{"try_allowed", -1}}),
    };
    for (const auto& body : bad_creates) {
        CAPTURE(json::serialize(body));
        check_error(admin.post("/campaigns", body), 412);
    }
    // Malformed JSON is 412 here as on every other route (see test_groups and test_contacts).
    check_error(admin.post_raw("/campaigns", "{\"program_id\": "), 412);
    check_error(admin.post_raw("/campaigns", "[1, 2]"), 412);
    check_error(admin.post_raw("/campaigns", ""), 412);
    CHECK(listed_campaigns(admin).empty());
    CHECK(int_field(statistics(admin), "campaign_total") == 0);

    // The boundaries themselves are fine.
    const std::int64_t edge = new_campaign(admin, program, group, json::object{{"try_allowed", 100}, {"delay", 0}});
    const std::int64_t id = new_campaign(admin, program, group, json::object{{"delay", 5}, {"try_allowed", 2}});
    const json::object snapshot = get_campaign(admin, id);
    const std::vector<json::object> bad_updates{
        json::object{{"delay", -1}},
        json::object{{"cpm", -5}},
        json::object{{"try_allowed", 0}},
        json::object{{"try_allowed", 101}},
        json::object{{"program_id", unknown_id}},
        json::object{{"program_id", 0}},
        json::object{{"program_id", inbound}},
        json::object{{"group_id", unknown_id}},
        json::object{{"account_id", unknown_id}},
        json::object{{"delay", 10}, {"group_id", unknown_id}},  // nothing of a refused body applies
    };
    for (const auto& body : bad_updates) {
        CAPTURE(json::serialize(body));
        check_error(admin.put(campaign_path(id), body), 412);
        CHECK(get_campaign(admin, id) == snapshot);
    }
    check_error(admin.put_raw(campaign_path(id), "{\"delay\": "), 412);
    check_error(admin.put_raw(campaign_path(id), "[]"), 412);
    CHECK(get_campaign(admin, id) == snapshot);
    CHECK(listed_campaigns(admin) == std::vector<std::int64_t>{edge, id});
    CHECK(campaign_transmissions(admin, id).empty());
}

TEST_CASE("campaigns: another user's campaign is 404 on every route; references must be the caller's") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t bob_id = create_user(admin, "bob", "bob-pass-1");
    Client bob = client_as(server, "bob", "bob-pass-1");

    const std::int64_t program = new_sms_program(admin, "Admin's");
    const std::int64_t group = group_of_phones(admin, "admin's", numbered_phones("300400", 2));
    const std::int64_t admin_account = default_account(admin, user_id_of(admin, "admin"));
    const std::int64_t theirs = new_campaign(admin, program, group);
    const json::object snapshot = get_campaign(admin, theirs);

    check_error(bob.get(campaign_path(theirs)), 404);
    check_error(bob.put(campaign_path(theirs), json::object{{"delay", 5}}), 404);
    check_error(bob.del(campaign_path(theirs)), 404);
    check_error(bob.get(campaign_path(theirs, "delete")), 404);
    check_error(bob.put(campaign_path(theirs, "start")), 404);
    check_error(bob.put(campaign_path(theirs, "stop")), 404);
    check_error(bob.post(campaign_path(theirs, "start/schedule"), json::object{{"delay", 1}}), 404);
    check_error(bob.post(campaign_path(theirs, "stop/schedule"), json::object{{"delay", 1}}), 404);
    check_error(bob.post(campaign_path(theirs, "schedule"), json::object{}), 404);
    check_error(bob.del(campaign_path(theirs, "schedule")), 404);
    CHECK(listed_campaigns(bob).empty());
    CHECK(listed_campaigns(bob, "?campaign_id=" + std::to_string(theirs)).empty());
    CHECK(listed_campaigns(bob, "?program_id=" + std::to_string(program)).empty());

    // Nothing bob tried happened: not deleted, not started, nothing scheduled to fire.
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    CHECK(get_campaign(admin, theirs) == snapshot);
    check_error(admin.del(campaign_path(theirs, "schedule")), 404);
    CHECK(campaign_transmissions(admin, theirs).empty());

    // Bob's own campaign must use his program, group and account.
    const std::int64_t his_program = new_sms_program(bob, "Bob's");
    const std::int64_t his_group = group_of_phones(bob, "bob's", numbered_phones("300500", 2));
    check_error(bob.post("/campaigns", json::object{{"program_id", program}, {"group_id", his_group}}), 412);
    check_error(bob.post("/campaigns", json::object{{"program_id", his_program}, {"group_id", group}}), 412);
    check_error(
        bob.post("/campaigns",
                 json::object{{"program_id", his_program}, {"group_id", his_group}, {"account_id", admin_account}}),
        412);
    CHECK(listed_campaigns(bob).empty());
    const std::int64_t his = new_campaign(bob, his_program, his_group);
    json::object cp = get_campaign(bob, his);
    CHECK(int_field(cp, "account_id") == default_account(bob, bob_id));
    CHECK(int_field(cp, "account_id") != admin_account);
    CHECK(int_field(cp, "created_by") == bob_id);
    check_error(bob.put(campaign_path(his), json::object{{"group_id", group}}), 412);
    CHECK(get_campaign(bob, his) == cp);
    CHECK(listed_campaigns(bob) == std::vector<std::int64_t>{his});

    // He runs it like anyone (through the seeded SMS provider), and counts only his own.
    start_campaign(bob, his);
    check_finished(await_campaign(bob, his, "completed"), 2);
    CHECK(int_field(statistics(bob), "campaign_total") == 1);
    CHECK(int_field(statistics(admin), "campaign_total") == 2);  // admin counts every user's
}

TEST_CASE("campaigns: a run reaches every contact once and completes; finished campaigns refuse changes") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-run");
    const SmsPath path = ledger_provider(admin, dir);
    const std::int64_t program = new_sms_program(admin, "Run");
    const std::vector<std::string> phones = numbered_phones("300600", 40);
    const std::int64_t group = group_of_phones(admin, "forty", phones);
    const std::int64_t id = new_campaign(admin, program, group);
    // A second campaign, a minute apart per contact, is the one still running later.
    const std::int64_t slow = new_campaign(admin, program, group_of_phones(admin, "slow", numbered_phones("300610", 3)),
                                           json::object{{"delay", 60000}});

    json::object s = statistics(admin);
    CHECK(int_field(s, "campaign_total") == 2);
    CHECK(int_field(s, "campaign_active") == 0);
    check_error(admin.put(campaign_path(id, "stop")), 423);  // never started
    CHECK(str_field(get_campaign(admin, id), "status") == "new");

    start_campaign(admin, id);
    start_campaign(admin, slow);
    start_campaign(admin, slow);  // starting a running campaign changes nothing
    json::object cp = await_campaign(admin, id, "completed");
    check_finished(cp, 40);
    CHECK_FALSE(opt_str(cp, "reason").has_value());

    const json::array txs = campaign_transmissions(admin, id);
    REQUIRE(txs.size() == 40);
    Response contacts = admin.get("/groups/" + std::to_string(group) + "/contacts");
    REQUIRE_STATUS(contacts, 200);
    const auto contact_ids = ids_of(as_array(contacts), "contact_id");
    std::set<std::int64_t> covered;
    for (const auto& v : txs) {
        const json::object& t = v.as_object();
        CAPTURE(json::serialize(t));
        CHECK(str_field(t, "status") == "completed");
        CHECK(opt_int(t, "campaign_id") == std::optional<std::int64_t>(id));
        CHECK(int_field(t, "program_id") == program);
        CHECK(int_field(t, "account_id") == int_field(cp, "account_id"));
        CHECK(int_field(t, "try_allowed") == 1);
        CHECK(int_field(t, "try_done") == 1);
        covered.insert(int_field(t, "contact_id"));
    }
    CHECK(covered == std::set<std::int64_t>(contact_ids.begin(), contact_ids.end()));
    const auto ledger = ledger_entries(path.ledger);
    check_once_each(entries_of(ledger, transmission_ids(txs)), phones);
    for (const auto& row : entries_of(ledger, transmission_ids(txs)))
        CHECK(int_field(row, "provider_id") == path.provider);

    s = statistics(admin);
    CHECK(int_field(s, "campaign_total") == 2);
    CHECK(int_field(s, "campaign_active") == 1);  // the slow one
    CHECK(int_field(s, "transmission_total") >= 41);

    // Completed: start, stop, schedules and retargeting are refused; pacing may still change.
    check_error(admin.put(campaign_path(id, "start")), 423);
    check_error(admin.put(campaign_path(id, "stop")), 423);
    check_error(admin.post(campaign_path(id, "start/schedule"), json::object{{"delay", 1}}), 423);
    check_error(admin.post(campaign_path(id, "stop/schedule"), json::object{{"delay", 1}}), 423);
    check_error(
        admin.put(campaign_path(id), json::object{{"group_id", group}, {"program_id", new_sms_program(admin, "x")}}),
        423);
    CHECK_STATUS(admin.put(campaign_path(id), json::object{{"delay", 25}}), 200);
    cp = get_campaign(admin, id);
    check_finished(cp, 40);
    CHECK(int_field(cp, "program_id") == program);

    // Its transmissions are the campaign's to send: send, retry and schedule are 423.
    const std::int64_t tx = int_field(txs[0].as_object(), "transmission_id");
    check_error(admin.post(tx_path(tx, "send"), json::object{}), 423);
    check_error(admin.post(tx_path(tx, "retry"), json::object{}), 423);
    check_error(admin.put(tx_path(tx, "schedule"), json::object{{"delay", 1}}), 423);
    // The slow campaign's waiting transmission too, before it was ever sent.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (const auto& v : campaign_transmissions(admin, slow)) {
        const std::int64_t t = int_field(v.as_object(), "transmission_id");
        CAPTURE(json::serialize(v));
        check_error(admin.post(tx_path(t, "send"), json::object{}), 423);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(ledger_count(path.ledger) == 41);  // 40 + the slow campaign's first contact
    CHECK(spools_of(admin, tx).size() == 1);
    stop_campaign(admin, slow);
    CHECK(int_field(statistics(admin), "campaign_active") == 0);
}

TEST_CASE("campaigns: delay 10 ms paces 500 contacts over 5 s; cpm paces too; the slower wins") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-pace");
    const SmsPath path = ledger_provider(admin, dir);
    const std::int64_t program = new_sms_program(admin, "Pace");

    struct Paced {
        std::string what;
        int contacts;
        json::object pacing;
        std::int64_t expect_ms;  // (contacts - 1) sends one interval apart
        double tolerance;
        std::int64_t id = 0;
        std::int64_t started_at = 0;  // Unix ms just before the start call
    };
    std::vector<Paced> runs{
        {"delay 10 ms x 500", 500, json::object{{"delay", 10}}, 4990, 0.10},
        {"cpm 1200 x 40", 40, json::object{{"cpm", 1200}}, 1950, 0.15},
        {"delay 100 ms, cpm 6000 x 21", 21, json::object{{"delay", 100}, {"cpm", 6000}}, 2000, 0.15},
    };
    std::vector<std::vector<std::string>> phones;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        phones.push_back(numbered_phones("30070" + std::to_string(i), runs[i].contacts));
        runs[i].id = new_campaign(admin, program, group_of_phones(admin, runs[i].what, phones[i]), runs[i].pacing);
    }
    // They run side by side: each campaign keeps its own pace.
    for (auto& run : runs) {
        run.started_at = unix_millis();
        start_campaign(admin, run.id);
    }
    for (auto& run : runs) {
        json::object cp = await_campaign(admin, run.id, "completed", std::chrono::seconds(15));
        check_finished(cp, run.contacts);
    }
    const auto completed_seen = unix_millis();

    // Measured at the gateway: from the start call to the ledger entry of the last delivery
    // (loopback latency 0, so an entry is written when its send is made).
    const auto ledger = ledger_entries(path.ledger);
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const Paced& run = runs[i];
        CAPTURE(run.what);
        auto entries = entries_of(ledger, transmission_ids(campaign_transmissions(admin, run.id)));
        check_once_each(entries, phones[i]);
        REQUIRE(entries.size() == static_cast<std::size_t>(run.contacts));
        std::vector<std::int64_t> times;
        for (const auto& e : entries) times.push_back(int_field(e, "time") - run.started_at);
        std::sort(times.begin(), times.end());
        const std::int64_t took = times.back();
        MESSAGE(run.what << ": first delivery " << times.front() << " ms and last " << took
                         << " ms after the start call (expected " << run.expect_ms << " ms); completion seen by "
                         << completed_seen - run.started_at << " ms");
        CHECK(times.front() < 500);  // it starts at once
        CHECK(took >= static_cast<std::int64_t>(run.expect_ms * (1 - run.tolerance)));
        CHECK(took <= static_cast<std::int64_t>(run.expect_ms * (1 + run.tolerance)));
        // Even, not bursty: halfway through the contacts, about halfway through the time; and
        // no window of ten intervals holds many more than ten deliveries. The bounds leave room
        // for one stall of the delivery path (ASan on a busy 2-core CI machine: up to ~200 ms,
        // after which the queued sends reach the gateway together); unpaced sends would put
        // all of a run in one window.
        const std::int64_t mid = times[times.size() / 2];
        CHECK(mid >= static_cast<std::int64_t>(run.expect_ms * 0.35));
        CHECK(mid <= static_cast<std::int64_t>(run.expect_ms * 0.65));
        const std::int64_t interval = run.expect_ms / (run.contacts - 1);
        std::size_t worst = 0;
        for (std::size_t a = 0, b = 0; b < times.size(); ++b) {
            while (times[b] - times[a] >= 10 * interval) ++a;
            worst = std::max(worst, b - a + 1);
        }
        CHECK(worst <= std::min<std::size_t>(30, run.contacts * 3 / 4));
    }
}

TEST_CASE("campaigns: a pacing change applies to the next transmissions of a running campaign") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-repace");
    const SmsPath path = ledger_provider(admin, dir);
    const std::int64_t program = new_sms_program(admin, "Repace");
    const std::vector<std::string> phones = numbered_phones("301800", 6);
    // A minute apart: after the first contact the next one is a minute away…
    const std::int64_t id =
        new_campaign(admin, program, group_of_phones(admin, "repace", phones), json::object{{"delay", 60000}});
    start_campaign(admin, id);
    await_ledger(path.ledger, 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(ledger_count(path.ledger) == 1);
    // …until the pace changes: the rest follow 10 ms apart, not after the minute.
    REQUIRE_STATUS(admin.put(campaign_path(id), json::object{{"delay", 10}}), 200);
    json::object cp = await_campaign(admin, id, "completed", std::chrono::seconds(3));
    check_finished(cp, 6);
    check_once_each(entries_of(ledger_entries(path.ledger), transmission_ids(campaign_transmissions(admin, id))),
                    phones);
}

TEST_CASE("campaigns: stop takes effect at once and resume never sends a contact twice") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-stop");
    const SmsPath path = ledger_provider(admin, dir, json::object{{"latency_ms", 50}});
    const std::int64_t program = new_sms_program(admin, "Stop");

    {
        const std::vector<std::string> phones = numbered_phones("300800", 300);
        const std::int64_t id =
            new_campaign(admin, program, group_of_phones(admin, "three hundred", phones), json::object{{"delay", 5}});
        start_campaign(admin, id);
        await_ledger(path.ledger, 60);
        stop_campaign(admin, id);
        const std::size_t at_stop = ledger_count(path.ledger);
        CHECK(str_field(get_campaign(admin, id), "status") == "paused");
        stop_campaign(admin, id);  // stopping a paused campaign is fine
        // Deliveries in flight (50 ms each) finish and are recorded; then nothing more.
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        const std::size_t settled = ledger_count(path.ledger);
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        const std::size_t later = ledger_count(path.ledger);
        MESSAGE("stopped with " << at_stop << " deliveries recorded; " << settled << " once in-flight ones ended");
        CHECK(later == settled);
        CHECK(settled < phones.size());
        CHECK(settled - at_stop <= 20);  // about 10 are in flight at 5 ms apart with 50 ms latency

        json::object cp = get_campaign(admin, id);
        CHECK(str_field(cp, "status") == "paused");
        CHECK(int_field(cp, "completed") == static_cast<std::int64_t>(settled));
        CHECK(int_field(cp, "contact_done") == static_cast<std::int64_t>(settled));
        CHECK(int_field(cp, "contact_total") == 300);
        CHECK(int_field(cp, "pending") == 300 - static_cast<std::int64_t>(settled));
        const auto counts = status_counts(campaign_transmissions(admin, id));
        CHECK(counts.count("processing") == 0);
        CHECK(counts.count("completed") == 1);
        CHECK(counts.at("completed") == static_cast<std::int64_t>(settled));

        start_campaign(admin, id);
        cp = await_campaign(admin, id, "completed");
        check_finished(cp, 300);
        const json::array txs = campaign_transmissions(admin, id);
        CHECK(txs.size() == 300);
        for (const auto& v : txs) {
            CHECK(str_field(v.as_object(), "status") == "completed");
            CHECK(int_field(v.as_object(), "try_done") == 1);
        }
        check_once_each(entries_of(ledger_entries(path.ledger), transmission_ids(txs)), phones);
    }
    {
        // Churn: quick stops and starts at random points, then a burst with no pause at all.
        const std::vector<std::string> phones = numbered_phones("300810", 150);
        const std::int64_t id =
            new_campaign(admin, program, group_of_phones(admin, "churn", phones), json::object{{"delay", 2}});
        for (int i = 0; i < 8; ++i) {
            start_campaign(admin, id);
            std::this_thread::sleep_for(std::chrono::milliseconds(10 + (i * 37) % 60));
            stop_campaign(admin, id);
            if (i % 3 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(60));
        }
        for (int i = 0; i < 6; ++i) {
            start_campaign(admin, id);
            stop_campaign(admin, id);
        }
        json::object cp = get_campaign(admin, id);
        CHECK(str_field(cp, "status") == "paused");
        CHECK(int_field(cp, "contact_done") < 150);  // the churn really interrupted it
        start_campaign(admin, id);
        cp = await_campaign(admin, id, "completed");
        check_finished(cp, 150);
        const json::array txs = campaign_transmissions(admin, id);
        CHECK(txs.size() == 150);
        for (const auto& v : txs) {
            CAPTURE(json::serialize(v));
            CHECK(str_field(v.as_object(), "status") == "completed");
            CHECK(int_field(v.as_object(), "try_done") == 1);
        }
        check_once_each(entries_of(ledger_entries(path.ledger), transmission_ids(txs)), phones);
    }
    {
        // Two clients racing: one starts, the other stops, 25 times each, while deliveries are
        // in flight. Every call succeeds (start of a running one and stop of a paused one are
        // no-ops), and the campaign still reaches each contact once.
        const std::vector<std::string> phones = numbered_phones("300820", 120);
        const std::int64_t id =
            new_campaign(admin, program, group_of_phones(admin, "race", phones), json::object{{"delay", 5}});
        start_campaign(admin, id);
        Client starter = admin_client(server);
        Client stopper = admin_client(server);
        std::vector<Response> starts, stops;
        std::thread a([&] {
            for (int i = 0; i < 25; ++i) starts.push_back(starter.put(campaign_path(id, "start")));
        });
        std::thread b([&] {
            for (int i = 0; i < 25; ++i) {
                stops.push_back(stopper.put(campaign_path(id, "stop")));
                std::this_thread::sleep_for(std::chrono::milliseconds(3));
            }
        });
        a.join();
        b.join();
        for (const auto& r : starts) CHECK_MESSAGE((r.status == 200 && is_true(r)), r.describe());
        for (const auto& r : stops) CHECK_MESSAGE((r.status == 200 && is_true(r)), r.describe());
        const std::string status = str_field(get_campaign(admin, id), "status");
        CHECK((status == "running" || status == "paused"));
        start_campaign(admin, id);
        json::object cp = await_campaign(admin, id, "completed");
        check_finished(cp, 120);
        const json::array txs = campaign_transmissions(admin, id);
        CHECK(txs.size() == 120);
        for (const auto& v : txs) {
            CAPTURE(json::serialize(v));
            CHECK(str_field(v.as_object(), "status") == "completed");
            CHECK(int_field(v.as_object(), "try_done") == 1);
        }
        check_once_each(entries_of(ledger_entries(path.ledger), transmission_ids(txs)), phones);
    }
}

TEST_CASE("campaigns: try_allowed retries failing destinations; the campaign counts them failed") {
    ServerProcess server(with_args({"--retry-delay", "1"}));
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-try");
    const std::vector<std::string> phones = numbered_phones("300900", 50);
    json::object fail;
    std::set<std::string> failing;
    for (int i = 3; i < 50; i += 10) {
        fail[phones[i]] = "busy";
        failing.insert(phones[i]);
    }
    REQUIRE(failing.size() == 5);
    const SmsPath path = ledger_provider(admin, dir, json::object{{"fail", fail}});
    const std::int64_t program = new_sms_program(admin, "Try");
    const std::int64_t id =
        new_campaign(admin, program, group_of_phones(admin, "fifty", phones), json::object{{"try_allowed", 2}});
    start_campaign(admin, id);
    json::object cp = await_campaign(admin, id, "completed", std::chrono::seconds(15));
    check_finished(cp, 50, 5);

    const json::array txs = campaign_transmissions(admin, id);
    REQUIRE(txs.size() == 50);
    std::map<std::int64_t, std::string> phone_of;
    {
        Response r = admin.get("/contacts?limit=1000");
        REQUIRE_STATUS(r, 200);
        for (const auto& v : as_array(r))
            phone_of[int_field(v.as_object(), "contact_id")] = str_field(v.as_object(), "phone");
    }
    int failed = 0;
    for (const auto& v : txs) {
        const json::object& t = v.as_object();
        CAPTURE(json::serialize(t));
        CHECK(int_field(t, "try_allowed") == 2);
        const std::int64_t tx = int_field(t, "transmission_id");
        if (failing.count(phone_of[int_field(t, "contact_id")])) {
            ++failed;
            CHECK(str_field(t, "status") == "failed");
            CHECK(int_field(t, "try_done") == 2);
            const json::array spools = spools_of(admin, tx);
            REQUIRE(spools.size() == 2);
            for (const auto& s : spools) {
                CHECK(str_field(s.as_object(), "status") == "failed");
                CHECK(opt_str(s.as_object(), "response") == std::optional<std::string>("busy"));
            }
            // The retry waited out --retry-delay.
            CHECK(int_field(spools[1].as_object(), "time_spool") >=
                  opt_int(spools[0].as_object(), "time_end").value_or(0) + 1);
        } else {
            CHECK(str_field(t, "status") == "completed");
            CHECK(int_field(t, "try_done") == 1);
        }
    }
    CHECK(failed == 5);
    std::vector<std::string> delivered;
    for (const auto& p : phones)
        if (!failing.count(p)) delivered.push_back(p);
    check_once_each(entries_of(ledger_entries(path.ledger), transmission_ids(txs)), delivered);
}

TEST_CASE("campaigns: provider concurrency bounds a campaign; a stop holds back attempts waiting for a slot") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-slots");
    const SmsPath path = ledger_provider(admin, dir, json::object{{"concurrency", 2}, {"latency_ms", 100}});
    const std::int64_t program = new_sms_program(admin, "Slots");
    const std::vector<std::string> phones = numbered_phones("301500", 40);
    // Unpaced: the provider's two slots are the only bound, so most attempts wait for a slot.
    const std::int64_t id = new_campaign(admin, program, group_of_phones(admin, "slots", phones));
    start_campaign(admin, id);
    await_ledger(path.ledger, 6);
    stop_campaign(admin, id);
    const std::size_t at_stop = ledger_count(path.ledger);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    const std::size_t settled = ledger_count(path.ledger);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(ledger_count(path.ledger) == settled);
    CHECK(settled <= at_stop + 2);  // only the two in flight finish
    const auto counts = status_counts(campaign_transmissions(admin, id));
    CHECK(counts.count("processing") == 0);

    start_campaign(admin, id);
    json::object cp = await_campaign(admin, id, "completed", std::chrono::seconds(10));
    check_finished(cp, 40);
    const auto entries = entries_of(ledger_entries(path.ledger), transmission_ids(campaign_transmissions(admin, id)));
    check_once_each(entries, phones);
    // Never three deliveries within one latency: at most two were in flight at once.
    std::vector<std::int64_t> times;
    for (const auto& e : entries) times.push_back(int_field(e, "time"));
    std::sort(times.begin(), times.end());
    std::int64_t tightest = 1000000;
    for (std::size_t i = 2; i < times.size(); ++i) tightest = std::min(tightest, times[i] - times[i - 2]);
    MESSAGE("closest three deliveries span " << tightest << " ms (latency 100 ms, concurrency 2)");
    CHECK(tightest >= 90);
}

TEST_CASE("campaigns: contacts the program cannot reach count as failed, and the campaign still completes") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-email");
    const std::filesystem::path ledger = dir.path() / "ledger.jsonl";
    new_loopback_provider(admin, "campaign-email", 8, json::object{{"ledger", ledger.string()}});
    set_provider_active(admin, seeded_email_provider, false);
    const std::int64_t tpl = created_id(
        admin.post("/messages/templates", json::object{{"name", "tpl"}, {"subject", "s"}, {"body", "<p>b</p>"}}),
        "template_id");
    const std::int64_t program = created_id(
        admin.post("/programs/sendemail", json::object{{"name", "Mail"}, {"template_id", tpl}}), "program_id");
    // Every third contact has no e-mail address.
    const std::int64_t group = create_group(admin, "mail");
    std::string csv = "phone,first_name,last_name,email\n";
    std::vector<std::string> addresses;
    for (int i = 0; i < 12; ++i) {
        const std::string address = i % 3 == 0 ? "" : "user" + std::to_string(i) + "@example.com";
        if (!address.empty()) addresses.push_back(address);
        csv += "30160000" + std::string(i < 10 ? "0" : "") + std::to_string(i) + ",Mail" + std::to_string(i) + ",," +
               address + "\n";
    }
    Response r = admin.post_raw("/groups/" + std::to_string(group) + "/csv", csv, "text/csv");
    REQUIRE_STATUS(r, 200);
    REQUIRE_MESSAGE(int_field(as_object(r), "imported") == 12, r.describe());

    const std::int64_t id = new_campaign(admin, program, group);
    start_campaign(admin, id);
    json::object cp = await_campaign(admin, id, "completed");
    check_finished(cp, 12, 4);
    const json::array txs = campaign_transmissions(admin, id);
    const auto counts = status_counts(txs);
    CHECK(counts.size() == 2);
    CHECK(counts.count("completed") == 1);
    CHECK(counts.count("invalid") == 1);
    if (counts.count("invalid")) CHECK(counts.at("invalid") == 4);
    check_once_each(entries_of(ledger_entries(ledger), transmission_ids(txs)), addresses);
}

TEST_CASE("campaigns: contacts linked to the group while it runs or is paused are included; unlinked ones not") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-late");
    const SmsPath path = ledger_provider(admin, dir);
    const std::int64_t program = new_sms_program(admin, "Late");
    std::vector<std::string> phones = numbered_phones("301000", 20);
    const std::int64_t group = group_of_phones(admin, "late", phones);
    const std::int64_t outside = create_contact(admin, "Outside", "3010209999");  // linked later
    const std::int64_t id = new_campaign(admin, program, group, json::object{{"delay", 40}});
    CHECK(int_field(get_campaign(admin, id), "contact_total") == 20);

    start_campaign(admin, id);
    await_ledger(path.ledger, 3);
    const auto while_running = numbered_phones("301010", 5);
    import_phones(admin, group, while_running);
    phones.insert(phones.end(), while_running.begin(), while_running.end());
    await_ledger(path.ledger, 8);
    stop_campaign(admin, id);
    const auto while_paused = numbered_phones("301020", 4);
    import_phones(admin, group, while_paused);
    phones.insert(phones.end(), while_paused.begin(), while_paused.end());
    CHECK_STATUS(admin.put("/contacts/" + std::to_string(outside) + "/link/" + std::to_string(group)), 200);
    phones.push_back("3010209999");
    // One of them unlinked again before the campaign reached it: left out.
    const std::string dropped = phones[phones.size() - 2];
    Response r = admin.get("/contacts?phone=" + dropped);
    REQUIRE_STATUS(r, 200);
    const auto dropped_ids = ids_of(as_array(r), "contact_id");
    REQUIRE(dropped_ids.size() == 1);
    CHECK_STATUS(admin.del("/contacts/" + std::to_string(dropped_ids[0]) + "/link/" + std::to_string(group)), 200);
    phones.erase(phones.end() - 2);
    start_campaign(admin, id);
    // A start counts the group again: everything reached so far plus the contacts not yet reached.
    CHECK(int_field(get_campaign(admin, id), "contact_total") == 29);

    json::object cp = await_campaign(admin, id, "completed");
    check_finished(cp, 29);
    const json::array txs = campaign_transmissions(admin, id);
    check_once_each(entries_of(ledger_entries(path.ledger), transmission_ids(txs)), phones);

    // Once completed, contacts linked later are not its business.
    import_phones(admin, group, numbered_phones("301030", 3));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    check_finished(get_campaign(admin, id), 29);
    CHECK(campaign_transmissions(admin, id).size() == 29);
    CHECK(ledger_count(path.ledger) == 29);
}

TEST_CASE(
    "campaigns: a paced campaign prepares about a second ahead; contacts unlinked before it reaches them "
    "are left out") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-unlink");
    const SmsPath path = ledger_provider(admin, dir);
    const std::int64_t program = new_sms_program(admin, "Unlink");
    const std::vector<std::string> phones = numbered_phones("301700", 12);
    const std::int64_t group = group_of_phones(admin, "unlink", phones);
    Response r = admin.get("/groups/" + std::to_string(group) + "/contacts");
    REQUIRE_STATUS(r, 200);
    std::vector<std::pair<std::int64_t, std::string>> members;
    for (const auto& v : as_array(r))
        members.emplace_back(int_field(v.as_object(), "contact_id"), str_field(v.as_object(), "phone"));
    std::sort(members.begin(), members.end());
    REQUIRE(members.size() == 12);

    // 250 ms apart: a second ahead is 4 contacts, so the last ones are far from reached.
    const std::int64_t id = new_campaign(admin, program, group, json::object{{"delay", 250}});
    start_campaign(admin, id);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    const auto begun = campaign_transmissions(admin, id).size();
    MESSAGE(begun << " of 12 transmissions begun 150 ms after the start of a campaign paced 250 ms apart");
    CHECK(begun <= 6);
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < members.size(); ++i) {
        if (i < 8) {
            kept.push_back(members[i].second);
            continue;
        }
        CHECK_STATUS(admin.del("/contacts/" + std::to_string(members[i].first) + "/link/" + std::to_string(group)),
                     200);
    }
    json::object cp = await_campaign(admin, id, "completed", std::chrono::seconds(6));
    check_finished(cp, 8);
    check_once_each(entries_of(ledger_entries(path.ledger), transmission_ids(campaign_transmissions(admin, id))), kept);
}

TEST_CASE("campaigns: broken when the program, the group or every provider is gone; start again once fixed") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-broken");
    const SmsPath path = ledger_provider(admin, dir);

    // Program deleted before the start: 412 and broken.
    const std::int64_t doomed_program = new_sms_program(admin, "Doomed");
    const std::int64_t g1 = group_of_phones(admin, "g1", numbered_phones("301100", 3));
    const std::int64_t no_program = new_campaign(admin, doomed_program, g1);
    REQUIRE_STATUS(admin.del("/programs/" + std::to_string(doomed_program)), 200);
    std::string message = check_error(admin.put(campaign_path(no_program, "start")), 412);
    CHECK(contains_ci(message, "program"));
    json::object cp = get_campaign(admin, no_program);
    CHECK(str_field(cp, "status") == "broken");
    CHECK(contains_ci(opt_str(cp, "reason").value_or(""), "program"));
    check_error(admin.put(campaign_path(no_program, "stop")), 423);  // not running

    // Group deleted.
    const std::int64_t program = new_sms_program(admin, "Broken");
    const std::int64_t doomed_group = group_of_phones(admin, "doomed", numbered_phones("301110", 3));
    const std::int64_t no_group = new_campaign(admin, program, doomed_group);
    REQUIRE_STATUS(admin.del("/groups/" + std::to_string(doomed_group)), 200);
    message = check_error(admin.put(campaign_path(no_group, "start")), 412);
    CHECK(contains_ci(message, "group"));
    cp = get_campaign(admin, no_group);
    CHECK(str_field(cp, "status") == "broken");
    CHECK(contains_ci(opt_str(cp, "reason").value_or(""), "group"));
    // Broken is not final: pointed at a group that exists, it runs.
    REQUIRE_STATUS(admin.put(campaign_path(no_group), json::object{{"group_id", g1}}), 200);
    start_campaign(admin, no_group);
    check_finished(await_campaign(admin, no_group, "completed"), 3);

    // No active provider serves SMS: 423 and broken; a provider back, it runs.
    const std::vector<std::string> phones = numbered_phones("301120", 4);
    const std::int64_t no_provider = new_campaign(admin, program, group_of_phones(admin, "np", phones));
    set_provider_active(admin, path.provider, false);
    message = check_error(admin.put(campaign_path(no_provider, "start")), 423);
    CHECK(contains_ci(message, "no active provider serves sms"));
    cp = get_campaign(admin, no_provider);
    CHECK(str_field(cp, "status") == "broken");
    CHECK(contains_ci(opt_str(cp, "reason").value_or(""), "no active provider serves sms"));
    CHECK(int_field(statistics(admin), "campaign_active") == 0);
    check_error(admin.put(campaign_path(no_provider, "stop")), 423);
    set_provider_active(admin, path.provider, true);
    start_campaign(admin, no_provider);
    cp = await_campaign(admin, no_provider, "completed");
    check_finished(cp, 4);
    CHECK_FALSE(opt_str(cp, "reason").has_value());
    check_once_each(
        entries_of(ledger_entries(path.ledger), transmission_ids(campaign_transmissions(admin, no_provider))), phones);

    // The provider goes away mid-run: broken, nothing more is sent, no contact is failed for
    // it; once a provider is back, a start finishes the job.
    const std::vector<std::string> more = numbered_phones("301130", 40);
    const std::int64_t mid =
        new_campaign(admin, program, group_of_phones(admin, "mid", more), json::object{{"delay", 40}});
    const std::size_t before = ledger_count(path.ledger);
    start_campaign(admin, mid);
    await_ledger(path.ledger, before + 5);
    set_provider_active(admin, path.provider, false);
    cp = await_campaign(admin, mid, "broken", std::chrono::seconds(5));
    CHECK(contains_ci(opt_str(cp, "reason").value_or(""), "no active provider serves sms"));
    CHECK(int_field(cp, "failed") == 0);
    const std::size_t stalled = ledger_count(path.ledger);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(ledger_count(path.ledger) == stalled);
    CHECK(stalled < before + 40);
    set_provider_active(admin, path.provider, true);
    start_campaign(admin, mid);
    cp = await_campaign(admin, mid, "completed");
    check_finished(cp, 40);
    check_once_each(entries_of(ledger_entries(path.ledger), transmission_ids(campaign_transmissions(admin, mid))),
                    more);

    // The group deleted mid-run: broken, and nothing more is sent.
    const std::int64_t vanishing = group_of_phones(admin, "vanishing", numbered_phones("301140", 40));
    const std::int64_t orphan = new_campaign(admin, program, vanishing, json::object{{"delay", 40}});
    const std::size_t before_orphan = ledger_count(path.ledger);
    start_campaign(admin, orphan);
    await_ledger(path.ledger, before_orphan + 3);
    REQUIRE_STATUS(admin.del("/groups/" + std::to_string(vanishing)), 200);
    cp = await_campaign(admin, orphan, "broken", std::chrono::seconds(5));
    CHECK(contains_ci(opt_str(cp, "reason").value_or(""), "group"));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const std::size_t orphaned = ledger_count(path.ledger);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    CHECK(ledger_count(path.ledger) == orphaned);
    // At most about a second's worth (25 at 40 ms) was prepared ahead and may still go out.
    MESSAGE((orphaned - before_orphan) << " of 40 contacts delivered although the group was deleted after 3");
    CHECK(orphaned - before_orphan <= 30);
    check_error(admin.put(campaign_path(orphan, "start")), 412);
}

TEST_CASE("campaigns: deleting a running campaign stops it; its transmissions stay, detached") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-delete");
    const SmsPath path = ledger_provider(admin, dir);
    const std::int64_t program = new_sms_program(admin, "Delete");
    const std::int64_t id = new_campaign(
        admin, program, group_of_phones(admin, "hundred", numbered_phones("301200", 100)), json::object{{"delay", 50}});
    start_campaign(admin, id);
    await_ledger(path.ledger, 5);
    CHECK(int_field(statistics(admin), "campaign_active") == 1);
    Response r = admin.del(campaign_path(id));
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(campaign_path(id)), 404);
    check_error(admin.put(campaign_path(id, "start")), 404);

    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const std::size_t settled = ledger_count(path.ledger);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    CHECK(ledger_count(path.ledger) == settled);
    CHECK(settled < 100);

    json::object s = statistics(admin);
    CHECK(int_field(s, "campaign_total") == 0);
    CHECK(int_field(s, "campaign_active") == 0);
    CHECK(campaign_transmissions(admin, id).empty());
    r = admin.get("/transmissions?program_id=" + std::to_string(program));
    REQUIRE_STATUS(r, 200);
    const json::array txs = as_array(r);
    CHECK(txs.size() >= settled);
    CHECK(txs.size() < 100);
    std::int64_t completed = 0;
    for (const auto& v : txs) {
        CAPTURE(json::serialize(v));
        CHECK_FALSE(opt_int(v.as_object(), "campaign_id").has_value());
        completed += str_field(v.as_object(), "status") == "completed";
    }
    CHECK(completed == static_cast<std::int64_t>(settled));
}

TEST_CASE("campaigns: start and stop schedules fire; cancel by POST or DELETE; refusals") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir dir("ictcore-campaign-sched");
    const SmsPath path = ledger_provider(admin, dir);
    const std::int64_t program = new_sms_program(admin, "Sched");
    auto campaign_of = [&](const std::string& prefix, int n, json::object extra = {}) {
        return new_campaign(admin, program, group_of_phones(admin, prefix, numbered_phones(prefix, n)), extra);
    };
    auto schedule = [&](std::int64_t id, std::string_view action, const json::object& body) {
        Response r = admin.post(campaign_path(id, std::string(action) + "/schedule"), body);
        REQUIRE_STATUS(r, 200);
        CHECK(as_object(r).size() == 1);
        return created_id(r, "schedule_id");
    };

    // Cancelled ones, set up first so their due time passes while the others run.
    const std::int64_t by_post = campaign_of("301300", 3);
    const std::int64_t by_delete = campaign_of("301310", 3);
    schedule(by_post, "start", json::object{{"delay", 2}});
    schedule(by_post, "stop", json::object{{"delay", 3}});
    schedule(by_delete, "start", json::object{{"delay", 2}});
    Response r = admin.post(campaign_path(by_post, "schedule"), json::object{});
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.post(campaign_path(by_post, "schedule"), json::object{}), 404);
    r = admin.del(campaign_path(by_delete, "schedule"));
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.del(campaign_path(by_delete, "schedule")), 404);

    // A start schedule (replacing an hour-away one) starts it by itself, not early.
    const std::vector<std::string> phones = numbered_phones("301320", 10);
    const std::int64_t started = new_campaign(admin, program, group_of_phones(admin, "started", phones));
    const std::int64_t far = schedule(started, "start", json::object{{"delay", 3600}});
    const std::int64_t scheduled_at = unix_seconds();
    const std::int64_t near = schedule(started, "start", json::object{{"delay", 1}});
    CHECK(near != far);
    CHECK(str_field(get_campaign(admin, started), "status") == "new");
    json::object cp = await_campaign(admin, started, "completed", std::chrono::seconds(4));
    check_finished(cp, 10);
    const auto entries =
        entries_of(ledger_entries(path.ledger), transmission_ids(campaign_transmissions(admin, started)));
    check_once_each(entries, phones);
    for (const auto& e : entries) CHECK(int_field(e, "time") >= (scheduled_at + 1) * 1000);
    check_error(admin.del(campaign_path(started, "schedule")), 404);  // fired, and the far one replaced
    check_error(admin.post(campaign_path(started, "start/schedule"), json::object{{"delay", 1}}), 423);
    check_error(admin.post(campaign_path(started, "stop/schedule"), json::object{{"delay", 1}}), 423);

    // A stop schedule pauses a running campaign.
    const std::int64_t stopped = campaign_of("301330", 40, json::object{{"delay", 100}});
    start_campaign(admin, stopped);
    schedule(stopped, "stop", json::object{{"delay", 1}});
    cp = await_campaign(admin, stopped, "paused", std::chrono::seconds(4));
    CHECK(int_field(cp, "contact_done") < 40);
    const auto paused_done = int_field(cp, "contact_done");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(int_field(get_campaign(admin, stopped), "contact_done") == paused_done);
    check_error(admin.del(campaign_path(stopped, "schedule")), 404);

    // The cancelled ones never started.
    for (const std::int64_t id : {by_post, by_delete}) {
        CAPTURE(id);
        CHECK(str_field(get_campaign(admin, id), "status") == "new");
        CHECK(campaign_transmissions(admin, id).empty());
    }

    // Bad bodies are 412 and schedule nothing; a cron form is accepted and cancelled.
    const std::int64_t fresh = campaign_of("301340", 2);
    const std::int64_t now = unix_seconds();
    for (const auto& body : {json::object{}, json::object{{"delay", -5}}, json::object{{"delay", "soon"}},
                             json::object{{"timestamp", now - 3600}}, json::object{{"datetime", "garbage"}},
                             json::object{{"minute", "61"}}, json::object{{"delay", 1}, {"timestamp", now + 60}}}) {
        CAPTURE(json::serialize(body));
        check_error(admin.post(campaign_path(fresh, "start/schedule"), body), 412);
        check_error(admin.post(campaign_path(fresh, "stop/schedule"), body), 412);
    }
    check_error(admin.post_raw(campaign_path(fresh, "start/schedule"), "{\"delay\":"), 412);
    check_error(admin.del(campaign_path(fresh, "schedule")), 404);
    schedule(fresh, "start", json::object{{"minute", "*/5"}, {"hour", "*"}});
    r = admin.del(campaign_path(fresh, "schedule"));
    REQUIRE_STATUS(r, 200);
    check_error(admin.del(campaign_path(fresh, "schedule")), 404);
    CHECK(str_field(get_campaign(admin, fresh), "status") == "new");
}

TEST_CASE("campaigns: a start schedule, a running and a paused campaign survive a server restart") {
    TempDir data("ictcore-campaign-restart");
    TempDir dir("ictcore-campaign-restart-ledger");
    const std::vector<std::string> phones = numbered_phones("301400", 10);
    const std::vector<std::string> running_phones = numbered_phones("301410", 80);
    const std::vector<std::string> paused_phones = numbered_phones("301420", 30);
    std::filesystem::path ledger;
    std::int64_t scheduled = 0, running = 0, paused = 0;
    std::int64_t paused_done = 0;
    {
        ServerProcess first(on_data(data.path()));
        Client admin = admin_client(first);
        ledger = ledger_provider(admin, dir).ledger;
        const std::int64_t program = new_sms_program(admin, "Restart");
        scheduled = new_campaign(admin, program, group_of_phones(admin, "scheduled", phones));
        running = new_campaign(admin, program, group_of_phones(admin, "running", running_phones),
                               json::object{{"delay", 20}});
        paused =
            new_campaign(admin, program, group_of_phones(admin, "paused", paused_phones), json::object{{"delay", 20}});
        start_campaign(admin, running);
        start_campaign(admin, paused);
        await_ledger(ledger, 10);
        stop_campaign(admin, paused);
        Response r = admin.post(campaign_path(scheduled, "start/schedule"), json::object{{"delay", 2}});
        REQUIRE_STATUS(r, 200);
        CHECK(str_field(get_campaign(admin, scheduled), "status") == "new");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        paused_done = int_field(get_campaign(admin, paused), "contact_done");
        CHECK(paused_done > 0);
        CHECK(paused_done < 30);
        const ExitStatus st = first.stop();
        CHECK_MESSAGE(st.ok(), st.describe());
    }
    // Down before the schedule was due, and in the middle of the running campaign.
    const auto at_restart = ledger_entries(ledger);
    CHECK(at_restart.size() < running_phones.size() + paused_phones.size());
    ServerProcess second(on_data(data.path()));
    Client admin = admin_client(second);
    json::object cp = await_campaign(admin, scheduled, "completed", std::chrono::seconds(8));
    check_finished(cp, 10);
    check_error(admin.del(campaign_path(scheduled, "schedule")), 404);
    // The running one resumes by itself; the paused one stays paused.
    cp = await_campaign(admin, running, "completed", std::chrono::seconds(8));
    check_finished(cp, 80);
    cp = get_campaign(admin, paused);
    CHECK(str_field(cp, "status") == "paused");
    CHECK(int_field(cp, "contact_done") == paused_done);
    const auto entries = ledger_entries(ledger);
    check_once_each(entries_of(entries, transmission_ids(campaign_transmissions(admin, scheduled))), phones);
    check_once_each(entries_of(entries, transmission_ids(campaign_transmissions(admin, running))), running_phones);
    CHECK(entries_of(entries, transmission_ids(campaign_transmissions(admin, paused))).size() ==
          static_cast<std::size_t>(paused_done));
    start_campaign(admin, paused);
    check_finished(await_campaign(admin, paused, "completed"), 30);
    check_once_each(entries_of(ledger_entries(ledger), transmission_ids(campaign_transmissions(admin, paused))),
                    paused_phones);
}

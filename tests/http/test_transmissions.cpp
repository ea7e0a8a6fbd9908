// Transmissions and spools over HTTP, delivered through the loopback gateway by a real server:
// creation defaults and refusals, list filters, send/status/detail/clone, spool results,
// failures with automatic and explicit retries, provider failover, the per-provider
// concurrency limit (checked against the loopback ledger), send refusals (no provider,
// deleted contact or program, e-mail without an address), voice/fax/e-mail deliveries,
// ownership, and the delivery counts of /statistics.
#include "helpers.hpp"
#include "pdf_writer.hpp"

#include <cmath>
#include <fstream>
#include <set>

namespace {

const std::string busy_phone = "+923001234567";  // the loopback providers below fail it with "busy"

// settings making one destination fail.
json::object failing_busy() { return json::object{{"fail", json::object{{busy_phone, "busy"}}}}; }

// The caller's lowest account id (its default); an admin names whose with `user_id`.
std::int64_t default_account(Client& c, std::int64_t user_id = 0) {
    Response r = c.get(user_id ? "/accounts?user_id=" + std::to_string(user_id) : std::string("/accounts"));
    REQUIRE_STATUS(r, 200);
    json::array rows = as_array(r);
    REQUIRE_MESSAGE(!rows.empty(), r.describe());
    std::int64_t lowest = 0;
    for (const auto& v : rows) {
        const std::int64_t id = int_field(v.as_object(), "account_id");
        if (lowest == 0 || id < lowest) lowest = id;
    }
    return lowest;
}

std::vector<std::int64_t> listed(Client& c, const std::string& query) {
    Response r = c.get("/transmissions" + query);
    REQUIRE_STATUS(r, 200);
    std::vector<std::int64_t> ids = ids_of(as_array(r), "transmission_id");
    CHECK_MESSAGE(total_count(r) == static_cast<std::int64_t>(ids.size()), r.describe());
    std::sort(ids.begin(), ids.end());
    return ids;
}

std::vector<std::int64_t> sorted(std::vector<std::int64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

std::int64_t transmission_total(Client& c) {
    Response r = c.get("/transmissions");
    REQUIRE_STATUS(r, 200);
    return total_count(r);
}

// The loopback ledger: one JSON object per delivery.
std::vector<json::object> read_ledger(const std::filesystem::path& path) {
    std::vector<json::object> rows;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        json::value v = json::parse(line);
        REQUIRE(v.is_object());
        rows.push_back(v.as_object());
    }
    return rows;
}

void put_le(std::string& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// A one-second 8 kHz mono 16-bit PCM WAV with a 440 Hz tone.
std::string tone_wav() {
    const std::uint32_t rate = 8000, frames = 8000, data_bytes = frames * 2;
    std::string w = "RIFF";
    put_le(w, 36 + data_bytes, 4);
    w += "WAVEfmt ";
    put_le(w, 16, 4);
    put_le(w, 1, 2);
    put_le(w, 1, 2);
    put_le(w, rate, 4);
    put_le(w, rate * 2, 4);
    put_le(w, 2, 2);
    put_le(w, 16, 2);
    w += "data";
    put_le(w, data_bytes, 4);
    for (std::uint32_t i = 0; i < frames; ++i) {
        const auto s = static_cast<std::int16_t>(12000 * std::sin(2 * M_PI * 440.0 * i / rate));
        put_le(w, static_cast<std::uint16_t>(s), 2);
    }
    return w;
}

// Checks a finished spool's timing: queued <= started <= (connected <=) ended.
void check_spool_times(const json::object& s, std::int64_t not_before, std::int64_t not_after) {
    CAPTURE(json::serialize(s));
    const std::int64_t spooled = int_field(s, "time_spool");
    const auto start = opt_int(s, "time_start");
    const auto end = opt_int(s, "time_end");
    REQUIRE(start.has_value());
    REQUIRE(end.has_value());
    CHECK(not_before <= spooled);
    CHECK(spooled <= *start);
    CHECK(*start <= *end);
    CHECK(*end <= not_after);
    if (auto connect = opt_int(s, "time_connect")) {
        CHECK(*start <= *connect);
        CHECK(*connect <= *end);
    }
}

}  // namespace

TEST_CASE("transmissions: create fills title, origin, service, account and status; refusals") {
    ServerProcess server;
    Client admin = admin_client(server);
    create_user(admin, "tom", "tom-pass-1");
    create_user(admin, "eve", "eve-pass-1");
    Client tom = client_as(server, "tom", "tom-pass-1");
    Client eve = client_as(server, "eve", "eve-pass-1");
    const std::int64_t contact = create_contact(tom, "Ann", "3001110001");
    const std::int64_t program = new_sms_program(tom, "Promo");
    const std::int64_t account = default_account(tom);
    const std::int64_t eve_contact = create_contact(eve, "Eve", "3001110002");
    const std::int64_t eve_program = new_sms_program(eve, "EveProm");
    const std::int64_t eve_account = default_account(eve);
    REQUIRE(account != eve_account);

    const std::int64_t before = unix_seconds();
    Response r = tom.post("/transmissions", json::object{{"contact_id", contact}, {"program_id", program}});
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r).size() == 1);  // {"transmission_id": N}
    const std::int64_t id = created_id(r, "transmission_id");
    json::object t = get_transmission(tom, id);
    CHECK(int_field(t, "transmission_id") == id);
    CHECK(str_field(t, "title") == "Promo");
    CHECK(str_field(t, "origin") == "sendsms");
    CHECK(int_field(t, "service_flag") == 4);
    CHECK(int_field(t, "account_id") == account);
    CHECK(str_field(t, "direction") == "outbound");
    CHECK(str_field(t, "status") == "pending");
    CHECK(int_field(t, "contact_id") == contact);
    CHECK(int_field(t, "program_id") == program);
    CHECK(int_field(t, "try_allowed") == 1);
    CHECK(int_field(t, "try_done") == 0);
    CHECK_FALSE(opt_int(t, "campaign_id").has_value());
    CHECK(int_field(t, "time_created") >= before);
    CHECK(int_field(t, "time_created") <= unix_seconds());
    r = tom.get(tx_path(id, "status"));
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r) == json::object{{"Status", "pending"}});

    // The admin's transmission gets the admin's own default account.
    const std::int64_t admin_contact = create_contact(admin, "Adm", "3001110003");
    const std::int64_t admin_program = new_sms_program(admin, "AdminProm");
    const std::int64_t admin_t = new_transmission(admin, admin_contact, admin_program);
    const std::int64_t admin_account = default_account(admin, user_id_of(admin, "admin"));
    CHECK(int_field(get_transmission(admin, admin_t), "account_id") == admin_account);
    CHECK(admin_account != account);

    // Given fields are kept; the guide's artefact key is read as service_flag.
    const std::int64_t custom = new_transmission(
        tom, contact, program,
        json::object{{"title", "Custom"}, {"origin", "api"}, {"try_allowed", 3}, {"account_id", account}});
    t = get_transmission(tom, custom);
    CHECK(str_field(t, "title") == "Custom");
    CHECK(str_field(t, "origin") == "api");
    CHECK(int_field(t, "try_allowed") == 3);
    const std::string guide_key =
        "service_flag: 1 (number) - Type of transmission service i.e Email::SERVICE_FLAG or Voice";
    const std::int64_t guided = new_transmission(tom, contact, program, json::object{{guide_key, 4}});
    CHECK(int_field(get_transmission(tom, guided), "service_flag") == 4);

    // Refusals change nothing.
    const std::int64_t count = transmission_total(tom);
    auto refused = [&](json::object body, std::string_view mention) {
        CAPTURE(json::serialize(body));
        const std::string message = check_error(tom.post("/transmissions", body), 412);
        if (!mention.empty()) CHECK_MESSAGE(contains_ci(message, mention), message);
    };
    refused(json::object{}, "");
    refused(json::object{{"program_id", program}}, "contact_id");
    refused(json::object{{"contact_id", contact}}, "program_id");
    refused(json::object{{"contact_id", eve_contact}, {"program_id", program}}, "contact");
    refused(json::object{{"contact_id", 99999}, {"program_id", program}}, "contact");
    refused(json::object{{"contact_id", contact}, {"program_id", eve_program}}, "program");
    refused(json::object{{"contact_id", contact}, {"program_id", program}, {"service_flag", 1}}, "service_flag");
    refused(json::object{{"contact_id", contact}, {"program_id", program}, {guide_key, 1}}, "service_flag");
    refused(json::object{{"contact_id", contact}, {"program_id", program}, {"try_allowed", 0}}, "try_allowed");
    refused(json::object{{"contact_id", contact}, {"program_id", program}, {"direction", "inbound"}}, "direction");
    refused(json::object{{"contact_id", contact}, {"program_id", program}, {"account_id", eve_account}}, "account");
    const std::int64_t inbound =
        created_id(tom.post("/programs/receivesms", json::object{{"name", "in"}}), "program_id");
    refused(json::object{{"contact_id", contact}, {"program_id", inbound}}, "");
    CHECK(transmission_total(tom) == count);
    CHECK(transmission_total(eve) == 0);
}

TEST_CASE("transmissions: list filters status, service_flag, direction, contact, program, campaign") {
    ServerProcess server;  // default retry delay (300 s): a failed first try stays pending_retry
    Client admin = admin_client(server);
    new_loopback_provider(admin, "flaky-sms", 4, failing_busy());
    set_provider_active(admin, seeded_sms_provider, false);

    const std::int64_t c_busy = create_contact(admin, "Busy", busy_phone);
    const std::int64_t c_ok = create_contact(admin, "Ok", "3002220002");
    const std::int64_t c_mail = create_contact(
        admin, json::object{{"first_name", "Mail"}, {"phone", "3002220003"}, {"email", "m@example.com"}});
    const std::int64_t p1 = new_sms_program(admin, "P1");
    const std::int64_t p2 = new_sms_program(admin, "P2");
    const std::int64_t tpl = created_id(
        admin.post("/messages/templates", json::object{{"name", "tpl"}, {"subject", "s"}, {"body", "<p>b</p>"}}),
        "template_id");
    const std::int64_t p3 =
        created_id(admin.post("/programs/sendemail", json::object{{"name", "P3"}, {"template_id", tpl}}), "program_id");

    const std::int64_t t_pending = new_transmission(admin, c_ok, p1);
    const std::int64_t t_done = new_transmission(admin, c_ok, p2);
    const std::int64_t t_retry = new_transmission(admin, c_busy, p1, json::object{{"try_allowed", 2}});
    const std::int64_t t_failed = new_transmission(admin, c_busy, p2);
    const std::int64_t t_email = new_transmission(admin, c_mail, p3);
    send_transmission(admin, t_done);
    send_transmission(admin, t_retry);
    send_transmission(admin, t_failed);
    await_transmission(admin, t_done, "completed");
    json::object retry = await_transmission(admin, t_retry, "pending_retry");
    CHECK(int_field(retry, "try_done") == 1);
    CHECK(opt_str(retry, "response") == std::optional<std::string>("busy"));
    CHECK(opt_int(retry, "next_run").value_or(0) >= unix_seconds() + 200);
    await_transmission(admin, t_failed, "failed");

    using V = std::vector<std::int64_t>;
    CHECK(listed(admin, "") == sorted({t_pending, t_done, t_retry, t_failed, t_email}));
    // status matches exactly: pending is not pending_retry.
    CHECK(listed(admin, "?status=pending") == sorted({t_pending, t_email}));
    CHECK(listed(admin, "?status=pending_retry") == V{t_retry});
    CHECK(listed(admin, "?status=completed") == V{t_done});
    CHECK(listed(admin, "?status=failed") == V{t_failed});
    CHECK(listed(admin, "?status=processing").empty());
    CHECK(listed(admin, "?service_flag=8") == V{t_email});
    CHECK(listed(admin, "?service_flag=4") == sorted({t_pending, t_done, t_retry, t_failed}));
    CHECK(listed(admin, "?direction=outbound").size() == 5);
    CHECK(listed(admin, "?direction=inbound").empty());
    CHECK(listed(admin, "?contact_id=" + std::to_string(c_busy)) == sorted({t_retry, t_failed}));
    CHECK(listed(admin, "?program_id=" + std::to_string(p2)) == sorted({t_done, t_failed}));
    CHECK(listed(admin, "?campaign_id=1").empty());  // none belongs to a campaign
    CHECK(listed(admin, "?status=pending&service_flag=4") == V{t_pending});
    CHECK(listed(admin, "?contact_id=" + std::to_string(c_ok) + "&program_id=" + std::to_string(p1)) == V{t_pending});

    Response r = admin.get("/transmissions?limit=2");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).size() == 2);
    CHECK(total_count(r) == 5);
}

TEST_CASE("transmissions: send, status, detail, spool status, send again 423, clone") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t contact = create_contact(admin, "Ann", "3003330001");
    const std::int64_t program = new_sms_program(admin, "Hello");
    const std::int64_t id = new_transmission(admin, contact, program);

    const std::int64_t before = unix_seconds();
    Response r = admin.post(tx_path(id, "send"), json::object{});
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r).size() == 1);  // {"spool_id": N}
    const std::int64_t spool = created_id(r, "spool_id");
    json::object t = await_transmission(admin, id, "completed");
    const std::int64_t after = unix_seconds();
    CHECK(int_field(t, "try_done") == 1);
    CHECK(opt_int(t, "last_run").value_or(0) >= before);
    r = admin.get(tx_path(id, "status"));
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r) == json::object{{"Status", "completed"}});

    json::array spools = spools_of(admin, id);
    REQUIRE(spools.size() == 1);
    json::object s = spools[0].as_object();
    CHECK(int_field(s, "spool_id") == spool);
    CHECK(int_field(s, "transmission_id") == id);
    CHECK(str_field(s, "status") == "completed");
    CHECK(opt_int(s, "provider_id") == std::optional<std::int64_t>(seeded_sms_provider));
    CHECK_FALSE(opt_int(s, "time_connect").has_value());  // an SMS is not a call
    check_spool_times(s, before, after);

    r = admin.get("/spools/" + std::to_string(spool) + "/status");
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r) == json::object{{"status", "completed"}});
    r = admin.get("/spools/" + std::to_string(spool) + "/result");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    r = admin.get(tx_path(id, "result"));
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());

    // A completed transmission is locked.
    check_error(admin.post(tx_path(id, "send"), json::object{}), 423);
    check_error(admin.post(tx_path(id, "retry"), json::object{}), 423);
    CHECK(spools_of(admin, id).size() == 1);
    CHECK(str_field(get_transmission(admin, id), "status") == "completed");

    // Clone: a new pending copy that can be sent on its own.
    r = admin.get(tx_path(id, "clone"));
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r).size() == 1);
    const std::int64_t copy = created_id(r, "transmission_id");
    CHECK(copy != id);
    json::object c = get_transmission(admin, copy);
    CHECK(str_field(c, "status") == "pending");
    CHECK(int_field(c, "try_done") == 0);
    CHECK(int_field(c, "contact_id") == contact);
    CHECK(int_field(c, "program_id") == program);
    CHECK(str_field(c, "title") == "Hello");
    CHECK(int_field(c, "service_flag") == 4);
    CHECK(spools_of(admin, copy).empty());
    const std::int64_t copy_spool = send_transmission(admin, copy);
    CHECK(copy_spool != spool);
    await_transmission(admin, copy, "completed");
    spools = spools_of(admin, copy);
    REQUIRE(spools.size() == 1);
    CHECK(int_field(spools[0].as_object(), "spool_id") == copy_spool);
    CHECK(spools_of(admin, id).size() == 1);  // the original is untouched
    CHECK(transmission_total(admin) == 2);

    // Unknown ids.
    check_error(admin.get(tx_path(9999)), 404);
    check_error(admin.post(tx_path(9999, "send"), json::object{}), 404);
    check_error(admin.post(tx_path(9999, "retry"), json::object{}), 404);
    check_error(admin.get(tx_path(9999, "clone")), 404);
    check_error(admin.get(tx_path(9999, "status")), 404);
    check_error(admin.get(tx_path(9999, "detail")), 404);
    check_error(admin.get(tx_path(9999, "result")), 404);
    check_error(admin.get("/spools/9999/status"), 404);
    check_error(admin.get("/spools/9999/result"), 404);
}

TEST_CASE("transmissions: results the provider attaches appear per transmission and per spool") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t provider = new_loopback_provider(
        admin, "ivr-sms", 4,
        json::object{{"results", json::array{json::object{{"type", "dtmf"}, {"name", "age"}, {"data", "22"}}}}});
    set_provider_active(admin, seeded_sms_provider, false);
    const std::int64_t program = new_sms_program(admin, "Survey");
    const std::int64_t t1 = new_transmission(admin, create_contact(admin, "A", "3004440001"), program);
    const std::int64_t t2 = new_transmission(admin, create_contact(admin, "B", "3004440002"), program);

    Response r = admin.get(tx_path(t1, "result"));
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());

    const std::int64_t s1 = send_transmission(admin, t1);
    await_transmission(admin, t1, "completed");
    const std::int64_t s2 = send_transmission(admin, t2);
    await_transmission(admin, t2, "completed");
    json::array spools = spools_of(admin, t1);
    REQUIRE(spools.size() == 1);
    CHECK(opt_int(spools[0].as_object(), "provider_id") == std::optional<std::int64_t>(provider));

    for (const auto& [t, s] : {std::pair{t1, s1}, std::pair{t2, s2}}) {
        CAPTURE(t);
        for (const std::string& target : {tx_path(t, "result"), "/spools/" + std::to_string(s) + "/result"}) {
            CAPTURE(target);
            r = admin.get(target);
            REQUIRE_STATUS(r, 200);
            json::array rows = as_array(r);
            REQUIRE(rows.size() == 1);  // only this transmission's own spool
            const json::object& row = rows[0].as_object();
            CHECK(int_field(row, "spool_result_id") > 0);
            CHECK(int_field(row, "spool_id") == s);
            CHECK(str_field(row, "type") == "dtmf");
            CHECK(str_field(row, "name") == "age");
            CHECK(str_field(row, "data") == "22");
        }
    }
}

TEST_CASE("transmissions: failures, automatic retry after the retry delay, explicit retry") {
    ServerProcess server(with_args({"--retry-delay", "2"}));
    Client admin = admin_client(server);
    const std::int64_t flaky = new_loopback_provider(admin, "flaky-sms", 4, failing_busy());
    set_provider_active(admin, seeded_sms_provider, false);
    const std::int64_t busy = create_contact(admin, "Busy", busy_phone);
    const std::int64_t ok = create_contact(admin, "Ok", "3005550002");
    const std::int64_t program = new_sms_program(admin, "Retry");

    // One try allowed: failed at once, with the far end's response.
    const std::int64_t once = new_transmission(admin, busy, program);
    const std::int64_t first_spool = send_transmission(admin, once);
    json::object t = await_transmission(admin, once, "failed");
    CHECK(int_field(t, "try_done") == 1);
    CHECK(opt_str(t, "response") == std::optional<std::string>("busy"));
    CHECK_FALSE(opt_int(t, "next_run").has_value());
    json::array spools = spools_of(admin, once);
    REQUIRE(spools.size() == 1);
    CHECK(str_field(spools[0].as_object(), "status") == "failed");
    CHECK(opt_str(spools[0].as_object(), "response") == std::optional<std::string>("busy"));
    CHECK(opt_int(spools[0].as_object(), "provider_id") == std::optional<std::int64_t>(flaky));
    CHECK(as_object(admin.get("/spools/" + std::to_string(first_spool) + "/status")) ==
          json::object{{"status", "failed"}});

    // Two tries allowed: pending_retry, then a second spool made by the engine itself.
    const std::int64_t twice = new_transmission(admin, busy, program, json::object{{"try_allowed", 2}});
    send_transmission(admin, twice);
    t = await_transmission(admin, twice, std::vector<std::string>{"pending_retry", "failed"});
    CHECK(str_field(t, "status") == "pending_retry");
    CHECK(int_field(t, "try_done") == 1);
    const auto next_run = opt_int(t, "next_run");
    REQUIRE(next_run.has_value());
    const std::int64_t last_run = opt_int(t, "last_run").value_or(0);
    CHECK(*next_run - last_run >= 2);
    CHECK(*next_run - last_run <= 4);
    CHECK(spools_of(admin, twice).size() == 1);
    t = await_transmission(admin, twice, "failed", std::chrono::seconds(10));
    CHECK(int_field(t, "try_done") == 2);
    spools = spools_of(admin, twice);
    REQUIRE(spools.size() == 2);
    for (const auto& v : spools) {
        CHECK(str_field(v.as_object(), "status") == "failed");
        CHECK(opt_str(v.as_object(), "response") == std::optional<std::string>("busy"));
    }
    CHECK(int_field(spools[1].as_object(), "time_spool") >= opt_int(spools[0].as_object(), "time_end").value_or(0) + 2);

    // Tries left but the first one succeeds: no retry.
    const std::int64_t good = new_transmission(admin, ok, program, json::object{{"try_allowed", 2}});
    send_transmission(admin, good);
    t = await_transmission(admin, good, "completed");
    CHECK(int_field(t, "try_done") == 1);
    CHECK(spools_of(admin, good).size() == 1);

    // Explicit retry of a failed transmission: a new spool each time.
    const std::int64_t again = created_id(admin.post(tx_path(once, "retry"), json::object{}), "spool_id");
    CHECK(again != first_spool);
    t = await_transmission(admin, once, "failed");
    CHECK(int_field(t, "try_done") == 2);
    CHECK(spools_of(admin, once).size() == 2);
    // The destination recovers: the next retry completes.
    REQUIRE_STATUS(admin.put("/providers/" + std::to_string(flaky), json::object{{"settings", json::object{}}}), 200);
    const std::int64_t third = created_id(admin.post(tx_path(once, "retry"), json::object{}), "spool_id");
    await_transmission(admin, once, "completed");
    spools = spools_of(admin, once);
    REQUIRE(spools.size() == 3);
    CHECK(int_field(spools[2].as_object(), "spool_id") == third);
    CHECK(str_field(spools[2].as_object(), "status") == "completed");
    check_error(admin.post(tx_path(once, "retry"), json::object{}), 423);
    check_error(admin.post(tx_path(once, "send"), json::object{}), 423);
    CHECK(spools_of(admin, once).size() == 3);
}

TEST_CASE("transmissions: a provider error fails over to the next provider within one spool") {
    ServerProcess server;
    Client admin = admin_client(server);
    set_provider_active(admin, seeded_sms_provider, false);
    // The broken provider carries nearly all the weight, so it is almost always tried first.
    const std::int64_t broken =
        new_loopback_provider(admin, "broken", 4, json::object{{"provider_error", "connection refused"}}, 1000);
    const std::int64_t healthy = new_loopback_provider(admin, "healthy", 4, json::object{}, 1);
    const std::int64_t program = new_sms_program(admin, "Failover");

    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        const std::int64_t t =
            new_transmission(admin, create_contact(admin, "C", "300666000" + std::to_string(i)), program);
        const std::int64_t spool = send_transmission(admin, t);
        json::object row = await_transmission(admin, t, std::vector<std::string>{"completed", "failed"});
        CHECK(str_field(row, "status") == "completed");
        CHECK(int_field(row, "try_done") == 1);
        json::array spools = spools_of(admin, t);
        REQUIRE(spools.size() == 1);
        const json::object& s = spools[0].as_object();
        CHECK(int_field(s, "spool_id") == spool);
        CHECK(str_field(s, "status") == "completed");
        CHECK(opt_int(s, "provider_id") == std::optional<std::int64_t>(healthy));
    }

    // With no healthy provider left, the spool fails with the provider's error.
    set_provider_active(admin, healthy, false);
    const std::int64_t t = new_transmission(admin, create_contact(admin, "D", "3006660009"), program);
    send_transmission(admin, t);
    json::object row = await_transmission(admin, t, "failed");
    CHECK(contains_ci(opt_str(row, "response").value_or(""), "connection refused"));
    json::array spools = spools_of(admin, t);
    REQUIRE(spools.size() == 1);
    CHECK(str_field(spools[0].as_object(), "status") == "failed");
    CHECK(contains_ci(opt_str(spools[0].as_object(), "response").value_or(""), "connection refused"));
    (void)broken;
}

TEST_CASE("transmissions: a provider's concurrency limit holds deliveries in flight to it") {
    ServerProcess server;
    Client admin = admin_client(server);
    TempDir ledger_dir("ictcore-ledger");
    const std::filesystem::path ledger = ledger_dir.path() / "deliveries.jsonl";
    const std::int64_t slow = new_loopback_provider(
        admin, "slow", 4, json::object{{"concurrency", 1}, {"latency_ms", 300}, {"ledger", ledger.string()}});
    set_provider_active(admin, seeded_sms_provider, false);
    const std::int64_t program = new_sms_program(admin, "Slow");

    std::vector<std::int64_t> ids, spool_ids;
    for (int i = 0; i < 3; ++i)
        ids.push_back(new_transmission(admin, create_contact(admin, "C", "300777000" + std::to_string(i)), program));
    for (auto id : ids) spool_ids.push_back(send_transmission(admin, id));

    for (auto id : ids) await_transmission(admin, id, "completed");

    // The ledger stamps each delivery (ms) as it completes: with one slot, the next one only
    // starts then, so completions are at least one latency apart (they would coincide with no
    // limit).
    std::vector<json::object> rows = read_ledger(ledger);
    REQUIRE(rows.size() == 3);
    std::vector<std::int64_t> times, recorded;
    for (const auto& row : rows) {
        times.push_back(int_field(row, "time"));
        recorded.push_back(int_field(row, "spool_id"));
        CHECK(int_field(row, "provider_id") == slow);
    }
    CHECK(sorted(recorded) == sorted(spool_ids));
    std::sort(times.begin(), times.end());
    CHECK(times[1] - times[0] >= 290);
    CHECK(times[2] - times[1] >= 290);

    // Raising the limit lets the same deliveries overlap: the measure can tell the difference.
    REQUIRE_STATUS(
        admin.put("/providers/" + std::to_string(slow),
                  json::object{{"settings",
                                json::object{{"concurrency", 3}, {"latency_ms", 300}, {"ledger", ledger.string()}}}}),
        200);
    std::vector<std::int64_t> more;
    for (int i = 0; i < 3; ++i)
        more.push_back(new_transmission(admin, create_contact(admin, "D", "300888000" + std::to_string(i)), program));
    for (auto id : more) send_transmission(admin, id);
    for (auto id : more) await_transmission(admin, id, "completed");
    rows = read_ledger(ledger);
    REQUIRE(rows.size() == 6);
    times.clear();
    for (std::size_t i = 3; i < rows.size(); ++i) times.push_back(int_field(rows[i], "time"));
    std::sort(times.begin(), times.end());
    CHECK(times[2] - times[0] < 450);  // one at a time would take at least 600 ms
}

TEST_CASE("transmissions: send refusals: no provider (423), deleted contact, program or text (412), no e-mail (412)") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t contact = create_contact(admin, "Ann", "3009990001");
    const std::int64_t program = new_sms_program(admin, "Refusals");

    // No active provider for SMS.
    set_provider_active(admin, seeded_sms_provider, false);
    const std::int64_t t = new_transmission(admin, contact, program);
    const std::string message = check_error(admin.post(tx_path(t, "send"), json::object{}), 423);
    CHECK_MESSAGE(contains_ci(message, "sms"), message);
    check_error(admin.post(tx_path(t, "retry"), json::object{}), 423);
    json::object row = get_transmission(admin, t);
    CHECK(str_field(row, "status") == "pending");
    CHECK(int_field(row, "try_done") == 0);
    CHECK(spools_of(admin, t).empty());
    set_provider_active(admin, seeded_sms_provider, true);
    send_transmission(admin, t);
    await_transmission(admin, t, "completed");

    // Contact deleted after the transmission was made.
    const std::int64_t gone_contact = create_contact(admin, "Gone", "3009990002");
    const std::int64_t t_contact = new_transmission(admin, gone_contact, program);
    REQUIRE_STATUS(admin.del("/contacts/" + std::to_string(gone_contact)), 200);
    std::string why = check_error(admin.post(tx_path(t_contact, "send"), json::object{}), 412);
    CHECK_MESSAGE(contains_ci(why, "contact"), why);
    // Program deleted.
    const std::int64_t gone_program = new_sms_program(admin, "Gone");
    const std::int64_t t_program = new_transmission(admin, contact, gone_program);
    REQUIRE_STATUS(admin.del("/programs/" + std::to_string(gone_program)), 200);
    why = check_error(admin.post(tx_path(t_program, "send"), json::object{}), 412);
    CHECK_MESSAGE(contains_ci(why, "program"), why);
    // The program's text deleted.
    const std::int64_t text =
        created_id(admin.post("/messages/texts", json::object{{"name", "gone"}, {"data", "x"}}), "text_id");
    const std::int64_t text_program = created_id(
        admin.post("/programs/sendsms", json::object{{"name", "GoneText"}, {"text_id", text}}), "program_id");
    const std::int64_t t_text = new_transmission(admin, contact, text_program);
    REQUIRE_STATUS(admin.del("/messages/texts/" + std::to_string(text)), 200);
    why = check_error(admin.post(tx_path(t_text, "send"), json::object{}), 412);
    CHECK_MESSAGE(contains_ci(why, "text"), why);
    // E-mail to a contact without an address.
    const std::int64_t tpl = created_id(
        admin.post("/messages/templates", json::object{{"name", "tpl"}, {"subject", "s"}, {"body", "<p>b</p>"}}),
        "template_id");
    const std::int64_t email_program = created_id(
        admin.post("/programs/sendemail", json::object{{"name", "Mail"}, {"template_id", tpl}}), "program_id");
    const std::int64_t t_email = new_transmission(admin, contact, email_program);
    why = check_error(admin.post(tx_path(t_email, "send"), json::object{}), 412);
    CHECK_MESSAGE(contains_ci(why, "mail"), why);

    for (const std::int64_t id : {t_contact, t_program, t_text, t_email}) {
        CAPTURE(id);
        row = get_transmission(admin, id);
        CHECK(str_field(row, "status") == "pending");
        CHECK(int_field(row, "try_done") == 0);
        CHECK(spools_of(admin, id).empty());
    }
}

TEST_CASE("transmissions: voice, fax and e-mail deliveries; calls are connected") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t contact = create_contact(
        admin, json::object{{"first_name", "Ann"}, {"phone", "3001212121"}, {"email", "ann@example.com"}});

    const std::int64_t recording =
        created_id(admin.post("/messages/recordings", json::object{{"name", "tone"}}), "recording_id");
    REQUIRE_STATUS(
        admin.put_raw("/messages/recordings/" + std::to_string(recording) + "/media", tone_wav(), "audio/wav"), 200);
    const std::int64_t document =
        created_id(admin.post("/messages/documents", json::object{{"name", "page"}}), "document_id");
    REQUIRE_STATUS(admin.put_raw("/messages/documents/" + std::to_string(document) + "/media",
                                 ictcore::test::pdf_of_pages({"0 0 0 rg 100 400 200 200 re f"}), "application/pdf"),
                   200);
    const std::int64_t tpl = created_id(
        admin.post("/messages/templates", json::object{{"name", "tpl"}, {"subject", "Hi"}, {"body", "<p>b</p>"}}),
        "template_id");

    struct Case {
        std::string route, field;
        std::int64_t message, provider;
        bool call;
    };
    const std::vector<Case> cases{{"voicemessage", "recording_id", recording, seeded_voice_provider, true},
                                  {"sendfax", "document_id", document, seeded_fax_provider, true},
                                  {"sendemail", "template_id", tpl, seeded_email_provider, false}};
    for (const auto& c : cases) {
        CAPTURE(c.route);
        const std::int64_t program = created_id(
            admin.post("/programs/" + c.route, json::object{{"name", c.route}, {c.field, c.message}}), "program_id");
        const std::int64_t t = new_transmission(admin, contact, program);
        const std::int64_t before = unix_seconds();
        send_transmission(admin, t);
        await_transmission(admin, t, "completed");
        json::array spools = spools_of(admin, t);
        REQUIRE(spools.size() == 1);
        const json::object& s = spools[0].as_object();
        CHECK(str_field(s, "status") == "completed");
        CHECK(opt_int(s, "provider_id") == std::optional<std::int64_t>(c.provider));
        CHECK(opt_int(s, "time_connect").has_value() == c.call);
        check_spool_times(s, before, unix_seconds());
    }
}

TEST_CASE("transmissions: another user's transmissions and spools are 404") {
    ServerProcess server;
    Client admin = admin_client(server);
    create_user(admin, "alice", "alice-pass-1");
    create_user(admin, "bob", "bob-pass-1");
    Client alice = client_as(server, "alice", "alice-pass-1");
    Client bob = client_as(server, "bob", "bob-pass-1");
    const std::int64_t contact = create_contact(alice, "Ann", "3001313131");
    const std::int64_t program = new_sms_program(alice, "Mine");
    const std::int64_t sent = new_transmission(alice, contact, program);
    const std::int64_t spool = send_transmission(alice, sent);
    await_transmission(alice, sent, "completed");
    const std::int64_t waiting = new_transmission(alice, contact, program);

    for (const std::int64_t id : {sent, waiting}) {
        CAPTURE(id);
        check_error(bob.get(tx_path(id)), 404);
        check_error(bob.post(tx_path(id, "send"), json::object{}), 404);
        check_error(bob.post(tx_path(id, "retry"), json::object{}), 404);
        check_error(bob.put(tx_path(id, "schedule"), json::object{{"delay", 1}}), 404);
        check_error(bob.del(tx_path(id, "schedule")), 404);
        check_error(bob.get(tx_path(id, "clone")), 404);
        check_error(bob.get(tx_path(id, "status")), 404);
        check_error(bob.get(tx_path(id, "detail")), 404);
        check_error(bob.get(tx_path(id, "result")), 404);
    }
    check_error(bob.get("/spools/" + std::to_string(spool) + "/status"), 404);
    check_error(bob.get("/spools/" + std::to_string(spool) + "/result"), 404);
    Response r = bob.get("/transmissions");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    CHECK(total_count(r) == 0);

    // Nothing bob tried reached alice's rows (his scheduled send would have fired by now).
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    json::object t = get_transmission(alice, waiting);
    CHECK(str_field(t, "status") == "pending");
    CHECK(spools_of(alice, waiting).empty());
    CHECK(spools_of(alice, sent).size() == 1);
    CHECK(transmission_total(alice) == 2);
    CHECK(str_field(get_transmission(admin, sent), "status") == "completed");  // the admin sees all
}

TEST_CASE("transmissions: statistics count transmissions and spools") {
    ServerProcess server;
    Client admin = admin_client(server);
    new_loopback_provider(admin, "flaky-sms", 4, failing_busy());
    set_provider_active(admin, seeded_sms_provider, false);
    create_user(admin, "sam", "sam-pass-1");
    Client sam = client_as(server, "sam", "sam-pass-1");
    auto stats = [&] {
        Response r = sam.get("/statistics");
        REQUIRE_STATUS(r, 200);
        return as_object(r);
    };
    json::object s = stats();
    CHECK(int_field(s, "transmission_total") == 0);
    CHECK(int_field(s, "spool_total") == 0);

    const std::int64_t program = new_sms_program(sam, "Counted");
    const std::int64_t ok1 = new_transmission(sam, create_contact(sam, "A", "3001414141"), program);
    const std::int64_t ok2 = new_transmission(sam, create_contact(sam, "B", "3001414142"), program);
    const std::int64_t busy = create_contact(sam, "Busy", busy_phone);
    const std::int64_t failed = new_transmission(sam, busy, program);
    const std::int64_t retrying = new_transmission(sam, busy, program, json::object{{"try_allowed", 2}});
    new_transmission(sam, busy, program);  // never sent
    for (auto id : {ok1, ok2, failed, retrying}) send_transmission(sam, id);
    await_transmission(sam, ok1, "completed");
    await_transmission(sam, ok2, "completed");
    await_transmission(sam, failed, "failed");
    await_transmission(sam, retrying, "pending_retry");  // the default retry delay is minutes

    s = stats();
    CHECK(int_field(s, "transmission_total") == 5);
    CHECK(int_field(s, "transmission_active") == 1);
    CHECK(int_field(s, "spool_total") == 4);
    CHECK(int_field(s, "spool_success") == 2);
    CHECK(int_field(s, "spool_failed") == 2);
}

// Programs over HTTP: the nine types (service and direction fixed by the type), the message a
// send type needs (must exist and be the caller's), list/get/delete, ownership, and the
// /programs/{id}/transmissions routes. Documents and recordings without media make valid
// programs, but sending them is refused until media is uploaded.
#include "helpers.hpp"

#include <map>

namespace {

std::string program_path(std::int64_t id) { return "/programs/" + std::to_string(id); }

struct Messages {
    std::int64_t text = 0, email_template = 0, document = 0, recording = 0;
};

Messages create_messages(Client& c, const std::string& prefix) {
    Messages m;
    m.text = created_id(c.post("/messages/texts", json::object{{"name", prefix + "-text"}, {"data", "hi"}}), "text_id");
    m.email_template = created_id(
        c.post("/messages/templates", json::object{{"name", prefix + "-tpl"}, {"subject", "s"}, {"body", "<p>b</p>"}}),
        "template_id");
    m.document = created_id(c.post("/messages/documents", json::object{{"name", prefix + "-doc"}}), "document_id");
    m.recording = created_id(c.post("/messages/recordings", json::object{{"name", prefix + "-rec"}}), "recording_id");
    return m;
}

struct TypeCase {
    std::string type;
    std::int64_t service_flag;
    std::string direction;
    std::string message_field;  // empty for the receive types
};

const std::vector<TypeCase>& type_cases() {
    static const std::vector<TypeCase> cases{
        {"sendsms", 4, "outbound", "text_id"},     {"sendemail", 8, "outbound", "template_id"},
        {"sendfax", 2, "outbound", "document_id"}, {"voicemessage", 1, "outbound", "recording_id"},
        {"receivesms", 4, "inbound", ""},          {"receiveemail", 8, "inbound", ""},
        {"receivefax", 2, "inbound", ""},          {"emailtofax", 2, "inbound", ""},
        {"faxtoemail", 8, "inbound", ""},
    };
    return cases;
}

std::int64_t message_id(const Messages& m, const std::string& field) {
    if (field == "text_id") return m.text;
    if (field == "template_id") return m.email_template;
    if (field == "document_id") return m.document;
    if (field == "recording_id") return m.recording;
    return 0;
}

std::int64_t program_total(Client& c) {
    Response r = c.get("/programs");
    REQUIRE_STATUS(r, 200);
    return total_count(r);
}

}  // namespace

TEST_CASE("programs: each of the nine types creates with the service and direction of its type") {
    ServerProcess server;
    Client admin = admin_client(server);
    const Messages m = create_messages(admin, "m");

    std::map<std::string, std::int64_t> ids;
    for (const auto& tc : type_cases()) {
        CAPTURE(tc.type);
        // service_flag, direction and type in the body are not the client's to choose.
        json::object body{
            {"name", tc.type + " program"}, {"service_flag", 1}, {"direction", "sideways"}, {"type", "x"}};
        if (!tc.message_field.empty()) body[tc.message_field] = message_id(m, tc.message_field);
        Response r = admin.post("/programs/" + tc.type, body);
        REQUIRE_STATUS(r, 200);
        CHECK(as_object(r).size() == 1);
        const std::int64_t id = created_id(r, "program_id");
        ids[tc.type] = id;

        json::object p = as_object(admin.get(program_path(id)));
        CHECK(int_field(p, "program_id") == id);
        CHECK(str_field(p, "name") == tc.type + " program");
        CHECK(str_field(p, "type") == tc.type);
        CHECK(int_field(p, "service_flag") == tc.service_flag);
        CHECK(str_field(p, "direction") == tc.direction);
        if (!tc.message_field.empty()) CHECK(int_field(p, tc.message_field) == message_id(m, tc.message_field));
    }

    // A message id that is not the type's own is dropped.
    const std::int64_t mixed =
        created_id(admin.post("/programs/sendsms",
                              json::object{{"name", "mixed"}, {"text_id", m.text}, {"recording_id", m.recording}}),
                   "program_id");
    json::object p = as_object(admin.get(program_path(mixed)));
    CHECK(int_field(p, "text_id") == m.text);
    CHECK_FALSE(opt_int(p, "recording_id").has_value());

    // Lists and filters: type matches exactly.
    Response r = admin.get("/programs");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 10);
    CHECK(as_array(r).size() == 10);
    r = admin.get("/programs?type=sendsms");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "program_id") == std::vector<std::int64_t>{ids["sendsms"], mixed});
    CHECK(total_count(r) == 2);
    r = admin.get("/programs?type=faxtoemail");
    CHECK(ids_of(as_array(r), "program_id") == std::vector<std::int64_t>{ids["faxtoemail"]});
    r = admin.get("/programs?type=send");
    CHECK(as_array(r).empty());
    r = admin.get("/programs?direction=inbound");
    CHECK(as_array(r).size() == 5);
    r = admin.get("/programs?service_flag=2");
    CHECK(ids_of(as_array(r), "program_id") ==
          std::vector<std::int64_t>{ids["sendfax"], ids["receivefax"], ids["emailtofax"]});

    // Delete, by DELETE and GET …/delete.
    r = admin.del(program_path(ids["receivesms"]));
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(program_path(ids["receivesms"])), 404);
    check_error(admin.del(program_path(ids["receivesms"])), 404);
    r = admin.get(program_path(ids["receivefax"]) + "/delete");
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(program_path(ids["receivefax"])), 404);
    CHECK(program_total(admin) == 8);
}

TEST_CASE("programs: the message must exist and be the caller's (412); unknown type is 404") {
    ServerProcess server;
    Client admin = admin_client(server);
    create_user(admin, "alice", "alice-pass-1");
    create_user(admin, "bob", "bob-pass-1");
    Client alice = client_as(server, "alice", "alice-pass-1");
    Client bob = client_as(server, "bob", "bob-pass-1");
    const Messages mine = create_messages(alice, "a");
    const Messages theirs = create_messages(bob, "b");

    for (const auto& tc : type_cases()) {
        if (tc.message_field.empty()) continue;
        CAPTURE(tc.type);
        const std::string route = "/programs/" + tc.type;
        CHECK(contains_ci(check_error(alice.post(route, json::object{{"name", "n"}}), 412), tc.message_field));
        check_error(alice.post(route, json::object{{"name", "n"}, {tc.message_field, 99999}}), 412);
        check_error(
            alice.post(route, json::object{{"name", "n"}, {tc.message_field, message_id(theirs, tc.message_field)}}),
            412);
        // Naming some other message type does not satisfy the type.
        const std::string other = tc.message_field == "text_id" ? "recording_id" : "text_id";
        check_error(alice.post(route, json::object{{"name", "n"}, {other, message_id(mine, other)}}), 412);
        // The name is required too.
        check_error(alice.post(route, json::object{{tc.message_field, message_id(mine, tc.message_field)}}), 412);
    }
    check_error(alice.post("/programs/receivesms", json::object{}), 412);  // no name
    CHECK(program_total(alice) == 0);
    CHECK(program_total(bob) == 0);

    check_error(alice.post("/programs/unknowntype", json::object{{"name", "n"}, {"text_id", mine.text}}), 404);
    check_error(alice.post("/programs/sendSMS", json::object{{"name", "n"}, {"text_id", mine.text}}), 404);
    CHECK(program_total(alice) == 0);

    // Alice's own message works.
    created_id(alice.post("/programs/sendsms", json::object{{"name", "ok"}, {"text_id", mine.text}}), "program_id");
    CHECK(program_total(alice) == 1);
}

TEST_CASE("programs: another user's program is 404; admin sees all") {
    ServerProcess server;
    Client admin = admin_client(server);
    create_user(admin, "alice", "alice-pass-1");
    create_user(admin, "bob", "bob-pass-1");
    Client alice = client_as(server, "alice", "alice-pass-1");
    Client bob = client_as(server, "bob", "bob-pass-1");
    const std::int64_t prog = new_sms_program(alice, "alice-prog");
    const std::int64_t bob_contact = create_contact(bob, "Bo", "3005550001");

    check_error(bob.get(program_path(prog)), 404);
    check_error(bob.del(program_path(prog)), 404);
    check_error(bob.get(program_path(prog) + "/delete"), 404);
    check_error(bob.get(program_path(prog) + "/transmissions"), 404);
    check_error(bob.put(program_path(prog) + "/transmissions", json::object{{"contact_id", bob_contact}}), 404);
    // Nor can bob use it through POST /transmissions.
    check_error(bob.post("/transmissions", json::object{{"contact_id", bob_contact}, {"program_id", prog}}), 412);
    Response r = bob.get("/programs");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    CHECK(total_count(r) == 0);
    r = bob.get("/transmissions");
    CHECK(as_array(r).empty());

    REQUIRE_STATUS(alice.get(program_path(prog)), 200);
    REQUIRE_STATUS(admin.get(program_path(prog)), 200);
    CHECK(has_id(as_array(admin.get("/programs")), "program_id", prog));
}

TEST_CASE("programs: PUT and GET /programs/{id}/transmissions") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t contact = create_contact(admin, "Ann", "3001110001");
    const std::int64_t p1 = new_sms_program(admin, "first");
    const std::int64_t p2 = new_sms_program(admin, "second");

    // program_id comes from the URL, whatever the body says.
    Response r = admin.put(program_path(p1) + "/transmissions", json::object{{"contact_id", contact}});
    const std::int64_t t1 = created_id(r, "transmission_id");
    r = admin.put(program_path(p1) + "/transmissions", json::object{{"contact_id", contact}, {"program_id", p2}});
    const std::int64_t t2 = created_id(r, "transmission_id");
    const std::int64_t t3 = new_transmission(admin, contact, p2);

    json::object t = get_transmission(admin, t1);
    CHECK(int_field(t, "program_id") == p1);
    CHECK(int_field(t, "contact_id") == contact);
    CHECK(str_field(t, "title") == "first");
    CHECK(str_field(t, "origin") == "sendsms");
    CHECK(str_field(t, "status") == "pending");
    CHECK(int_field(get_transmission(admin, t2), "program_id") == p1);

    r = admin.get(program_path(p1) + "/transmissions");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "transmission_id") == std::vector<std::int64_t>{t1, t2});
    CHECK(total_count(r) == 2);
    // A program_id in the query does not widen the list to another program.
    r = admin.get(program_path(p1) + "/transmissions?program_id=" + std::to_string(p2));
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "transmission_id") == std::vector<std::int64_t>{t1, t2});
    r = admin.get(program_path(p2) + "/transmissions");
    CHECK(ids_of(as_array(r), "transmission_id") == std::vector<std::int64_t>{t3});

    // Refusals: missing contact, an inbound program, an unknown program.
    check_error(admin.put(program_path(p1) + "/transmissions", json::object{}), 412);
    const std::int64_t inbound =
        created_id(admin.post("/programs/receivesms", json::object{{"name", "in"}}), "program_id");
    check_error(admin.put(program_path(inbound) + "/transmissions", json::object{{"contact_id", contact}}), 412);
    check_error(admin.put(program_path(9999) + "/transmissions", json::object{{"contact_id", contact}}), 404);
    check_error(admin.get(program_path(9999) + "/transmissions"), 404);
    r = admin.get(program_path(inbound) + "/transmissions");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    CHECK(total_count(admin.get("/transmissions")) == 3);
}

TEST_CASE("programs: fax and voice programs without media are created, but sending them is refused") {
    ServerProcess server;
    Client admin = admin_client(server);
    const Messages m = create_messages(admin, "nomedia");
    const std::int64_t contact = create_contact(admin, "Ann", "3001110001");
    const std::int64_t fax = created_id(
        admin.post("/programs/sendfax", json::object{{"name", "fax"}, {"document_id", m.document}}), "program_id");
    const std::int64_t voice =
        created_id(admin.post("/programs/voicemessage", json::object{{"name", "voice"}, {"recording_id", m.recording}}),
                   "program_id");

    for (const std::int64_t program : {fax, voice}) {
        CAPTURE(program);
        const std::int64_t t = new_transmission(admin, contact, program);
        const std::string message = check_error(admin.post(tx_path(t, "send"), json::object{}), 412);
        CHECK_MESSAGE(contains_ci(message, "no media yet"), message);
        json::object row = get_transmission(admin, t);
        CHECK(str_field(row, "status") == "pending");
        CHECK(int_field(row, "try_done") == 0);
        CHECK(spools_of(admin, t).empty());
    }
}

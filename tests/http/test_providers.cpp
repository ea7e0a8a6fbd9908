// Providers over HTTP (/providers and /providers/{id}): the seeded loopback providers, CRUD,
// the guide's artefact keys, type/gateway_flag resolution, every 412 refusal (which must
// leave the data as it was), secrets never returned, and 403 for a non-admin user.
#include "helpers.hpp"

namespace {

std::string provider_path(std::int64_t id) { return "/providers/" + std::to_string(id); }

json::object get_provider(Client& c, std::int64_t id) {
    Response r = c.get(provider_path(id));
    REQUIRE_STATUS(r, 200);
    return as_object(r);
}

// The settings field as JSON (it is returned as text).
json::value settings_of(const json::object& p) {
    auto text = opt_str(p, "settings");
    REQUIRE_MESSAGE(text.has_value(), "provider has no settings: " << json::serialize(p));
    return json::parse(*text);
}

// The whole listing, to show that a refused request changed nothing.
std::string listing(Client& admin) {
    Response r = admin.get("/providers");
    REQUIRE_STATUS(r, 200);
    return r.body;
}

json::object valid_body(const std::string& name) {
    return json::object{{"name", name}, {"type", "loopback"}, {"service_flag", 4}, {"username", "user1"}};
}

}  // namespace

TEST_CASE("providers: one active loopback provider per service is seeded") {
    ServerProcess server;
    Client admin = admin_client(server);
    Response r = admin.get("/providers");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 4);
    json::array rows = as_array(r);
    REQUIRE(rows.size() == 4);
    const std::int64_t services[] = {1, 2, 4, 8};  // ids 1..4: voice, fax, sms, email
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const json::object& p = rows[i].as_object();
        CAPTURE(json::serialize(p));
        CHECK(int_field(p, "provider_id") == static_cast<std::int64_t>(i + 1));
        CHECK(int_field(p, "service_flag") == services[i]);
        CHECK(str_field(p, "type") == "loopback");
        CHECK(int_field(p, "gateway_flag") == 16);
        CHECK(int_field(p, "active") == 1);
        CHECK_FALSE(p.contains("password"));
    }
}

TEST_CASE("providers: create, read, list with filters, update, delete") {
    ServerProcess server;
    Client admin = admin_client(server);

    // With a type, a password and settings given as an object.
    json::object body = valid_body("alpha-sms");
    body["password"] = "Trunk-Secret-77";
    body["host"] = "127.0.0.1";
    body["port"] = 5060;
    body["weight"] = 20;
    body["settings"] = json::object{{"latency_ms", 5}};
    Response r = admin.post("/providers", body);
    REQUIRE_STATUS(r, 200);
    CHECK(as_object(r).size() == 1);  // just {"provider_id": N}
    const std::int64_t alpha = created_id(r, "provider_id");

    r = admin.get(provider_path(alpha));
    REQUIRE_STATUS(r, 200);
    json::object p = as_object(r);
    CHECK(int_field(p, "provider_id") == alpha);
    CHECK(str_field(p, "name") == "alpha-sms");
    CHECK(str_field(p, "type") == "loopback");
    CHECK(int_field(p, "gateway_flag") == 16);  // from the type
    CHECK(int_field(p, "service_flag") == 4);
    CHECK(str_field(p, "username") == "user1");
    CHECK(str_field(p, "host") == "127.0.0.1");
    CHECK(int_field(p, "port") == 5060);
    CHECK(int_field(p, "weight") == 20);
    CHECK(int_field(p, "active") == 1);
    CHECK(settings_of(p) == json::value(json::object{{"latency_ms", 5}}));
    CHECK_FALSE(p.contains("password"));
    CHECK_MESSAGE(r.body.find("Trunk-Secret-77") == std::string::npos, "password returned: " << r.describe());

    // Only a gateway_flag: the type follows from it.
    json::object by_flag{{"name", "beta-email"}, {"gateway_flag", 16}, {"service_flag", 8}, {"username", "u"}};
    const std::int64_t beta = created_id(admin.post("/providers", by_flag), "provider_id");
    p = get_provider(admin, beta);
    CHECK(str_field(p, "type") == "loopback");
    CHECK(int_field(p, "gateway_flag") == 16);
    CHECK(int_field(p, "service_flag") == 8);

    // The guide's artefact keys name the plain fields.
    json::object guide{{"name", "gamma-voice"},
                       {"gateway_flag: 1 (number) - Type of gateway i.e Freeswitch::GATEWAY_FLAG or Kannel", 16},
                       {"service_flag: 1 (number) - Type of transmission service i.e Email::SERVICE_FLAG or Voice", 1},
                       {"username", "username"},
                       {"password", "password"},
                       {"settings", "{\"latency_ms\": 1}"},  // settings as a string of JSON
                       {"register", 1},
                       {"weight", 10},
                       {"active", 1}};
    const std::int64_t gamma = created_id(admin.post("/providers", guide), "provider_id");
    p = get_provider(admin, gamma);
    CHECK(int_field(p, "service_flag") == 1);
    CHECK(int_field(p, "gateway_flag") == 16);
    CHECK(str_field(p, "type") == "loopback");
    CHECK(int_field(p, "register") == 1);
    CHECK(settings_of(p) == json::value(json::object{{"latency_ms", 1}}));

    // Lists and filters.
    r = admin.get("/providers");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 7);
    CHECK(as_array(r).size() == 7);
    r = admin.get("/providers?type=loopback");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).size() == 7);
    r = admin.get("/providers?type=kannel");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).empty());
    CHECK(total_count(r) == 0);
    r = admin.get("/providers?name=alpha");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "provider_id") == std::vector<std::int64_t>{alpha});
    CHECK(total_count(r) == 1);
    r = admin.get("/providers?service_flag=8");
    REQUIRE_STATUS(r, 200);
    CHECK(ids_of(as_array(r), "provider_id") == std::vector<std::int64_t>{seeded_email_provider, beta});
    // The password is no filter: matching on it would let a listing guess it.
    r = admin.get("/providers?password=Trunk-Secret-77");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 7);
    r = admin.get("/providers?password=wrong");
    REQUIRE_STATUS(r, 200);
    CHECK(total_count(r) == 7);
    r = admin.get("/providers?limit=2");
    REQUIRE_STATUS(r, 200);
    CHECK(as_array(r).size() == 2);
    CHECK(total_count(r) == 7);

    // Update returns the full object; settings change; the password stays hidden and kept.
    r = admin.put(
        provider_path(alpha),
        json::object{{"weight", 5},
                     {"settings", json::object{{"latency_ms", 7}, {"fail", json::object{{"+1555", "busy"}}}}}});
    REQUIRE_STATUS(r, 200);
    p = as_object(r);
    CHECK(int_field(p, "provider_id") == alpha);
    CHECK(str_field(p, "name") == "alpha-sms");  // untouched fields kept
    CHECK(str_field(p, "host") == "127.0.0.1");
    CHECK(int_field(p, "weight") == 5);
    CHECK(settings_of(p) == json::value(json::object{{"latency_ms", 7}, {"fail", json::object{{"+1555", "busy"}}}}));
    CHECK_FALSE(p.contains("password"));
    p = get_provider(admin, alpha);
    CHECK(int_field(p, "weight") == 5);
    CHECK(settings_of(p).at("latency_ms") == 7);

    // A guide artefact key in an update, and deactivation.
    r = admin.put(
        provider_path(gamma),
        json::object{{"service_flag: 1 (number) - Type of transmission service i.e Email::SERVICE_FLAG or Voice", 3},
                     {"active", 0}});
    REQUIRE_STATUS(r, 200);
    p = as_object(r);
    CHECK(int_field(p, "service_flag") == 3);
    CHECK(int_field(p, "active") == 0);

    // Delete, by DELETE and by GET …/delete.
    r = admin.del(provider_path(alpha));
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(provider_path(alpha)), 404);
    r = admin.get(provider_path(beta) + "/delete");
    REQUIRE_STATUS(r, 200);
    CHECK_TRUE_BODY(r);
    check_error(admin.get(provider_path(beta)), 404);
    check_error(admin.del(provider_path(beta)), 404);
    r = admin.get("/providers");
    CHECK(total_count(r) == 5);
    CHECK_FALSE(has_id(as_array(r), "provider_id", alpha));
}

TEST_CASE("providers: invalid input is refused with 412 and changes nothing") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::string before = listing(admin);

    auto refused = [&](json::object body, std::string_view mention) {
        CAPTURE(json::serialize(body));
        const std::string message = check_error(admin.post("/providers", body), 412);
        if (!mention.empty()) CHECK_MESSAGE(contains_ci(message, mention), message);
        CHECK(listing(admin) == before);
    };
    auto with = [](json::object body, std::string_view key, json::value v) {
        body[key] = std::move(v);
        return body;
    };

    const json::object ok = valid_body("x");
    refused(with(ok, "type", "nosuchgateway"), "nosuchgateway");
    refused(with(ok, "gateway_flag", 2), "gateway_flag");  // loopback is 16, not Kannel's 2
    json::object no_type = ok;
    no_type.erase("type");
    refused(with(no_type, "gateway_flag", 99), "gateway_flag");  // no gateway has it
    refused(no_type, "type");                                    // neither type nor gateway_flag
    refused(with(ok, "service_flag", 0), "service_flag");
    refused(with(ok, "service_flag", 32), "service_flag");  // not a service bit
    json::object no_service = ok;
    no_service.erase("service_flag");
    refused(no_service, "service_flag");
    refused(with(ok, "settings", json::object{{"latency_ms", -1}}), "latency_ms");
    refused(with(ok, "settings", "not json"), "");
    refused(with(ok, "settings", json::array{1, 2}), "settings");
    refused(with(ok, "settings", json::object{{"concurrency", -1}}), "concurrency");
    refused(with(ok, "settings", json::object{{"fail", "everything"}}), "fail");
    refused(with(ok, "settings", json::object{{"results", json::array{json::object{{"type", "dtmf"}}}}}), "results");
    refused(with(ok, "weight", -1), "weight");
    refused(with(ok, "port", 70000), "port");
    json::object no_name = ok;
    no_name.erase("name");
    refused(no_name, "name");
    // The guide's artefact key is read as service_flag: 0 there is refused like the plain key.
    json::object guide_zero = ok;
    guide_zero.erase("service_flag");
    guide_zero["service_flag: 1 (number) - Type of transmission service i.e Email::SERVICE_FLAG or Voice"] = 0;
    refused(guide_zero, "service_flag");

    // Updates refused the same way leave the provider as it was.
    const json::object seeded = get_provider(admin, seeded_sms_provider);
    auto refused_update = [&](json::object body) {
        CAPTURE(json::serialize(body));
        check_error(admin.put(provider_path(seeded_sms_provider), body), 412);
        CHECK(get_provider(admin, seeded_sms_provider) == seeded);
    };
    refused_update(json::object{{"type", "nosuchgateway"}});
    refused_update(json::object{{"gateway_flag", 8}});
    refused_update(json::object{{"service_flag", 0}});
    refused_update(json::object{{"settings", json::object{{"latency_ms", -1}}}});
    refused_update(json::object{{"settings", "{not json"}});
    refused_update(json::object{{"weight", -5}});
    CHECK(listing(admin) == before);

    // Unknown ids.
    check_error(admin.get(provider_path(999)), 404);
    check_error(admin.put(provider_path(999), json::object{{"weight", 1}}), 404);
    check_error(admin.del(provider_path(999)), 404);
}

TEST_CASE("providers: a non-admin user gets 403 on every provider route") {
    ServerProcess server;
    Client admin = admin_client(server);
    create_user(admin, "plain", "plain-pass-1");
    Client user = client_as(server, "plain", "plain-pass-1");
    const std::string before = listing(admin);

    check_error(user.get("/providers"), 403);
    check_error(user.get(provider_path(seeded_sms_provider)), 403);
    check_error(user.post("/providers", valid_body("mine")), 403);
    check_error(user.put(provider_path(seeded_sms_provider), json::object{{"active", 0}}), 403);
    check_error(user.del(provider_path(seeded_sms_provider)), 403);
    check_error(user.get(provider_path(seeded_sms_provider) + "/delete"), 403);
    CHECK(listing(admin) == before);
    CHECK(int_field(get_provider(admin, seeded_sms_provider), "active") == 1);
}

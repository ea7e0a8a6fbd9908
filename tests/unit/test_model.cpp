// Value rules and the JSON codec driven by the entity descriptions.
#include "model/validation.hpp"

#include <ictcore/ictcore.hpp>

#include <doctest/doctest.h>

using namespace ictcore;

TEST_CASE("phones are normalised or refused") {
    CHECK(model::normalize_phone("+92 (300) 123-4567") == "+923001234567");
    CHECK(model::normalize_phone("0300.1234567") == "03001234567");
    CHECK(model::normalize_phone("123") == "123");
    CHECK_FALSE(model::normalize_phone("12"));
    CHECK_FALSE(model::normalize_phone("1234567890123456"));
    CHECK_FALSE(model::normalize_phone("12a45"));
    CHECK_FALSE(model::normalize_phone("12+345"));
    CHECK_FALSE(model::normalize_phone("++12345"));
    CHECK_FALSE(model::normalize_phone(""));
}

TEST_CASE("e-mail syntax") {
    CHECK(model::valid_email("a@b.co"));
    CHECK_FALSE(model::valid_email("a@b"));
    CHECK_FALSE(model::valid_email("@b.co"));
    CHECK_FALSE(model::valid_email("a b@c.de"));
    CHECK_FALSE(model::valid_email("a@@c.de"));
    CHECK_FALSE(model::valid_email("a@c.de."));
}

TEST_CASE("a contact decodes from JSON, phone as number or string") {
    Contact c;
    apply_json(c, parse_json_object(R"({"first_name":"Ali","phone":3001234567,"email":"ali@example.com",
                                        "contact_id":99,"created_by":7,"unknown":1})"));
    CHECK(c.first_name == "Ali");
    CHECK(c.phone == "3001234567");
    CHECK(c.contact_id == 0);  // keys and owners are not input
    CHECK(c.created_by == 0);
    validate(c, true);

    apply_json(c, parse_json_object(R"({"phone":"+1 (415) 555-0123","last_name":null})"));
    validate(c, false);
    CHECK(c.phone == "+14155550123");
    CHECK_FALSE(c.last_name.has_value());

    auto o = to_json(c);
    CHECK(o.at("phone").as_string() == "+14155550123");
    CHECK(o.at("last_name").is_null());
    CHECK(o.at("contact_id").as_int64() == 0);
}

TEST_CASE("decoding and validation errors name the field") {
    Contact c;
    auto message_of = [](auto&& f) {
        try {
            f();
        } catch (const Error& e) {
            CHECK(e.code() == Errc::invalid);
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message_of([&] { apply_json(c, parse_json_object(R"({"first_name":5})")); }) ==
          "first_name must be a string");
    CHECK(message_of([&] {
              Contact d;
              apply_json(d, parse_json_object(R"({"first_name":"x"})"));
              validate(d, true);
          }) == "phone is required");
    CHECK(message_of([&] {
              Contact d;
              apply_json(d, parse_json_object(R"({"first_name":"x","phone":"12"})"));
              validate(d, true);
          }) == "phone must be 3 to 15 digits, optionally starting with +");
    CHECK(message_of([&] { parse_json_object("{\"a\":\n  tru}"); }).rfind("malformed JSON at line 2", 0) == 0);
    CHECK(message_of([&] { parse_json_object("{} x"); }).find("unexpected data") != std::string::npos);
    CHECK(message_of([&] { parse_json_object("[1,2]"); }) == "the request body must be a JSON object");
    User u;
    CHECK(message_of([&] { apply_json(u, parse_json_object(R"({"active":"yes"})")); }) == "active must be an integer");
}

TEST_CASE("passwords are input only") {
    User u;
    apply_json(u, parse_json_object(R"({"username":"bob","passwd":"secret-pass"})"));
    CHECK(u.passwd == "secret-pass");
    CHECK_FALSE(to_json(u).contains("passwd"));
}

TEST_CASE("list queries read controls and filters") {
    auto q = ListQuery::from_pairs({{"first_name", "ali"}, {"limit", "10"}, {"offset", "5"}, {"sort", "-phone"}});
    CHECK(q.limit == 10);
    CHECK(q.offset == 5);
    CHECK(q.sort == "-phone");
    REQUIRE(q.filters.size() == 1);
    CHECK(q.filters[0].first == "first_name");
    CHECK_THROWS_AS(ListQuery::from_pairs({{"limit", "-1"}}), Error);
    CHECK_THROWS_AS(ListQuery::from_pairs({{"offset", "x"}}), Error);
}

TEST_CASE("principals grant by prefix") {
    Principal p(2, "u", false, {"contact", "group_read"});
    CHECK(p.can("contact_read"));
    CHECK(p.can("contact"));
    CHECK(p.can("group_read"));
    CHECK_FALSE(p.can("group_update"));
    CHECK_FALSE(p.can("contacts_read"));  // a prefix counts only up to an underscore
    CHECK_FALSE(p.can("cont"));
    CHECK_THROWS_AS(p.require("user_create"), Error);
}

// The services through Core: first start, permissions, ownership, atomic updates, listing
// and CSV import/export — exactly what an embedding program gets.
#include "core_options.hpp"
#include "temp_dir.hpp"

#include <ictcore/ictcore.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace ictcore;

namespace {

Errc code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        if (e.code() == Errc::internal) MESSAGE(std::string(e.what()));
        return e.code();
    } catch (const std::exception& e) {
        FAIL("expected an ictcore::Error, got: " << e.what());
    }
    FAIL("expected an ictcore::Error");
    return Errc::internal;
}

Contact contact(std::string first, std::string phone) {
    Contact c;
    c.first_name = std::move(first);
    c.phone = std::move(phone);
    return c;
}

struct Fixture {
    test::TempDir dir;
    Core core{test::core_options(dir)};
    Principal admin = core.auth().from_password("admin", "admin-password");

    Principal new_user(const std::string& name) {
        User u;
        u.username = name;
        u.passwd = name + "-password";
        core.users().create(admin, u);
        return core.auth().from_password(name, name + "-password");
    }
};

}  // namespace

TEST_CASE("first start creates admin once; a generated password is reported") {
    test::TempDir dir;
    Options o = test::core_options(dir);
    o.admin_password.reset();
    std::string generated;
    {
        Core core(o);
        CHECK(core.first_start());
        REQUIRE(core.generated_admin_password());
        generated = *core.generated_admin_password();
        CHECK(generated.size() >= 20);
        auto admin = core.auth().from_password("admin", generated);
        CHECK(admin.admin());
    }
    Core again(o);
    CHECK_FALSE(again.first_start());
    CHECK_FALSE(again.generated_admin_password());
    CHECK(again.auth().login("admin", generated).user_id > 0);
    CHECK(code_of([&] { again.auth().login("admin", "wrong"); }) == Errc::unauthenticated);
    CHECK(code_of([&] { again.auth().login("nobody", "wrong"); }) == Errc::unauthenticated);
}

TEST_CASE_FIXTURE(Fixture, "tokens identify the user and follow role changes") {
    auto bob = new_user("bob");
    CHECK_FALSE(bob.admin());
    CHECK(bob.can("contact_create"));
    CHECK_FALSE(bob.can("user_create"));
    const auto token = core.auth().login("bob", "bob-password").token;
    CHECK(core.auth().from_token(token).user_id() == bob.user_id());

    const auto roles = core.users().roles(admin);
    std::int64_t user_role = 0;
    for (const auto& r : roles) {
        if (r.name == "user") user_role = r.role_id;
    }
    REQUIRE(user_role > 0);
    core.users().remove_role(admin, bob.user_id(), user_role);
    CHECK_FALSE(core.auth().from_token(token).can("contact_create"));

    core.users().update(admin, bob.user_id(), [](User& u) { u.active = 0; });
    CHECK(code_of([&] { core.auth().from_token(token); }) == Errc::unauthenticated);
}

TEST_CASE("a deleted user's id is never issued again, so its tokens never name another user") {
    test::TempDir dir;
    std::int64_t dave_id = 0;
    std::string dave_token;
    {
        Core core{test::core_options(dir)};
        auto admin = core.auth().from_password("admin", "admin-password");
        User dave;
        dave.username = "dave";
        dave.passwd = "dave-password";
        dave_id = core.users().create(admin, dave);
        dave_token = core.auth().login("dave", "dave-password").token;
        core.users().remove(admin, dave_id);
        // dave held the highest id: SQLite on its own would give it to dan.
        User dan;
        dan.username = "dan";
        dan.passwd = "dan-password";
        const auto dan_id = core.users().create(admin, dan);
        CHECK(dan_id == dave_id + 1);
        CHECK(code_of([&] { core.auth().from_token(dave_token); }) == Errc::unauthenticated);
        CHECK(core.auth().from_password("dan", "dan-password").user_id() == dan_id);
        core.users().remove(admin, dan_id);
    }
    // What was issued survives a restart.
    Core core{test::core_options(dir)};
    auto admin = core.auth().from_password("admin", "admin-password");
    User erin;
    erin.username = "erin";
    erin.passwd = "erin-password";
    CHECK(core.users().create(admin, erin) == dave_id + 2);
    CHECK(code_of([&] { core.auth().from_token(dave_token); }) == Errc::unauthenticated);
}

TEST_CASE_FIXTURE(Fixture, "users see only their own rows; admins see all") {
    auto bob = new_user("bob");
    auto eve = new_user("eve");
    const auto bob_contact = core.contacts().create(bob, contact("Bob's", "111222"));
    const auto eve_contact = core.contacts().create(eve, contact("Eve's", "333444"));
    const auto bob_group = core.groups().create(bob, Group{0, "bob group", std::nullopt, 0, 0});

    CHECK(core.contacts().get(bob, bob_contact).first_name == "Bob's");
    CHECK(code_of([&] { core.contacts().get(bob, eve_contact); }) == Errc::not_found);
    CHECK(code_of([&] { core.contacts().update(eve, bob_contact, [](Contact& c) { c.first_name = "x"; }); }) ==
          Errc::not_found);
    CHECK(code_of([&] { core.contacts().remove(eve, bob_contact); }) == Errc::not_found);
    CHECK(code_of([&] { core.contacts().link(eve, eve_contact, bob_group); }) == Errc::not_found);
    CHECK(core.contacts().list(bob, {}).total() == 1);
    CHECK(core.contacts().list(admin, {}).total() == 2);
    CHECK(core.statistics().get(bob).contact_total == 1);
    CHECK(core.statistics().get(admin).contact_total == 2);
    CHECK(code_of([&] { core.users().list(bob, {}); }) == Errc::forbidden);
    CHECK(core.users().get(bob, bob.user_id()).username == "bob");  // itself
    CHECK(code_of([&] { core.users().get(bob, eve.user_id()); }) == Errc::forbidden);
}

TEST_CASE_FIXTURE(Fixture, "a refused update changes nothing") {
    const auto id = core.contacts().create(admin, contact("Ali", "+923001234567"));
    CHECK(code_of([&] {
              core.contacts().update(admin, id, [](Contact& c) {
                  c.first_name = "Changed";
                  c.phone = "bad";
              });
          }) == Errc::invalid);
    CHECK(core.contacts().get(admin, id).first_name == "Ali");
    auto updated = core.contacts().update(admin, id, [](Contact& c) {
        c.email = "ali@example.com";
        c.contact_id = 999;  // keys cannot be changed
    });
    CHECK(updated.contact_id == id);
    CHECK(updated.email == "ali@example.com");
    CHECK(updated.created_by == admin.user_id());
}

TEST_CASE_FIXTURE(Fixture, "lists filter, sort and page") {
    core.contacts().create(admin, contact("Zed", "+14155550100"));
    core.contacts().create(admin, contact("amy", "+14155550567"));
    core.contacts().create(admin, contact("Amir", "+923005670000"));
    auto names = [&](ListQuery q) {
        std::vector<std::string> out;
        for (auto& c : core.contacts().list(admin, q).all()) out.push_back(c.first_name);
        return out;
    };
    CHECK(names(ListQuery::from_pairs({{"first_name", "AM"}})) == std::vector<std::string>{"amy", "Amir"});
    CHECK(names(ListQuery::from_pairs({{"phone", "567"}})) == std::vector<std::string>{"amy"});
    CHECK(names(ListQuery::from_pairs({{"sort", "-contact_id"}, {"limit", "2"}})) ==
          std::vector<std::string>{"Amir", "amy"});
    CHECK(names(ListQuery::from_pairs({{"limit", "1"}, {"offset", "1"}})) == std::vector<std::string>{"amy"});
    CHECK(names(ListQuery::from_pairs({{"first_name", "%"}})).empty());  // LIKE wildcards are literal
    CHECK(names(ListQuery::from_pairs({{"nonsense", "x"}})).size() == 3);
    auto cursor = core.contacts().list(admin, ListQuery::from_pairs({{"limit", "1"}}));
    CHECK(cursor.total() == 3);
    CHECK(code_of([&] { core.contacts().list(admin, ListQuery::from_pairs({{"sort", "passwd"}})); }) == Errc::invalid);
    CHECK(code_of([&] { core.contacts().list(admin, ListQuery::from_pairs({{"contact_id", "x"}})); }) == Errc::invalid);
}

TEST_CASE_FIXTURE(Fixture, "CSV import reports rejected lines and exports what it stored") {
    const auto group = core.groups().create(admin, Group{0, "imports", std::nullopt, 0, 0});
    const std::string csv =
        "phone,first_name,last_name,email,address,custom1,custom2,custom3,description\r\n"
        "+923001234567,Ali,Khan,ali@example.com,\"House 1, Street 2\",,,,\r\n"
        "\r\n"
        "12,Too,Short\r\n"
        "4155550123,\"Multi\nLine\",,,,,,,\"say \"\"hi\"\"\"\r\n"
        "5550001\r\n"
        "5550002,a,b,not-an-email\r\n"
        "5550003,a,b,c@d.ef,e,f,g,h,i,extra\r\n";
    auto report = core.groups().import_csv(admin, group, csv);
    CHECK(report.imported == 3);
    CHECK(report.rejected == 3);
    REQUIRE(report.rejections.size() == 3);
    CHECK(report.rejections[0].line == 4);
    CHECK(report.rejections[0].reason.find("phone") != std::string::npos);
    CHECK(report.rejections[1].line == 8);
    CHECK(report.rejections[2].line == 9);
    CHECK(core.groups().get(admin, group).contact_total == 3);

    std::string exported;
    auto chunks = core.groups().export_csv(admin, group);
    CHECK(chunks.total() == 3);
    std::string chunk;
    while (chunks.next(chunk)) exported += chunk;
    CHECK(exported ==
          "+923001234567,Ali,Khan,ali@example.com,\"House 1, Street 2\",,,,\r\n"
          "4155550123,\"Multi\nLine\",,,,,,,\"say \"\"hi\"\"\"\r\n"
          "5550001,,,,,,,,\r\n");

    // A header naming an unknown column refuses the whole file, storing nothing.
    CHECK(code_of([&] { core.groups().import_csv(admin, group, "phone,nickname\n123456,x\n"); }) == Errc::invalid);
    CHECK(code_of([&] { core.groups().import_csv(admin, group, "123456\n\"broken\n"); }) == Errc::invalid);
    CHECK(core.groups().get(admin, group).contact_total == 3);
    CHECK(code_of([&] { core.groups().import_csv(admin, group, "  \n"); }) == Errc::length_required);
}

TEST_CASE_FIXTURE(Fixture, "deleting a group keeps its contacts; deleting a contact unlinks it") {
    const auto group = core.groups().create(admin, Group{0, "g", std::nullopt, 0, 0});
    const auto a = core.contacts().create(admin, contact("a", "1001"));
    const auto b = core.contacts().create(admin, contact("b", "1002"));
    core.contacts().link(admin, a, group);
    core.contacts().link(admin, a, group);  // idempotent
    core.contacts().link(admin, b, group);
    CHECK(core.groups().get(admin, group).contact_total == 2);
    core.contacts().remove(admin, b);
    CHECK(core.groups().get(admin, group).contact_total == 1);
    core.contacts().unlink(admin, a, group);
    CHECK(core.groups().contacts(admin, group, {}).total() == 0);
    core.contacts().link(admin, a, group);
    core.groups().remove(admin, group);
    CHECK(core.contacts().get(admin, a).first_name == "a");
    CHECK(code_of([&] { core.groups().get(admin, group); }) == Errc::not_found);
}

TEST_CASE_FIXTURE(Fixture, "user rules: unique names, password length, no self-escalation") {
    User u;
    u.username = "carol";
    u.passwd = "short";
    CHECK(code_of([&] { core.users().create(admin, u); }) == Errc::invalid);
    u.passwd = "long-enough";
    const auto id = core.users().create(admin, u);
    try {
        core.users().create(admin, u);
        FAIL("a duplicate username was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::invalid);
        CHECK(std::string(e.what()) == "a user with this username already exists");
    }
    auto carol = core.auth().from_password("carol", "long-enough");
    CHECK(code_of([&] { core.users().update(carol, id, [](User& x) { x.active = 0; }); }) != Errc::internal);
    auto renamed = core.users().update(carol, id, [](User& x) {
        x.first_name = "Carol";
        x.passwd = "new-password";
    });
    CHECK(renamed.first_name == "Carol");
    CHECK(core.auth().login("carol", "new-password").user_id == id);
    CHECK(code_of([&] { core.auth().login("carol", "long-enough"); }) == Errc::unauthenticated);
    CHECK(code_of([&] { core.users().remove(admin, admin.user_id()); }) == Errc::invalid);
    core.users().remove(admin, id);
    CHECK(code_of([&] { core.auth().login("carol", "new-password"); }) == Errc::unauthenticated);
}

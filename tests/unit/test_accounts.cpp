// Accounts through Core: the default account of every user (admin included), default_for,
// hashed secrets (checked on the database file itself), validation, ownership moves and
// program subscriptions.
#include "core_options.hpp"
#include "temp_dir.hpp"

#include <ictcore/ictcore.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ictcore;

namespace {

Errc error_of(const std::function<void()>& f, std::string* message = nullptr) {
    try {
        f();
    } catch (const Error& e) {
        if (message) *message = e.what();
        if (e.code() == Errc::internal) MESSAGE(std::string(e.what()));
        return e.code();
    } catch (const std::exception& e) {
        FAIL("expected an ictcore::Error, got: " << e.what());
    }
    FAIL("expected an ictcore::Error");
    return Errc::internal;
}

Account account_named(std::string username) {
    Account a;
    a.username = std::move(username);
    return a;
}

struct AccountFixture {
    test::TempDir dir;
    Core core{test::core_options(dir)};
    Principal admin = core.auth().from_password("admin", "admin-password");

    std::filesystem::path db_file() const { return dir.path() / "data" / "ictcore.db"; }

    Principal new_user(const std::string& name, User extra = {}) {
        extra.username = name;
        extra.passwd = name + "-password";
        core.users().create(admin, extra);
        return core.auth().from_password(name, name + "-password");
    }

    std::int64_t permission_id(const std::string& name) {
        for (const auto& p : core.users().permissions(admin)) {
            if (p.name == name) return p.permission_id;
        }
        FAIL("no permission " << name);
        return 0;
    }

    // Grants `permission` to a user and returns its refreshed principal.
    Principal grant(const Principal& who, const std::string& permission, const std::string& password) {
        core.users().add_permission(admin, who.user_id(), permission_id(permission));
        return core.auth().from_password(who.username(), password);
    }

    std::vector<Account> accounts_of(std::int64_t user_id) {
        ListQuery q;
        q.filters.emplace_back("user_id", std::to_string(user_id));
        return core.accounts().list(admin, q).all();
    }

    std::int64_t account_total() { return core.accounts().list(admin, {}).total(); }

    // One column of one account row, read straight from the database file.
    std::optional<std::string> raw_column(std::int64_t account_id, const std::string& column) {
        SQLite::Database db(db_file().string(), SQLite::OPEN_READONLY);
        SQLite::Statement st(db, "SELECT " + column + " FROM account WHERE account_id = ?");
        st.bind(1, account_id);
        REQUIRE(st.executeStep());
        if (st.getColumn(0).isNull()) return std::nullopt;
        return st.getColumn(0).getString();
    }

    // A program row owned by `owner`, stored directly (program creation is another service's).
    std::int64_t insert_program(std::int64_t owner, const std::string& name) {
        SQLite::Database db(db_file().string(), SQLite::OPEN_READWRITE);
        db.exec("PRAGMA foreign_keys = ON");
        SQLite::Statement st(db,
                             "INSERT INTO program (name, type, service_flag, direction, created_by) "
                             "VALUES (?, 'receivesms', 4, 'inbound', ?)");
        st.bind(1, name);
        st.bind(2, owner);
        st.exec();
        return db.getLastInsertRowid();
    }

    std::int64_t subscription_rows() {
        SQLite::Database db(db_file().string(), SQLite::OPEN_READONLY);
        return db.execAndGet("SELECT COUNT(*) FROM account_program").getInt64();
    }
};

}  // namespace

TEST_CASE("accounts: admin gets a default account on first start, once") {
    test::TempDir dir;
    {
        Core core(test::core_options(dir));
        CHECK(core.first_start());
        const Principal admin = core.auth().from_password("admin", "admin-password");
        auto mine = core.accounts().default_for(admin);
        REQUIRE(mine);
        CHECK(mine->username == "admin");
        CHECK(mine->type == "account");
        CHECK(mine->active == 1);
        CHECK(mine->user_id == admin.user_id());
        CHECK(mine->first_name == std::optional<std::string>("Administrator"));
        CHECK_FALSE(mine->passwd);
        CHECK(core.accounts().list(admin, {}).total() == 1);
    }
    // A restart on the same data does not add another.
    Core again(test::core_options(dir));
    CHECK_FALSE(again.first_start());
    const Principal admin = again.auth().from_password("admin", "admin-password");
    CHECK(again.accounts().list(admin, {}).total() == 1);
    CHECK(again.accounts().default_for(admin));
}

TEST_CASE_FIXTURE(AccountFixture, "accounts: every new user gets a default account copied from it") {
    User extra;
    extra.first_name = "Bob";
    extra.last_name = "Builder";
    extra.phone = "+92 300 1234567";
    extra.email = "bob@example.com";
    auto bob = new_user("bob", extra);

    auto accounts = accounts_of(bob.user_id());
    REQUIRE(accounts.size() == 1);
    const Account& a = accounts.front();
    CHECK(a.username == "bob");
    CHECK(a.first_name == std::optional<std::string>("Bob"));
    CHECK(a.last_name == std::optional<std::string>("Builder"));
    CHECK(a.phone == core.users().get(admin, bob.user_id()).phone);  // the user's normalised phone
    CHECK(a.phone == std::optional<std::string>("+923001234567"));
    CHECK(a.email == std::optional<std::string>("bob@example.com"));
    CHECK(a.active == 1);
    CHECK(a.type == "account");
    CHECK(a.user_id == bob.user_id());
    CHECK_FALSE(raw_column(a.account_id, "passwd"));

    auto mine = core.accounts().default_for(bob);
    REQUIRE(mine);
    CHECK(mine->account_id == a.account_id);
    // The user sees its own account (role `user` holds account_read) and only that.
    CHECK(core.accounts().get(bob, a.account_id).username == "bob");
    CHECK(core.accounts().list(bob, {}).total() == 1);

    // A refused user creation leaves no account behind.
    const auto before = account_total();
    User dup;
    dup.username = "bob";
    dup.passwd = "another-password";
    CHECK(error_of([&] { core.users().create(admin, dup); }) == Errc::invalid);
    User weak;
    weak.username = "weak";
    weak.passwd = "short";
    CHECK(error_of([&] { core.users().create(admin, weak); }) == Errc::invalid);
    CHECK(account_total() == before);

    // Deleting the user deletes its accounts.
    core.users().remove(admin, bob.user_id());
    CHECK(accounts_of(bob.user_id()).empty());
    CHECK(error_of([&] { core.accounts().get(admin, a.account_id); }) == Errc::not_found);
}

TEST_CASE_FIXTURE(AccountFixture, "accounts: default_for is the first active account of the caller") {
    auto bob = new_user("bob");
    const auto first = core.accounts().default_for(bob)->account_id;
    const auto second = core.accounts().create(admin, account_named("bob-2"), bob.user_id());
    const auto third = core.accounts().create(admin, account_named("bob-3"), bob.user_id());
    CHECK(second > first);
    CHECK(third > second);
    CHECK(core.accounts().default_for(bob)->account_id == first);

    core.accounts().update(admin, first, [](Account& a) { a.active = 0; });
    CHECK(core.accounts().default_for(bob)->account_id == second);
    core.accounts().update(admin, second, [](Account& a) { a.active = 0; });
    CHECK(core.accounts().default_for(bob)->account_id == third);
    core.accounts().update(admin, third, [](Account& a) { a.active = 0; });
    CHECK_FALSE(core.accounts().default_for(bob));

    // Another user's accounts never count, and the admin's own default is its own.
    CHECK(core.accounts().default_for(admin)->user_id == admin.user_id());
    core.accounts().update(admin, first, [](Account& a) { a.active = 1; });
    CHECK(core.accounts().default_for(bob)->account_id == first);
    // A moved account stops being the old owner's default.
    core.accounts().assign(admin, first, admin.user_id());
    CHECK_FALSE(core.accounts().default_for(bob));
}

TEST_CASE_FIXTURE(AccountFixture, "accounts: passwd and passwd_pin are stored as argon2id hashes, never returned") {
    Account a = account_named("sip100");
    a.passwd = "sip-secret-1";
    a.passwd_pin = "1234";
    const auto id = core.accounts().create(admin, a);

    const auto passwd = raw_column(id, "passwd");
    const auto pin = raw_column(id, "passwd_pin");
    REQUIRE(passwd);
    REQUIRE(pin);
    CHECK(passwd->rfind("$argon2id$", 0) == 0);
    CHECK(pin->rfind("$argon2id$", 0) == 0);
    CHECK(passwd->find("sip-secret-1") == std::string::npos);
    CHECK(*passwd != *pin);

    const Account read = core.accounts().get(admin, id);
    CHECK_FALSE(read.passwd);
    CHECK_FALSE(read.passwd_pin);
    for (const auto& row : core.accounts().list(admin, {}).all()) {
        CHECK_FALSE(row.passwd);
        CHECK_FALSE(row.passwd_pin);
    }

    // An update without secrets keeps the stored hashes.
    auto updated = core.accounts().update(admin, id, [](Account& x) { x.first_name = "Desk"; });
    CHECK(updated.first_name == std::optional<std::string>("Desk"));
    CHECK_FALSE(updated.passwd);
    CHECK(raw_column(id, "passwd") == passwd);
    CHECK(raw_column(id, "passwd_pin") == pin);
    core.accounts().update(admin, id, [](Account& x) { x.passwd = ""; });
    CHECK(raw_column(id, "passwd") == passwd);

    // A new passwd is hashed afresh; the pin is left alone.
    updated = core.accounts().update(admin, id, [](Account& x) { x.passwd = "sip-secret-2"; });
    CHECK_FALSE(updated.passwd);
    const auto passwd2 = raw_column(id, "passwd");
    REQUIRE(passwd2);
    CHECK(passwd2->rfind("$argon2id$", 0) == 0);
    CHECK(*passwd2 != *passwd);
    CHECK(raw_column(id, "passwd_pin") == pin);

    // Bad secrets are refused and change nothing, in the same update as a valid change.
    for (const std::string bad_pin : {"123", "1234567890123", "12a4", "12 34", "+1234"}) {
        CAPTURE(bad_pin);
        CHECK(error_of([&] {
                  core.accounts().update(admin, id, [&](Account& x) {
                      x.first_name = "Changed";
                      x.passwd_pin = bad_pin;
                  });
              }) == Errc::invalid);
    }
    CHECK(error_of([&] {
              core.accounts().update(admin, id, [](Account& x) {
                  x.first_name = "Changed";
                  x.passwd = "short";
              });
          }) == Errc::invalid);
    CHECK(core.accounts().get(admin, id).first_name == std::optional<std::string>("Desk"));
    CHECK(raw_column(id, "passwd") == passwd2);
    CHECK(raw_column(id, "passwd_pin") == pin);
    // Pins of 4 and 12 digits are fine.
    core.accounts().update(admin, id, [](Account& x) { x.passwd_pin = "000000000000"; });
    CHECK(raw_column(id, "passwd_pin") != pin);
    core.accounts().update(admin, id, [](Account& x) { x.passwd_pin = "0000"; });

    const auto total = account_total();
    Account short_pass = account_named("x1");
    short_pass.passwd = "1234567";
    CHECK(error_of([&] { core.accounts().create(admin, short_pass); }) == Errc::invalid);
    Account bad_pin = account_named("x2");
    bad_pin.passwd_pin = "12345x";
    CHECK(error_of([&] { core.accounts().create(admin, bad_pin); }) == Errc::invalid);
    CHECK(account_total() == total);
}

TEST_CASE_FIXTURE(AccountFixture, "accounts: create validates and sets the owner") {
    auto bob = new_user("bob");
    const auto total = account_total();

    Account a = account_named("mine");
    a.user_id = bob.user_id();  // an owner field: ignored
    const auto own = core.accounts().create(admin, a);
    CHECK(core.accounts().get(admin, own).user_id == admin.user_id());
    const auto for_bob = core.accounts().create(admin, account_named("his"), bob.user_id());
    CHECK(core.accounts().get(admin, for_bob).user_id == bob.user_id());
    CHECK(core.accounts().get(bob, for_bob).username == "his");

    for (const std::string type : {"extension", "did", "eaddress", "account"}) {
        Account t = account_named("typed-" + type);
        t.type = type;
        CHECK(core.accounts().get(admin, core.accounts().create(admin, t)).type == type);
    }
    const auto good = account_total();
    CHECK(good == total + 6);

    std::string message;
    CHECK(error_of([&] { core.accounts().create(admin, account_named("ghost"), 999999); }, &message) == Errc::invalid);
    CHECK(message.find("999999") != std::string::npos);
    auto bad = [&](auto&& tweak) {
        Account x = account_named("bad");
        tweak(x);
        return error_of([&] { core.accounts().create(admin, x); });
    };
    CHECK(bad([](Account& x) { x.type = "trunk"; }) == Errc::invalid);
    CHECK(bad([](Account& x) { x.type = ""; }) == Errc::invalid);
    CHECK(bad([](Account& x) { x.username = ""; }) == Errc::invalid);
    CHECK(bad([](Account& x) { x.username = std::string(129, 'u'); }) == Errc::invalid);
    CHECK(bad([](Account& x) { x.phone = "12"; }) == Errc::invalid);
    CHECK(bad([](Account& x) { x.email = "not-an-email"; }) == Errc::invalid);
    CHECK(bad([](Account& x) { x.active = 2; }) == Errc::invalid);
    CHECK(account_total() == good);
    Account longest = account_named(std::string(128, 'u'));
    longest.phone = "(300) 123-4567";
    const auto long_id = core.accounts().create(admin, longest);
    CHECK(core.accounts().get(admin, long_id).phone == std::optional<std::string>("3001234567"));

    // Updates are validated the same way and change nothing when refused.
    CHECK(error_of([&] {
              core.accounts().update(admin, own, [](Account& x) {
                  x.first_name = "Changed";
                  x.type = "trunk";
              });
          }) == Errc::invalid);
    CHECK(error_of([&] { core.accounts().update(admin, own, [](Account& x) { x.username = ""; }); }) == Errc::invalid);
    CHECK_FALSE(core.accounts().get(admin, own).first_name);
    // Update cannot move an account: user_id is protected.
    auto same = core.accounts().update(admin, own, [&](Account& x) {
        x.user_id = bob.user_id();
        x.account_id = 4242;
    });
    CHECK(same.user_id == admin.user_id());
    CHECK(same.account_id == own);
}

TEST_CASE_FIXTURE(AccountFixture, "accounts: a plain user reads its own accounts only") {
    auto bob = new_user("bob");
    auto eve = new_user("eve");
    const auto bobs = core.accounts().default_for(bob)->account_id;
    const auto eves = core.accounts().default_for(eve)->account_id;
    const auto admins = core.accounts().default_for(admin)->account_id;

    CHECK(core.accounts().get(bob, bobs).username == "bob");
    CHECK(error_of([&] { core.accounts().get(bob, eves); }) == Errc::not_found);
    CHECK(error_of([&] { core.accounts().get(bob, admins); }) == Errc::not_found);
    CHECK(core.accounts().list(bob, {}).total() == 1);
    CHECK(core.accounts().list(admin, {}).total() == 3);
    // Role `user` holds only account_read.
    CHECK(error_of([&] { core.accounts().create(bob, account_named("more")); }) == Errc::forbidden);
    CHECK(error_of([&] { core.accounts().update(bob, bobs, [](Account& a) { a.first_name = "x"; }); }) ==
          Errc::forbidden);
    CHECK(error_of([&] { core.accounts().remove(bob, bobs); }) == Errc::forbidden);
    CHECK(error_of([&] { core.accounts().assign(bob, bobs, bob.user_id()); }) == Errc::forbidden);
    CHECK(error_of([&] { core.accounts().subscribe(bob, bobs, 1); }) == Errc::forbidden);

    // With account_create a user owns what it creates, and may not create for others.
    bob = grant(bob, "account_create", "bob-password");
    const auto made = core.accounts().create(bob, account_named("bob-extra"));
    CHECK(core.accounts().get(admin, made).user_id == bob.user_id());
    const auto self = core.accounts().create(bob, account_named("bob-self"), bob.user_id());
    CHECK(core.accounts().get(admin, self).user_id == bob.user_id());
    const auto total = account_total();
    CHECK(error_of([&] { core.accounts().create(bob, account_named("for-eve"), eve.user_id()); }) == Errc::forbidden);
    CHECK(account_total() == total);

    // A free account is seen by admins only.
    core.accounts().assign(admin, made, std::nullopt);
    CHECK_FALSE(core.accounts().get(admin, made).user_id);
    CHECK(error_of([&] { core.accounts().get(bob, made); }) == Errc::not_found);
    CHECK(error_of([&] { core.accounts().get(eve, made); }) == Errc::not_found);
    CHECK(core.accounts().list(bob, {}).total() == 2);
}

TEST_CASE_FIXTURE(AccountFixture, "accounts: assign moves or frees an account; only admins move to others") {
    auto bob = new_user("bob");
    auto eve = new_user("eve");
    const auto bobs = core.accounts().default_for(bob)->account_id;

    auto moved = core.accounts().assign(admin, bobs, eve.user_id());
    CHECK(moved.account_id == bobs);
    CHECK(moved.user_id == eve.user_id());
    CHECK(core.accounts().get(eve, bobs).username == "bob");
    CHECK(error_of([&] { core.accounts().get(bob, bobs); }) == Errc::not_found);

    auto freed = core.accounts().assign(admin, bobs, std::nullopt);
    CHECK_FALSE(freed.user_id);
    CHECK(error_of([&] { core.accounts().get(eve, bobs); }) == Errc::not_found);

    std::string message;
    CHECK(error_of([&] { core.accounts().assign(admin, bobs, 999999); }, &message) == Errc::not_found);
    CHECK(message.find("user") != std::string::npos);
    CHECK_FALSE(core.accounts().get(admin, bobs).user_id);
    CHECK(error_of([&] { core.accounts().assign(admin, 999999, bob.user_id()); }) == Errc::not_found);
    core.accounts().assign(admin, bobs, bob.user_id());
    CHECK(core.accounts().get(bob, bobs).user_id == bob.user_id());

    // A user with account_update may only keep its own accounts where they are.
    bob = grant(bob, "account_update", "bob-password");
    CHECK(error_of([&] { core.accounts().assign(bob, bobs, eve.user_id()); }) == Errc::forbidden);
    CHECK(error_of([&] { core.accounts().assign(bob, bobs, std::nullopt); }) == Errc::forbidden);
    CHECK(core.accounts().get(admin, bobs).user_id == bob.user_id());
    CHECK(core.accounts().assign(bob, bobs, bob.user_id()).user_id == bob.user_id());
    const auto eves = core.accounts().default_for(eve)->account_id;
    CHECK(error_of([&] { core.accounts().assign(bob, eves, bob.user_id()); }) == Errc::not_found);
    CHECK(core.accounts().get(admin, eves).user_id == eve.user_id());
}

TEST_CASE_FIXTURE(AccountFixture, "accounts: program subscriptions are idempotent and scoped") {
    auto bob = new_user("bob");
    auto eve = new_user("eve");
    const auto account = core.accounts().default_for(bob)->account_id;
    const auto p1 = insert_program(bob.user_id(), "bob one");
    const auto p2 = insert_program(bob.user_id(), "bob two");
    const auto eves_program = insert_program(eve.user_id(), "eve's");

    auto a = core.accounts().subscribe(admin, account, p1);
    CHECK(a.account_id == account);
    CHECK(a.username == "bob");
    core.accounts().subscribe(admin, account, p1);
    CHECK(core.accounts().programs(admin, account) == std::vector<std::int64_t>{p1});
    CHECK(subscription_rows() == 1);
    core.accounts().subscribe(admin, account, p2);
    CHECK(core.accounts().programs(admin, account) == std::vector<std::int64_t>{p1, p2});
    CHECK(core.accounts().programs(bob, account) == std::vector<std::int64_t>{p1, p2});

    CHECK(core.accounts().unsubscribe(admin, account, p1).account_id == account);
    core.accounts().unsubscribe(admin, account, p1);
    CHECK(core.accounts().programs(admin, account) == std::vector<std::int64_t>{p2});

    std::string message;
    CHECK(error_of([&] { core.accounts().subscribe(admin, account, 999999); }, &message) == Errc::not_found);
    CHECK(message.find("program") != std::string::npos);
    CHECK(error_of([&] { core.accounts().subscribe(admin, 999999, p1); }, &message) == Errc::not_found);
    CHECK(message.find("account") != std::string::npos);
    CHECK(error_of([&] { core.accounts().unsubscribe_all(admin, 999999); }) == Errc::not_found);

    // Users need account_update, and both sides must be theirs.
    bob = grant(bob, "account_update", "bob-password");
    eve = grant(eve, "account_update", "eve-password");
    CHECK(core.accounts().subscribe(bob, account, p1).account_id == account);
    CHECK(error_of([&] { core.accounts().subscribe(bob, account, eves_program); }, &message) == Errc::not_found);
    CHECK(message.find("program") != std::string::npos);
    CHECK(error_of([&] { core.accounts().subscribe(eve, account, eves_program); }, &message) == Errc::not_found);
    CHECK(message.find("account") != std::string::npos);
    CHECK(error_of([&] { core.accounts().unsubscribe_all(eve, account); }) == Errc::not_found);
    CHECK(error_of([&] { core.accounts().programs(eve, account); }) == Errc::not_found);
    CHECK(core.accounts().programs(bob, account) == std::vector<std::int64_t>{p1, p2});

    // An admin may subscribe a user's account to its own program; the user does not see it.
    const auto admins_program = insert_program(admin.user_id(), "admin's");
    core.accounts().subscribe(admin, account, admins_program);
    CHECK(core.accounts().programs(admin, account) == std::vector<std::int64_t>{p1, p2, admins_program});
    CHECK(core.accounts().programs(bob, account) == std::vector<std::int64_t>{p1, p2});

    CHECK(core.accounts().unsubscribe_all(bob, account).account_id == account);
    CHECK(core.accounts().programs(admin, account).empty());
    CHECK(subscription_rows() == 0);
    core.accounts().unsubscribe_all(bob, account);  // idempotent

    // Deleting the account drops its subscriptions.
    core.accounts().subscribe(admin, account, p1);
    CHECK(subscription_rows() == 1);
    core.accounts().remove(admin, account);
    CHECK(subscription_rows() == 0);
}

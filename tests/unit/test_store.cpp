// The store: migrations upgrade in place, group commit keeps every acknowledged write and
// isolates a failing job from its neighbours.
#include "store/migrations.hpp"
#include "store/store.hpp"
#include "temp_dir.hpp"

#include <ictcore/error.hpp>

#include <SQLiteCpp/Database.h>
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace ictcore;

TEST_CASE("an older database is upgraded in place, keeping its rows") {
    test::TempDir dir;
    const auto file = dir.path() / "old.db";
    {
        SQLite::Database db(file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        store::migrate(db, 1);
        CHECK(db.execAndGet("PRAGMA user_version").getInt() == 1);
        db.exec("INSERT INTO usr (username, passwd) VALUES ('old', 'x')");
        CHECK_FALSE(db.tableExists("contact"));
    }
    {
        store::Store s(file);
        s.read([](store::Connection& c) {
            CHECK(c.db().execAndGet("PRAGMA user_version").getInt() == store::latest_schema_version());
            CHECK(c.db().tableExists("contact"));
            CHECK(c.db().execAndGet("SELECT username FROM usr").getString() == "old");
            CHECK(c.db().execAndGet("PRAGMA foreign_keys").getInt() == 1);
            CHECK(c.db().execAndGet("PRAGMA journal_mode").getString() == "wal");
            // Users from before accounts existed get the default account new users get.
            CHECK(c.db()
                      .execAndGet("SELECT COUNT(*) FROM account WHERE username = 'old' AND user_id = "
                                  "(SELECT user_id FROM usr WHERE username = 'old') AND active = 1")
                      .getInt() == 1);
        });
    }
    {
        SQLite::Database db(file.string(), SQLite::OPEN_READWRITE);
        db.exec("PRAGMA user_version = 999");
    }
    CHECK_THROWS_AS(store::Store{file}, Error);
}

TEST_CASE("concurrent writers are all committed, a failing job alone is undone") {
    test::TempDir dir;
    const auto file = dir.path() / "s.db";
    std::atomic<int> failures{0};
    {
        store::Store s(file);
        s.write([](store::Connection& c) { c.db().exec("CREATE TABLE t (n INTEGER NOT NULL UNIQUE)"); });
        std::vector<std::thread> threads;
        for (int t = 0; t < 8; ++t) {
            threads.emplace_back([&, t] {
                for (int i = 0; i < 50; ++i) {
                    const int n = t * 1000 + i;
                    try {
                        s.write([&](store::Connection& c) {
                            auto& st = c.cached("INSERT INTO t (n) VALUES (?)");
                            st.bind(1, n);
                            st.exec();
                            if (i % 10 == 0) throw Error(Errc::invalid, "refused");
                        });
                    } catch (const Error& e) {
                        CHECK(e.code() == Errc::invalid);
                        ++failures;
                    }
                }
            });
        }
        for (auto& th : threads) th.join();
        const auto count =
            s.read([](store::Connection& c) { return c.db().execAndGet("SELECT COUNT(*) FROM t").getInt(); });
        CHECK(count == 8 * 45);
    }
    CHECK(failures == 8 * 5);
    // Reopened from disk: every acknowledged row is there.
    SQLite::Database db(file.string());
    CHECK(db.execAndGet("SELECT COUNT(*) FROM t").getInt() == 8 * 45);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM t WHERE n % 1000 % 10 = 0").getInt() == 0);
}

TEST_CASE("a write inside a write joins its transaction") {
    test::TempDir dir;
    store::Store s(dir.path() / "n.db");
    s.write([&](store::Connection& c) {
        c.db().exec("CREATE TABLE t (n INTEGER)");
        s.write([](store::Connection& inner) { inner.db().exec("INSERT INTO t VALUES (1)"); });
    });
    CHECK(s.read([](store::Connection& c) { return c.db().execAndGet("SELECT COUNT(*) FROM t").getInt(); }) == 1);
}

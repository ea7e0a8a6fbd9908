// bench-sqlite-insert: baseline (d) of bench/run.sh. Raw SQLite single-row inserts, one
// transaction each (autocommit), on one connection, with exactly the pragmas of the store
// (it opens the database with the store's Connection: WAL, synchronous=FULL, foreign_keys=ON,
// temp_store=MEMORY) into the store's own `contact` table (the migrations create the schema),
// whose created_by references a user row, as POST /contacts does.
//
//   bench-sqlite-insert [--rows N] [--seconds S] [--dir DIR]
//   bench-sqlite-insert --import N [--dir DIR]
//
// Inserts until N rows or S seconds, whichever comes first (defaults: no row limit, 10 s),
// into a database in a fresh temporary directory under DIR (default $TMPDIR or /tmp), which
// it removes afterwards. Use a DIR on the same file system as the server's data directory:
// with synchronous=FULL every commit waits for an fsync. Prints, on stdout:
//   rows=N seconds=S inserts_per_second=R
//
// --import N is the floor of a CSV import instead: N contacts, each inserted and linked to a
// group (group_contact) with two reused prepared statements, all in one transaction, as
// POST /groups/{id}/csv stores them (but without parsing or validation).
#include "store/connection.hpp"
#include "store/migrations.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>

namespace {

struct Args {
    std::int64_t rows = -1;  // no limit
    double seconds = 10.0;
    std::int64_t import_rows = 0;  // > 0: --import mode
    std::string dir;
};

Args parse(int argc, char** argv) {
    Args args;
    const char* tmp = std::getenv("TMPDIR");
    args.dir = tmp && *tmp ? tmp : "/tmp";
    CLI::App app{"bench-sqlite-insert: raw SQLite inserts with the store's pragmas (baseline d, import floor)"};
    app.add_option("--rows", args.rows, "stop after this many rows (-1: no limit)")
        ->capture_default_str()
        ->check(CLI::Range(std::int64_t{-1}, std::numeric_limits<std::int64_t>::max()));
    app.add_option("--seconds", args.seconds, "stop after this long")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--import", args.import_rows, "instead: the import floor for N rows in one transaction")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--dir", args.dir, "directory for the scratch database")->capture_default_str();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        std::exit(app.exit(e));
    }
    if (args.rows == 0) {
        std::cerr << "--rows: 0 rows measure nothing\n";
        std::exit(2);
    }
    return args;
}

// The store's own schema and seed rows the inserts refer to (a user and a group).
void seed(SQLite::Database& db) {
    ictcore::store::migrate(db);
    db.exec(
        "INSERT INTO usr (user_id, username, passwd) VALUES (1, 'bench', 'x');"
        "INSERT INTO contact_group (group_id, name, created_by) VALUES (1, 'bench', 1);");
}

const char* const insert_contact_sql =
    "INSERT INTO contact (first_name, last_name, phone, email, address, custom1, custom2, custom3, description, "
    "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

void bind_contact(SQLite::Statement& insert, const std::string& first_name, const std::string& phone,
                  const std::string& email) {
    insert.bind(1, first_name);
    insert.bind(2, "Mark");
    insert.bind(3, phone);
    insert.bind(4, email);
    for (int column = 5; column <= 9; ++column) insert.bind(column);  // NULL
    insert.bind(10, static_cast<std::int64_t>(1));
}

// --import: N contacts inserted and linked to group 1 in one transaction.
void run_import(SQLite::Database& db, std::int64_t rows) {
    SQLite::Statement insert(db, insert_contact_sql);
    SQLite::Statement link(db, "INSERT OR IGNORE INTO group_contact (contact_id, group_id) VALUES (?, ?)");
    std::string first_name, phone, email;
    const auto start = std::chrono::steady_clock::now();
    db.exec("BEGIN IMMEDIATE");
    for (std::int64_t i = 1; i <= rows; ++i) {
        const std::string n = std::to_string(i);
        first_name = "First" + n;
        phone = "+1415" + std::string(n.size() < 7 ? 7 - n.size() : 0, '0') + n;
        email = "user" + n + "@example.com";
        bind_contact(insert, first_name, phone, email);
        insert.exec();
        insert.reset();
        link.bind(1, db.getLastInsertRowid());
        link.bind(2, static_cast<std::int64_t>(1));
        link.exec();
        link.reset();
    }
    db.exec("COMMIT");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "rows=" << rows << " seconds=" << seconds
              << " rows_per_second=" << static_cast<std::int64_t>(static_cast<double>(rows) / seconds) << std::endl;
}

// Single-row transactions (autocommit) until args.rows rows or args.seconds seconds.
void run_single_rows(SQLite::Database& db, const Args& args) {
    SQLite::Statement insert(db, insert_contact_sql);
    const std::string first_name = "Bench", phone = "+14155550123", email = "bench@example.com";
    const auto limit = std::chrono::duration<double>(args.seconds);
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = std::chrono::duration<double>::zero();
    std::int64_t rows = 0;
    while (args.rows < 0 || rows < args.rows) {
        bind_contact(insert, first_name, phone, email);
        insert.exec();  // autocommit: one transaction, one WAL fsync
        insert.reset();
        ++rows;
        if ((rows & 15) == 0 || rows == args.rows) {
            elapsed = std::chrono::steady_clock::now() - start;
            if (elapsed >= limit) break;
        }
    }
    elapsed = std::chrono::steady_clock::now() - start;
    const double seconds = elapsed.count();
    std::cout << "rows=" << rows << " seconds=" << seconds
              << " inserts_per_second=" << static_cast<std::int64_t>(static_cast<double>(rows) / seconds) << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);

    std::string pattern = (std::filesystem::path(args.dir) / "ictcore-bench-sqlite-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        std::cerr << "bench-sqlite-insert: cannot create a temporary directory under " << args.dir << '\n';
        return 1;
    }
    const std::filesystem::path dir = pattern;

    int status = 0;
    try {
        // The store's own connection class, so the pragmas are exactly the server's.
        ictcore::store::Connection connection(dir / "bench.db", ictcore::store::Connection::Mode::read_write);
        SQLite::Database& db = connection.db();
        seed(db);
        if (args.import_rows > 0)
            run_import(db, args.import_rows);
        else
            run_single_rows(db, args);
    } catch (const std::exception& e) {
        std::cerr << "bench-sqlite-insert: " << e.what() << '\n';
        status = 1;
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    return status;
}

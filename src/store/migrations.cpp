// The schema, one migration per version. Never edit a migration that has shipped: add one.
#include "store/migrations.hpp"

#include "store/permission_catalog.hpp"

#include <ictcore/error.hpp>

#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fmt/format.h>

#include <functional>
#include <vector>

namespace ictcore::store {

namespace {

void v1_users_roles_permissions(SQLite::Database& db) {
    db.exec(R"sql(
        CREATE TABLE usr (
            user_id      INTEGER PRIMARY KEY,
            username     TEXT NOT NULL UNIQUE COLLATE NOCASE,
            passwd       TEXT NOT NULL,
            first_name   TEXT,
            last_name    TEXT,
            phone        TEXT,
            email        TEXT,
            address      TEXT,
            company      TEXT,
            country_id   INTEGER,
            timezone_id  INTEGER,
            active       INTEGER NOT NULL DEFAULT 1,
            created_by   INTEGER NOT NULL DEFAULT 0,
            date_created INTEGER NOT NULL DEFAULT (unixepoch())
        );
        CREATE INDEX usr_owner ON usr(created_by);
        CREATE TABLE role (
            role_id     INTEGER PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            description TEXT
        );
        CREATE TABLE permission (
            permission_id INTEGER PRIMARY KEY,
            name          TEXT NOT NULL UNIQUE,
            description   TEXT
        );
        CREATE TABLE role_permission (
            role_id       INTEGER NOT NULL REFERENCES role(role_id) ON DELETE CASCADE,
            permission_id INTEGER NOT NULL REFERENCES permission(permission_id) ON DELETE CASCADE,
            PRIMARY KEY (role_id, permission_id)
        ) WITHOUT ROWID;
        CREATE TABLE user_role (
            user_id INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE,
            role_id INTEGER NOT NULL REFERENCES role(role_id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, role_id)
        ) WITHOUT ROWID;
        CREATE TABLE user_permission (
            user_id       INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE,
            permission_id INTEGER NOT NULL REFERENCES permission(permission_id) ON DELETE CASCADE,
            PRIMARY KEY (user_id, permission_id)
        ) WITHOUT ROWID;
    )sql");

    SQLite::Statement add_permission(db, "INSERT INTO permission (name, description) VALUES (?, ?)");
    for (const auto& p : permission_catalog()) {
        add_permission.bind(1, std::string(p.name));
        add_permission.bind(2, std::string(p.description));
        add_permission.exec();
        add_permission.reset();
    }
    SQLite::Statement add_role(db, "INSERT INTO role (name, description) VALUES (?, ?)");
    SQLite::Statement grant(db,
                            "INSERT INTO role_permission (role_id, permission_id) "
                            "SELECT ?, permission_id FROM permission WHERE name = ?");
    for (const auto& role : seeded_roles()) {
        add_role.bind(1, std::string(role.name));
        add_role.bind(2, std::string(role.description));
        add_role.exec();
        add_role.reset();
        const auto role_id = db.getLastInsertRowid();
        for (auto name : role.permissions) {
            grant.bind(1, role_id);
            grant.bind(2, std::string(name));
            if (grant.exec() != 1) throw Error(Errc::internal, fmt::format("seed permission {} missing", name));
            grant.reset();
        }
    }
}

void v2_contacts_groups(SQLite::Database& db) {
    db.exec(R"sql(
        CREATE TABLE contact (
            contact_id  INTEGER PRIMARY KEY,
            first_name  TEXT NOT NULL,
            last_name   TEXT,
            phone       TEXT NOT NULL,
            email       TEXT,
            address     TEXT,
            custom1     TEXT,
            custom2     TEXT,
            custom3     TEXT,
            description TEXT,
            created_by  INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX contact_owner ON contact(created_by);
        CREATE TABLE contact_group (
            group_id    INTEGER PRIMARY KEY,
            name        TEXT NOT NULL,
            description TEXT,
            created_by  INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX contact_group_owner ON contact_group(created_by);
        CREATE TABLE group_contact (
            group_id   INTEGER NOT NULL REFERENCES contact_group(group_id) ON DELETE CASCADE,
            contact_id INTEGER NOT NULL REFERENCES contact(contact_id) ON DELETE CASCADE,
            PRIMARY KEY (group_id, contact_id)
        ) WITHOUT ROWID;
        CREATE INDEX group_contact_contact ON group_contact(contact_id);
    )sql");
}

void v3_messages(SQLite::Database& db) {
    db.exec(R"sql(
        CREATE TABLE text (
            text_id     INTEGER PRIMARY KEY,
            name        TEXT NOT NULL,
            data        TEXT NOT NULL,
            type        TEXT,
            description TEXT,
            length      INTEGER NOT NULL,
            encoding    TEXT NOT NULL,
            parts       INTEGER NOT NULL,
            created_by  INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX text_owner ON text(created_by);
        CREATE TABLE template (
            template_id INTEGER PRIMARY KEY,
            name        TEXT NOT NULL,
            description TEXT,
            subject     TEXT NOT NULL,
            body        TEXT NOT NULL,
            body_alt    TEXT,
            type        TEXT,
            attachment  TEXT,
            attachment_type TEXT,
            created_by  INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX template_owner ON template(created_by);
        CREATE TABLE recording (
            recording_id INTEGER PRIMARY KEY,
            name         TEXT NOT NULL,
            description  TEXT,
            type         TEXT,
            length       REAL NOT NULL DEFAULT 0,
            created_by   INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX recording_owner ON recording(created_by);
        CREATE TABLE document (
            document_id  INTEGER PRIMARY KEY,
            name         TEXT NOT NULL,
            description  TEXT,
            type         TEXT,
            pages        INTEGER NOT NULL DEFAULT 0,
            size_x       INTEGER NOT NULL DEFAULT 0,
            resolution_x REAL NOT NULL DEFAULT 0,
            resolution_y REAL NOT NULL DEFAULT 0,
            created_by   INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX document_owner ON document(created_by);
    )sql");
}

const std::vector<std::function<void(SQLite::Database&)>>& migrations() {
    static const std::vector<std::function<void(SQLite::Database&)>> all = {
        v1_users_roles_permissions,
        v2_contacts_groups,
        v3_messages,
    };
    return all;
}

int current_version(SQLite::Database& db) { return db.execAndGet("PRAGMA user_version").getInt(); }

}  // namespace

int latest_schema_version() { return static_cast<int>(migrations().size()); }

void migrate(SQLite::Database& db, int target) {
    const int latest = latest_schema_version();
    if (target < 0) target = latest;
    const int version = current_version(db);
    if (version > latest) {
        throw Error(Errc::internal,
                    fmt::format("database schema version {} is newer than this ictcore ({})", version, latest));
    }
    for (int v = version + 1; v <= target; ++v) {
        SQLite::Transaction tx(db);
        migrations()[static_cast<std::size_t>(v - 1)](db);
        db.exec(fmt::format("PRAGMA user_version = {}", v));
        tx.commit();
    }
}

}  // namespace ictcore::store

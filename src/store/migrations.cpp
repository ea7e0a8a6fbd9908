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

// Delivery: accounts, providers, programs, transmissions, their attempts (spools) and
// results, and durable schedules. Transmissions keep contact, program and account ids without
// foreign keys: deleting a contact must not erase the delivery history, and sending a
// transmission whose contact is gone must be refused with a clear error. Spool ids are the
// idempotency keys gateways deduplicate on, so they (and transmission and schedule ids,
// which timers refer to) are never reused: AUTOINCREMENT.
void v4_delivery(SQLite::Database& db) {
    db.exec(R"sql(
        CREATE TABLE account (
            account_id  INTEGER PRIMARY KEY,
            type        TEXT NOT NULL DEFAULT 'account',
            username    TEXT NOT NULL,
            passwd      TEXT,
            passwd_pin  TEXT,
            first_name  TEXT,
            last_name   TEXT,
            phone       TEXT,
            email       TEXT,
            address     TEXT,
            active      INTEGER NOT NULL DEFAULT 1,
            user_id     INTEGER REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX account_user ON account(user_id);
        CREATE TABLE provider (
            provider_id  INTEGER PRIMARY KEY,
            name         TEXT NOT NULL,
            type         TEXT NOT NULL,
            gateway_flag INTEGER NOT NULL,
            service_flag INTEGER NOT NULL,
            node_id      INTEGER,
            host         TEXT,
            port         INTEGER,
            username     TEXT NOT NULL,
            password     TEXT,
            dialstring   TEXT,
            prefix       TEXT,
            settings     TEXT,
            register     INTEGER NOT NULL DEFAULT 0,
            weight       INTEGER NOT NULL DEFAULT 10,
            active       INTEGER NOT NULL DEFAULT 1,
            created_by   INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE TABLE program (
            program_id   INTEGER PRIMARY KEY,
            name         TEXT NOT NULL,
            type         TEXT NOT NULL,
            parent_id    INTEGER,
            account_id   INTEGER,
            text_id      INTEGER,
            template_id  INTEGER,
            document_id  INTEGER,
            recording_id INTEGER,
            service_flag INTEGER NOT NULL,
            direction    TEXT NOT NULL,
            created_by   INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX program_owner ON program(created_by);
        CREATE TABLE account_program (
            account_id INTEGER NOT NULL REFERENCES account(account_id) ON DELETE CASCADE,
            program_id INTEGER NOT NULL REFERENCES program(program_id) ON DELETE CASCADE,
            PRIMARY KEY (account_id, program_id)
        ) WITHOUT ROWID;
        CREATE INDEX account_program_program ON account_program(program_id);
        CREATE TABLE transmission (
            transmission_id INTEGER PRIMARY KEY AUTOINCREMENT,
            title        TEXT NOT NULL,
            origin       TEXT NOT NULL,
            contact_id   INTEGER NOT NULL,
            account_id   INTEGER NOT NULL,
            service_flag INTEGER NOT NULL,
            program_id   INTEGER NOT NULL,
            direction    TEXT NOT NULL DEFAULT 'outbound',
            status       TEXT NOT NULL DEFAULT 'pending',
            response     TEXT,
            try_allowed  INTEGER NOT NULL DEFAULT 1,
            try_done     INTEGER NOT NULL DEFAULT 0,
            last_run     INTEGER,
            next_run     INTEGER,
            campaign_id  INTEGER,
            time_created INTEGER NOT NULL,
            created_by   INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX transmission_owner ON transmission(created_by);
        CREATE INDEX transmission_program ON transmission(program_id);
        CREATE INDEX transmission_campaign ON transmission(campaign_id) WHERE campaign_id IS NOT NULL;
        CREATE INDEX transmission_retry ON transmission(next_run) WHERE status = 'pending_retry';
        CREATE TABLE spool (
            spool_id        INTEGER PRIMARY KEY AUTOINCREMENT,
            time_spool      INTEGER NOT NULL,
            time_start      INTEGER,
            time_connect    INTEGER,
            time_end        INTEGER,
            status          TEXT NOT NULL DEFAULT 'queued',
            response        TEXT,
            transmission_id INTEGER NOT NULL REFERENCES transmission(transmission_id) ON DELETE CASCADE,
            provider_id     INTEGER,
            created_by      INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX spool_transmission ON spool(transmission_id);
        CREATE INDEX spool_owner ON spool(created_by);
        -- Open attempts are exactly those without an end time; an IN-list predicate here would
        -- cost every spool write a temporary B-tree.
        CREATE INDEX spool_open ON spool(spool_id) WHERE time_end IS NULL;
        CREATE TABLE spool_result (
            spool_result_id INTEGER PRIMARY KEY,
            spool_id        INTEGER NOT NULL REFERENCES spool(spool_id) ON DELETE CASCADE,
            type            TEXT NOT NULL,
            name            TEXT NOT NULL,
            data            TEXT NOT NULL DEFAULT '',
            created_by      INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX spool_result_spool ON spool_result(spool_id);
        CREATE TABLE schedule (
            schedule_id     INTEGER PRIMARY KEY AUTOINCREMENT,
            action          TEXT NOT NULL,
            transmission_id INTEGER REFERENCES transmission(transmission_id) ON DELETE CASCADE,
            campaign_id     INTEGER,
            kind            TEXT NOT NULL,
            at              INTEGER,
            year            TEXT,
            month           TEXT,
            day             TEXT,
            weekday         TEXT,
            hour            TEXT,
            minute          TEXT,
            next_run        INTEGER NOT NULL,
            created_by      INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX schedule_transmission ON schedule(transmission_id);
        CREATE INDEX schedule_campaign ON schedule(campaign_id);
        -- Users of an upgraded database get the default account new users get at creation.
        INSERT INTO account (username, first_name, last_name, phone, email, user_id)
            SELECT username, first_name, last_name, phone, email, user_id FROM usr ORDER BY user_id;
    )sql");
}

// Campaigns. A campaign's transmissions are unique per contact, so no contact can be sent a
// campaign twice whatever happens to the runner. `sent` (transmissions created) and
// `last_contact` (where the walk through the group stands) are the runner's own and not
// part of the campaign's description.
void v5_campaigns(SQLite::Database& db) {
    db.exec(R"sql(
        CREATE TABLE campaign (
            campaign_id   INTEGER PRIMARY KEY AUTOINCREMENT,
            program_id    INTEGER NOT NULL,
            group_id      INTEGER NOT NULL,
            account_id    INTEGER NOT NULL,
            delay         INTEGER NOT NULL DEFAULT 0,
            cpm           INTEGER NOT NULL DEFAULT 0,
            try_allowed   INTEGER NOT NULL DEFAULT 1,
            status        TEXT NOT NULL DEFAULT 'new',
            reason        TEXT,
            contact_total INTEGER NOT NULL DEFAULT 0,
            contact_done  INTEGER NOT NULL DEFAULT 0,
            completed     INTEGER NOT NULL DEFAULT 0,
            failed        INTEGER NOT NULL DEFAULT 0,
            time_created  INTEGER NOT NULL,
            sent          INTEGER NOT NULL DEFAULT 0,
            last_contact  INTEGER NOT NULL DEFAULT 0,
            created_by    INTEGER NOT NULL REFERENCES usr(user_id) ON DELETE CASCADE
        );
        CREATE INDEX campaign_owner ON campaign(created_by);
        CREATE INDEX campaign_running ON campaign(campaign_id) WHERE status = 'running';
        DROP INDEX transmission_campaign;
        CREATE UNIQUE INDEX transmission_campaign_contact ON transmission(campaign_id, contact_id)
            WHERE campaign_id IS NOT NULL;
        -- Campaign transmissions put back to wait by a stop; others never enter this index.
        CREATE INDEX transmission_campaign_waiting ON transmission(campaign_id)
            WHERE status = 'pending' AND campaign_id IS NOT NULL;
    )sql");
}

// Delivery reports: a spool whose outcome the far end reports later (an SMS handed to Kannel)
// waits with a deadline, so the wait survives a restart and an overdue one can be found.
void v6_delivery_reports(SQLite::Database& db) {
    db.exec(R"sql(
        ALTER TABLE spool ADD COLUMN report_due INTEGER;
        CREATE INDEX spool_report_due ON spool(report_due) WHERE report_due IS NOT NULL;
    )sql");
}

// User ids are never issued twice. A token names its user by id alone, so SQLite's reuse of the
// highest rowid after a delete would hand a deleted user's tokens to the next user created.
// The table holds the highest id ever issued; store::insert_user keeps it.
void v7_user_ids_never_reused(SQLite::Database& db) {
    db.exec(R"sql(
        CREATE TABLE usr_id_issued (last INTEGER NOT NULL);
        INSERT INTO usr_id_issued SELECT coalesce(max(user_id), 0) FROM usr;
    )sql");
}

const std::vector<std::function<void(SQLite::Database&)>>& migrations() {
    static const std::vector<std::function<void(SQLite::Database&)>> all = {
        v1_users_roles_permissions, v2_contacts_groups,       v3_messages, v4_delivery, v5_campaigns,
        v6_delivery_reports,        v7_user_ids_never_reused,
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

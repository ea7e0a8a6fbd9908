// Connection pragmas: WAL so readers never block the writer; synchronous=FULL because a
// change is acknowledged only once it is durable (group commit keeps that affordable).
#include "store/connection.hpp"

#include <sqlite3.h>

namespace ictcore::store {

namespace {
// SQLite's memory statistics take a global mutex on every allocation; nothing here reads them.
// Only possible before SQLite initialises: when the host program already used SQLite, the
// call is refused and nothing changes.
void configure_sqlite_once() {
    static const bool configured = [] { return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK; }();
    (void)configured;
}

int open_flags(Connection::Mode mode) {
    return mode == Connection::Mode::read_write ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX
                                                : SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX;
}
}  // namespace

Connection::Connection(const std::filesystem::path& file, Mode mode)
    : db_((configure_sqlite_once(), file.string()), open_flags(mode), /*busyTimeoutMs=*/10000) {
    if (mode == Mode::read_write) {
        db_.exec("PRAGMA journal_mode = WAL");
    }
    db_.exec("PRAGMA synchronous = FULL");
    db_.exec("PRAGMA foreign_keys = ON");
    db_.exec("PRAGMA temp_store = MEMORY");
}

SQLite::Statement& Connection::cached(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        it = cache_.emplace(sql, std::make_unique<SQLite::Statement>(db_, sql)).first;
    } else {
        it->second->tryReset();
        it->second->clearBindings();
    }
    used_.push_back(it->second.get());
    return *it->second;
}

void Connection::reset_all() {
    // Only the statements handed out since the last call can be mid-step: the writer runs
    // thousands of small jobs a second against a cache of dozens of statements.
    for (auto* statement : used_) statement->tryReset();  // the error of a failed step was already reported
    used_.clear();
}

}  // namespace ictcore::store

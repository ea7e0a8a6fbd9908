// Connection: one SQLite connection with the project's pragmas and a prepared-statement cache.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ictcore::store {

class Connection {
public:
    enum class Mode { read_write, read_only };
    Connection(const std::filesystem::path& file, Mode mode);

    SQLite::Database& db() { return db_; }
    // A cached prepared statement, reset and with its bindings cleared. Do not hold it across
    // a call that may prepare the same SQL again.
    SQLite::Statement& cached(const std::string& sql);
    // Resets every cached statement: a stepped but unreset SELECT would pin its read
    // snapshot (and block checkpoints) after the work that used it is over.
    void reset_all();

private:
    SQLite::Database db_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> cache_;
    std::vector<SQLite::Statement*> used_;  // handed out since the last reset_all()
};

}  // namespace ictcore::store

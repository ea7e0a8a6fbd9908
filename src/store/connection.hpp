// Connection: one SQLite connection with the project's pragmas and a prepared-statement cache.
#pragma once

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>

namespace ictcore::store {

class Connection {
public:
    enum class Mode { read_write, read_only };
    Connection(const std::filesystem::path& file, Mode mode);

    SQLite::Database& db() { return db_; }
    // A cached prepared statement, reset and with its bindings cleared. Do not hold it across
    // a call that may prepare the same SQL again.
    SQLite::Statement& cached(const std::string& sql);

private:
    SQLite::Database db_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> cache_;
};

}  // namespace ictcore::store

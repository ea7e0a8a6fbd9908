// Versioned schema migrations, tracked in PRAGMA user_version. Opening an older database
// upgrades it in place; a database from a newer ictcore is refused.
#pragma once

#include <SQLiteCpp/Database.h>

namespace ictcore::store {

int latest_schema_version();
// Applies every migration above the database's version, up to `target` (default: latest),
// each in its own transaction.
void migrate(SQLite::Database& db, int target = -1);

}  // namespace ictcore::store

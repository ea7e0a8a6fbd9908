// Options for a Core under test: a data directory inside a TempDir, a known admin password,
// and the cheapest password hash so tests that create users stay fast.
#pragma once

#include "temp_dir.hpp"

#include <ictcore/core.hpp>

namespace ictcore::test {

inline Options core_options(const TempDir& dir) {
    Options o;
    o.data_dir = dir.path() / "data";
    o.admin_password = "admin-password";
    o.password_cost = PasswordCost::minimal;
    return o;
}

}  // namespace ictcore::test

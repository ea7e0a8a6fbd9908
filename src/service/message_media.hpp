// Where message media live, for the services that remove messages wholesale (deleting a user).
#pragma once

#include "store/connection.hpp"

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace ictcore::service {

// The media (kind, message id) of every message `owner` has; delete them once its rows are gone.
std::vector<std::pair<std::string_view, std::int64_t>> owned_media(store::Connection& c, std::int64_t owner);

}  // namespace ictcore::service

// Where message media live, for the services that remove messages wholesale (deleting a user).
#pragma once

#include "store/connection.hpp"

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace ictcore::service {

// Media kinds (directories of the media store). Each message's files are <kind>/<id>.<role>:
// templates: attachment; recordings: original, wav (telephony); documents: pdf, tif (fax).
inline constexpr std::string_view templates_dir = "templates";
inline constexpr std::string_view recordings_dir = "recordings";
inline constexpr std::string_view documents_dir = "documents";
// Attachments of received e-mail, by spool: inbound/<spool_id>.attachment<N>.
inline constexpr std::string_view inbound_dir = "inbound";

// The media (kind, id) of every message and received e-mail `owner` has; delete them once its
// rows are gone.
std::vector<std::pair<std::string_view, std::int64_t>> owned_media(store::Connection& c, std::int64_t owner);

}  // namespace ictcore::service

// The REST API's route table: binds each route of the API guide to a Core call.
#pragma once

#include <ictcore/core.hpp>

#include "router.hpp"

namespace ictcore::server {

// Adds the authentication, statistics, contact, group and user routes. `core` must outlive
// the router.
void add_routes(Router& router, ictcore::Core& core);

// The parts of the table kept in their own files (routes_*.cpp), called by add_routes.
void add_account_routes(Router& router, ictcore::Core& core);
void add_provider_routes(Router& router, ictcore::Core& core);
void add_program_routes(Router& router, ictcore::Core& core);
void add_transmission_routes(Router& router, ictcore::Core& core);
void add_campaign_routes(Router& router, ictcore::Core& core);
void add_gateway_routes(Router& router, ictcore::Core& core);

}  // namespace ictcore::server

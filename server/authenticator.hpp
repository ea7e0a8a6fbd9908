// Authenticator: reads Bearer or Basic credentials from a request and asks ictcore::Auth for
// the Principal. Used by the Router for every route except the login routes.
#pragma once

#include <ictcore/auth.hpp>
#include <ictcore/principal.hpp>

#include "http_types.hpp"

namespace ictcore::server {

class Authenticator {
public:
    explicit Authenticator(ictcore::Auth& auth) : auth_(auth) {}

    // Accepts `Authorization: Bearer <token>`, `Authentication: Bearer <token>` (the header
    // name the API guide uses) and `Authorization: Basic <base64 user:pass>`.
    // Throws ictcore::Error(unauthenticated) when credentials are missing or wrong.
    ictcore::Principal operator()(const Request& request) const;

    // True when the request authenticates with a bearer token, whose check is cheap.
    static bool carries_token(const Request& request);

private:
    ictcore::Auth& auth_;
};

}  // namespace ictcore::server

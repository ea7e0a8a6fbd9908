// The one place that turns ictcore::Errc codes and stray exceptions into HTTP error responses,
// all with the body {"error":{"code":N,"message":"..."}}.
#pragma once

#include <exception>
#include <ictcore/error.hpp>
#include <string_view>

#include "http_types.hpp"

namespace ictcore::server {

int http_status(ictcore::Errc code) noexcept;

// An error response with the given status; 401 also carries WWW-Authenticate.
Response error_response(int status, std::string_view message);
Response error_response(const ictcore::Error& error);

// Maps the exception `error` (ictcore::Error → its status; anything else → 500 with a generic
// message, the detail only logged, since it may name internals).
Response exception_response(std::exception_ptr error);

}  // namespace ictcore::server

// Maps ictcore::Errc to HTTP statuses and builds JSON error bodies.
#include "error_response.hpp"

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>

namespace ictcore::server {

int http_status(ictcore::Errc code) noexcept {
    switch (code) {
        case Errc::unauthenticated:
            return 401;
        case Errc::forbidden:
            return 403;
        case Errc::not_found:
            return 404;
        case Errc::length_required:
            return 411;
        case Errc::invalid:
            return 412;
        case Errc::too_large:
            return 413;
        case Errc::unsupported_media:
            return 415;
        case Errc::failed:
            return 417;
        case Errc::locked:
            return 423;
        case Errc::internal:
            return 500;
        case Errc::not_implemented:
            return 501;
        case Errc::too_many_requests:
            return 429;
        case Errc::insufficient_storage:
            // RFC 4918's 507 rather than the guide's catch-all 500: the request was sound and
            // nothing is broken, so a client or monitor can tell "free some space" from a bug.
            return 507;
    }
    return 500;
}

Response error_response(int status, std::string_view message) {
    Response response;
    response.status = status;
    boost::json::value body = {{"error", {{"code", status}, {"message", message}}}};
    response.body = boost::json::serialize(body);
    if (status == 401) response.headers.emplace_back("WWW-Authenticate", R"(Bearer, Basic realm="ictcore")");
    return response;
}

Response error_response(const ictcore::Error& error) {
    const int status = http_status(error.code());
    if (status >= 500) spdlog::error("request failed: {}: {}", to_string(error.code()), error.what());
    Response response = error_response(status, error.what());
    if (error.retry_after().count() > 0) {
        response.headers.emplace_back("Retry-After", std::to_string(error.retry_after().count()));
    }
    return response;
}

Response exception_response(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const ictcore::Error& e) {
        return error_response(e);
    } catch (const std::exception& e) {
        spdlog::error("request failed with an unexpected exception: {}", e.what());
    } catch (...) {
        spdlog::error("request failed with an unknown exception");
    }
    return error_response(500, "internal server error");
}

}  // namespace ictcore::server

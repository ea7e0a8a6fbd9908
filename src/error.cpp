// Names of error codes, for logs and messages.
#include <ictcore/error.hpp>

namespace ictcore {

const char* to_string(Errc code) noexcept {
    switch (code) {
        case Errc::unauthenticated:
            return "unauthenticated";
        case Errc::forbidden:
            return "forbidden";
        case Errc::not_found:
            return "not_found";
        case Errc::length_required:
            return "length_required";
        case Errc::invalid:
            return "invalid";
        case Errc::too_large:
            return "too_large";
        case Errc::unsupported_media:
            return "unsupported_media";
        case Errc::failed:
            return "failed";
        case Errc::locked:
            return "locked";
        case Errc::internal:
            return "internal";
        case Errc::not_implemented:
            return "not_implemented";
        case Errc::too_many_requests:
            return "too_many_requests";
        case Errc::insufficient_storage:
            return "insufficient_storage";
    }
    return "unknown";
}

}  // namespace ictcore

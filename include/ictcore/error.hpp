// ictcore::Error — the one exception type the library throws for a refused request.
// The code says what kind of refusal it is; the server maps it to an HTTP status in one place.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

namespace ictcore {

enum class Errc {
    unauthenticated,    // credentials missing or wrong
    forbidden,          // authenticated but lacking the permission
    not_found,          // no such row, or not the caller's
    length_required,    // empty body where one is needed
    invalid,            // validation failed
    too_large,          // body or upload over its limit
    unsupported_media,  // content type or bytes not accepted
    failed,             // unexpected failure of an operation
    locked,             // the object's state forbids the action now
    internal,           // storage or other internal fault
    not_implemented,
    too_many_requests,     // the caller must wait (Error::retry_after) before trying again
    insufficient_storage,  // the disk is full: nothing was stored; the same request can succeed later
};

// Name used in logs and tests ("invalid", "not_found", ...).
const char* to_string(Errc code) noexcept;

class Error : public std::runtime_error {
public:
    Error(Errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
    Error(Errc code, const std::string& message, std::chrono::seconds retry_after)
        : std::runtime_error(message), code_(code), retry_after_(retry_after) {}
    Errc code() const noexcept { return code_; }
    // How long to wait before trying again (too_many_requests); zero when it does not apply.
    std::chrono::seconds retry_after() const noexcept { return retry_after_; }

private:
    Errc code_;
    std::chrono::seconds retry_after_{0};
};

}  // namespace ictcore

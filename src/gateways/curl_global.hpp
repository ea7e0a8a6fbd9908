// CurlGlobal: libcurl's process-wide set-up, held by each gateway that uses libcurl so it is
// done before their first handle and undone after their last (libcurl counts the calls).
#pragma once

#include <curl/curl.h>

namespace ictcore::gateways {

struct CurlGlobal {
    CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~CurlGlobal() { curl_global_cleanup(); }
    CurlGlobal(const CurlGlobal&) = delete;
    CurlGlobal& operator=(const CurlGlobal&) = delete;
};

}  // namespace ictcore::gateways

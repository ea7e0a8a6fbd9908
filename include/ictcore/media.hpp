// Media of messages: what an upload carries and what a download returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ictcore {

struct Upload {
    std::string_view bytes;
    std::string content_type;  // as declared by the client; checked against the bytes
    std::string file_name;     // as declared by the client; kept for display only
};

// A stored media file; `path` stays valid until the message is deleted or its media replaced.
struct MediaFile {
    std::filesystem::path path;
    std::string content_type;
    std::string file_name;  // safe for a Content-Disposition header
    std::uintmax_t size = 0;
};

}  // namespace ictcore

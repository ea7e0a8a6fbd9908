// Content sniffing: what a file is, from its first bytes rather than its declared type.
#pragma once

#include <string>
#include <string_view>

namespace ictcore::media {

struct Sniffed {
    std::string extension;     // "pdf", "tif", "png", "jpg", "wav", "mp3"; empty when unknown
    std::string content_type;  // e.g. "application/pdf"; empty when unknown
};

Sniffed sniff(std::string_view bytes);

}  // namespace ictcore::media

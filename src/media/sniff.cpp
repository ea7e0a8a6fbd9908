// Magic numbers of the formats messages accept.
#include "media/sniff.hpp"

namespace ictcore::media {

namespace {
bool starts(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }
}  // namespace

Sniffed sniff(std::string_view b) {
    using namespace std::string_view_literals;
    if (starts(b, "%PDF-")) return {"pdf", "application/pdf"};
    if (starts(b, "II*\0"sv) || starts(b, "MM\0*"sv)) return {"tif", "image/tiff"};
    if (starts(b, "\x89PNG\r\n\x1a\n"sv)) return {"png", "image/png"};
    if (starts(b, "\xFF\xD8\xFF"sv)) return {"jpg", "image/jpeg"};
    if (b.size() >= 12 && starts(b, "RIFF") && b.substr(8, 4) == "WAVE") return {"wav", "audio/wav"};
    // MP3: an ID3v2 tag, or an MPEG audio frame sync (11 set bits) with layer III.
    if (starts(b, "ID3")) return {"mp3", "audio/mpeg"};
    if (b.size() >= 2 && static_cast<unsigned char>(b[0]) == 0xFF &&
        (static_cast<unsigned char>(b[1]) & 0xE6) == 0xE2) {
        return {"mp3", "audio/mpeg"};
    }
    return {};
}

}  // namespace ictcore::media

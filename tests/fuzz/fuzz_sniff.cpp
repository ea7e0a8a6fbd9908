// Fuzz target: the media type sniffer. Checks that a result is one of the known pairs of
// extension and content type, and that it depends on the leading bytes only: appending data to
// a recognised file never changes what it is.
#include "media/sniff.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz_support.hpp"

namespace {

using ictcore::fuzz::check;

constexpr std::array<std::pair<std::string_view, std::string_view>, 6> known{{
    {"pdf", "application/pdf"},
    {"tif", "image/tiff"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"wav", "audio/wav"},
    {"mp3", "audio/mpeg"},
}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto sniffed = ictcore::media::sniff(bytes);
    if (sniffed.extension.empty()) {
        check(sniffed.content_type.empty(), "a content type without an extension");
        return 0;
    }
    bool listed = false;
    for (const auto& [extension, type] : known) {
        if (sniffed.extension == extension) {
            check(sniffed.content_type == type, "extension and content type disagree");
            listed = true;
        }
    }
    check(listed, "an extension outside the accepted formats");
    const std::string longer = std::string(bytes) + std::string("\0\xFF trailing", 11);
    const auto again = ictcore::media::sniff(longer);
    check(again.extension == sniffed.extension && again.content_type == sniffed.content_type,
          "appended bytes changed the sniffed type");
    return 0;
}

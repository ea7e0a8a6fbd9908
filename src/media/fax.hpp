// Fax document conversion: any accepted document (PDF, TIFF, PNG, JPEG) becomes a fax-ready
// TIFF (ITU T.6 / CCITT Group 4, 1728 px wide, 204x196 dpi, A4 pages) that every fax channel
// can send as is, plus a PDF of the same pages for download when the input was an image.
#pragma once

#include <filesystem>
#include <string_view>

namespace ictcore::media {

struct FaxInfo {
    int pages = 0;
    int width = 0;            // pixels, always 1728
    double x_resolution = 0;  // dpi, 204
    double y_resolution = 0;  // dpi, 196
};

// Converts `input` — PDF, TIFF (any compression libtiff decodes, multi-page, colour, grey or
// bilevel), PNG or JPEG — into `fax_tiff`: CCITT Group 4 bilevel, 1728 px wide, 204x196 dpi, one
// TIFF page per input page, each 2292 rows (A4) with the image scaled to fit the page keeping
// its physical aspect ratio, centred and padded with white.
//
// The format is taken from the content (its magic number); `extension` ("pdf", "tif", "png",
// "jpg", as sniffed by the caller) only decides the error for content that matches no format:
// Error(Errc::invalid) when it names one of the four (declared as a document but undecodable),
// Error(Errc::unsupported_media) otherwise, and also for a TIFF in a layout libtiff's RGBA
// reader does not handle (e.g. old-style JPEG compression).
//
// PDF is rendered by Ghostscript, run as a separate program (its library is AGPL); `pdf` is
// not written, the caller keeps the original. Images are decoded in-process one strip or row
// at a time, scaled by area averaging, made bilevel (solid darks and lights stay solid, mid
// tones are ordered-dithered) and written with libtiff; then `pdf` is written from the fax
// TIFF by tiff2pdf. The whole conversion is limited to 60 s.
//
// Writes only `fax_tiff` and `pdf`; after a failure either may hold a partial file, which the
// caller discards. Throws Error(Errc::invalid) when the input is truncated or corrupt (a
// decoder or Ghostscript reports an error, even one it recovered from), Error(Errc::too_large)
// when an image is over the size limits, Error(Errc::failed) when the conversion times out,
// Error(Errc::internal) when a file cannot be read or written or a helper program is missing.
FaxInfo convert_to_fax(const std::filesystem::path& input, std::string_view extension,
                       const std::filesystem::path& fax_tiff, const std::filesystem::path& pdf);

// Page count, and width and resolution of the first page, of an existing TIFF. Throws
// Error(Errc::invalid) when it is not a readable TIFF.
FaxInfo inspect_fax_tiff(const std::filesystem::path& tiff);

}  // namespace ictcore::media

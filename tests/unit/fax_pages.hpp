// Fax pages for tests: a Group 4 fax TIFF with a pattern any lost or shifted line would change,
// and the pixel comparison of two TIFFs by libtiff-tools' `tiffcmp -t` (without -t it compares
// tags only and misses pixels).
#pragma once

#include <doctest/doctest.h>
#include <tiffio.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace ictcore::test {

// A fax page TIFF (Group 4, 1728 wide, 204x196 dpi) of `rows` rows with a pattern that any
// lost or shifted line would change.
inline void write_fax_tiff(const std::filesystem::path& path, int pages, int rows, int seed) {
    TIFF* t = TIFFOpen(path.c_str(), "w");
    REQUIRE(t);
    constexpr int width = 1728;
    std::vector<std::uint8_t> line(width / 8);
    for (int p = 0; p < pages; ++p) {
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, width);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, rows);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
        TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, 196.0);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows);
        TIFFSetField(t, TIFFTAG_PAGENUMBER, p, pages);
        for (int r = 0; r < rows; ++r) {
            for (std::size_t i = 0; i < line.size(); ++i) {
                line[i] = static_cast<std::uint8_t>(((r / 8 + static_cast<int>(i) + seed + p) % 5 == 0) ? 0xFF : 0x00);
            }
            line[static_cast<std::size_t>(r) % line.size()] ^= 0x81;  // a diagonal
            TIFFWriteScanline(t, line.data(), static_cast<std::uint32_t>(r), 0);
        }
        TIFFWriteDirectory(t);
    }
    TIFFClose(t);
}

inline int tiffcmp(const std::filesystem::path& a, const std::filesystem::path& b) {
    const std::string cmd = "tiffcmp -t '" + a.string() + "' '" + b.string() + "' >/dev/null 2>&1";
    return std::system(cmd.c_str());
}

}  // namespace ictcore::test

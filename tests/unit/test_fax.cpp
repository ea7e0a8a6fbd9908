// Fax conversion: real PDF, PNG, JPEG and TIFF inputs made here (the PDF by hand, the images
// with libpng, libjpeg and libtiff), converted, then the fax TIFF read back with libtiff: page
// count, geometry, G4 compression, resolution, and where the drawn black boxes ended up.
// Also broken inputs and the subprocess runner's time limit, exit status and stderr capture.
#include "media/fax.hpp"
#include "media/subprocess.hpp"
#include "pdf_writer.hpp"
#include "temp_dir.hpp"

#include <ictcore/error.hpp>

#include <doctest/doctest.h>
#include <png.h>
#include <tiffio.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

// libjpeg's header uses FILE and size_t without including what declares them.
#include <jpeglib.h>

using namespace ictcore;
using media::convert_to_fax;
using media::FaxInfo;
using media::inspect_fax_tiff;
using media::run_program;
namespace fs = std::filesystem;

namespace {

constexpr int fax_width = 1728;
constexpr int fax_height = 2292;

struct Box {
    int x0, y0, x1, y1;  // pixels, [x0, x1) x [y0, y1), origin top left
    bool contains(int x, int y) const { return x >= x0 && x < x1 && y >= y0 && y < y1; }
};

std::string read_all(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_all(const fs::path& p, const std::string& bytes) {
    std::ofstream out(p, std::ios::binary);
    out << bytes;
}

void truncate_to_half(const fs::path& p) {
    const std::string bytes = read_all(p);
    write_all(p, bytes.substr(0, bytes.size() / 2));
}

// Grey 8-bit image: white with a black box.
std::vector<std::uint8_t> grey_image(int w, int h, const Box& box) {
    std::vector<std::uint8_t> px(static_cast<std::size_t>(w * h), 255);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            if (box.contains(x, y)) px[static_cast<std::size_t>(y * w + x)] = 0;
        }
    }
    return px;
}

void write_png(const fs::path& path, int w, int h, const Box& box) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    REQUIRE(png);
    REQUIRE(info);
    png_init_io(png, f);
    // RGB, so the converter's colour-to-grey path is exercised; the box is black, the paper white.
    png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const auto grey = grey_image(w, h, box);
    std::vector<png_byte> row(static_cast<std::size_t>(w * 3));
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int c = 0; c < 3; ++c)
                row[static_cast<std::size_t>(x * 3 + c)] = grey[static_cast<std::size_t>(y * w + x)];
        }
        png_write_row(png, row.data());
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
}

void write_jpeg(const fs::path& path, int w, int h, const Box& box) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    jpeg_compress_struct cinfo{};
    jpeg_error_mgr err{};
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, f);
    cinfo.image_width = static_cast<JDIMENSION>(w);
    cinfo.image_height = static_cast<JDIMENSION>(h);
    cinfo.input_components = 3;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 90, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    const auto grey = grey_image(w, h, box);
    std::vector<JSAMPLE> row(static_cast<std::size_t>(w * 3));
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            for (int c = 0; c < 3; ++c)
                row[static_cast<std::size_t>(x * 3 + c)] = grey[static_cast<std::size_t>(y * w + x)];
        }
        JSAMPROW r = row.data();
        jpeg_write_scanlines(&cinfo, &r, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    std::fclose(f);
}

// A colour TIFF, one page per box: pale yellow paper, a dark blue box; LZW on the first page,
// PackBits on the others, in strips of 16 rows.
void write_colour_tiff(const fs::path& path, int w, int h, const std::vector<Box>& boxes) {
    TIFF* t = TIFFOpen(path.c_str(), "w");
    REQUIRE(t);
    for (std::size_t page = 0; page < boxes.size(); ++page) {
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_COMPRESSION, page == 0 ? COMPRESSION_LZW : COMPRESSION_PACKBITS);
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 16);
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        std::vector<std::uint8_t> row(static_cast<std::size_t>(w * 3));
        for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
                const bool in = boxes[page].contains(x, y);
                row[static_cast<std::size_t>(x * 3)] = in ? 0 : 255;
                row[static_cast<std::size_t>(x * 3 + 1)] = in ? 0 : 255;
                row[static_cast<std::size_t>(x * 3 + 2)] = in ? 128 : 200;
            }
            REQUIRE(TIFFWriteScanline(t, row.data(), static_cast<std::uint32_t>(y), 0) == 1);
        }
        REQUIRE(TIFFWriteDirectory(t));
    }
    TIFFClose(t);
}

// A palette PNG, Adam7-interlaced, whose paper is transparent *black* (palette entry 1, alpha 0
// through tRNS) and whose box is opaque black: only compositing onto white paper makes the
// paper white.
void write_transparent_palette_png(const fs::path& path, int w, int h, const Box& box) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    REQUIRE(png);
    REQUIRE(info);
    png_init_io(png, f);
    png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), 8, PNG_COLOR_TYPE_PALETTE,
                 PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    std::array<png_color, 2> palette{{{0, 0, 0}, {0, 0, 0}}};
    png_set_PLTE(png, info, palette.data(), 2);
    std::array<png_byte, 2> alpha{255, 0};
    png_set_tRNS(png, info, alpha.data(), 2, nullptr);
    png_write_info(png, info);
    std::vector<png_byte> pixels(static_cast<std::size_t>(w * h));
    std::vector<png_bytep> rows(static_cast<std::size_t>(h));
    for (int y = 0; y < h; ++y) {
        rows[static_cast<std::size_t>(y)] = pixels.data() + static_cast<std::size_t>(y * w);
        for (int x = 0; x < w; ++x) pixels[static_cast<std::size_t>(y * w + x)] = box.contains(x, y) ? 0 : 1;
    }
    png_write_image(png, rows.data());
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
}

// A grey TIFF in 64x64 Deflate tiles, stored bottom-up (Orientation 4: row 0 is the bottom).
void write_tiled_bottom_up_tiff(const fs::path& path, int w, int h, const Box& box) {
    TIFF* t = TIFFOpen(path.c_str(), "w");
    REQUIRE(t);
    constexpr int tile = 64;
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
    TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_BOTLEFT);
    TIFFSetField(t, TIFFTAG_TILEWIDTH, tile);
    TIFFSetField(t, TIFFTAG_TILELENGTH, tile);
    std::vector<std::uint8_t> buf(tile * tile);
    for (int ty = 0; ty < h; ty += tile) {
        for (int tx = 0; tx < w; tx += tile) {
            for (int y = 0; y < tile; ++y) {
                for (int x = 0; x < tile; ++x) {
                    const int fy = ty + y, fx = tx + x;  // file row fy shows visual row h - 1 - fy
                    buf[static_cast<std::size_t>(y * tile + x)] = box.contains(fx, h - 1 - fy) ? 0 : 255;
                }
            }
            REQUIRE(TIFFWriteTile(t, buf.data(), static_cast<std::uint32_t>(tx), static_cast<std::uint32_t>(ty), 0,
                                  0) == tile * tile);
        }
    }
    REQUIRE(TIFFWriteDirectory(t));
    TIFFClose(t);
}

std::uint32_t crc32(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFF;
    for (const char ch : bytes) {
        crc ^= static_cast<unsigned char>(ch);
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
    }
    return ~crc;
}

std::string be32(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

// A PNG that only announces its size: header, an empty IDAT, IEND. The converter must refuse
// it from the header alone, before any decoding.
void write_png_header_only(const fs::path& path, std::uint32_t w, std::uint32_t h) {
    auto chunk = [](const std::string& type, const std::string& data) {
        return be32(static_cast<std::uint32_t>(data.size())) + type + data + be32(crc32(type + data));
    };
    const std::string ihdr = be32(w) + be32(h) + std::string{8, 0, 0, 0, 0};  // 8-bit grey
    write_all(path, std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) + chunk("IDAT", "") + chunk("IEND", ""));
}

// A3-page PDF written by hand: A4 pages (595x842 pt), page k with a filled 200x150 pt
// rectangle at x 100..300, y (550 - 200k)..(700 - 200k) (PDF coordinates, origin bottom left).
void write_pdf(const fs::path& path, int pages) {
    std::vector<std::string> contents;
    for (int k = 0; k < pages; ++k) contents.push_back("0 g 100 " + std::to_string(550 - 200 * k) + " 200 150 re f");
    write_all(path, ictcore::test::pdf_of_pages(contents));
}

// One page of a fax TIFF, checked for the fax format and decoded to one byte per pixel
// (1 = black).
struct FaxPage {
    std::vector<std::uint8_t> black;
    bool at(int x, int y) const { return black[static_cast<std::size_t>(y * fax_width + x)] != 0; }
    // Black pixels in a square of radius r around (x, y): robust to dithering and rounding.
    int black_around(int x, int y, int r) const {
        int n = 0;
        for (int yy = y - r; yy <= y + r; ++yy) {
            for (int xx = x - r; xx <= x + r; ++xx) n += at(xx, yy) ? 1 : 0;
        }
        return n;
    }
};

FaxPage read_fax_page(const fs::path& path, int page) {
    TIFF* t = TIFFOpen(path.c_str(), "r");
    REQUIRE(t);
    REQUIRE(TIFFSetDirectory(t, static_cast<tdir_t>(page)));
    std::uint32_t w = 0, h = 0;
    std::uint16_t compression = 0, bps = 0, spp = 0, photometric = 0, unit = 0;
    float xres = 0, yres = 0;
    TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
    TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
    TIFFGetField(t, TIFFTAG_COMPRESSION, &compression);
    TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &photometric);
    TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
    TIFFGetField(t, TIFFTAG_XRESOLUTION, &xres);
    TIFFGetField(t, TIFFTAG_YRESOLUTION, &yres);
    CHECK(w == fax_width);
    CHECK(h == fax_height);
    CHECK(compression == COMPRESSION_CCITTFAX4);
    CHECK(bps == 1);
    CHECK(spp == 1);
    CHECK(unit == RESUNIT_INCH);
    CHECK(xres == doctest::Approx(204));
    CHECK(yres == doctest::Approx(196));
    REQUIRE((photometric == PHOTOMETRIC_MINISWHITE || photometric == PHOTOMETRIC_MINISBLACK));
    FaxPage out;
    out.black.resize(static_cast<std::size_t>(fax_width) * fax_height);
    std::vector<std::uint8_t> row(static_cast<std::size_t>(TIFFScanlineSize(t)));
    REQUIRE(row.size() == fax_width / 8);
    for (int y = 0; y < fax_height; ++y) {
        REQUIRE(TIFFReadScanline(t, row.data(), static_cast<std::uint32_t>(y), 0) == 1);
        for (int x = 0; x < fax_width; ++x) {
            const bool bit = (row[static_cast<std::size_t>(x / 8)] >> (7 - x % 8)) & 1;
            out.black[static_cast<std::size_t>(y * fax_width + x)] = bit == (photometric == PHOTOMETRIC_MINISWHITE);
        }
    }
    TIFFClose(t);
    return out;
}

// Where the centre of a source pixel lands on the fax page, for a w x h image of square
// pixels scaled to fit 1728 x 2292 fax pixels (204 x 196 dpi) and centred.
std::pair<int, int> fax_position(double x, double y, int w, int h) {
    const double rows_per_col = 196.0 / 204.0;
    const double scale = std::min(1728.0 / w, 2292.0 / (h * rows_per_col));
    const double left = (1728 - w * scale) / 2, top = (2292 - h * scale * rows_per_col) / 2;
    return {static_cast<int>(left + x * scale), static_cast<int>(top + y * scale * rows_per_col)};
}

// Checks the box is black on the fax page and the paper around it white.
void check_box(const FaxPage& page, const Box& box, int w, int h) {
    const auto [cx, cy] = fax_position((box.x0 + box.x1) / 2.0, (box.y0 + box.y1) / 2.0, w, h);
    CHECK(page.black_around(cx, cy, 3) == 49);
    // Just inside and just outside the box's corners.
    const auto [ix, iy] = fax_position(box.x0 + 2, box.y0 + 2, w, h);
    CHECK(page.black_around(ix, iy, 1) == 9);
    const auto [ox, oy] = fax_position(box.x0 - 3, box.y0 - 3, w, h);
    CHECK(page.black_around(ox, oy, 1) == 0);
    const auto [ex, ey] = fax_position(box.x1 + 3, box.y1 + 3, w, h);
    CHECK(page.black_around(ex, ey, 1) == 0);
    // The paper elsewhere: the image's far corner and the page's margins.
    const auto [fx, fy] = fax_position(w - 5, h - 5, w, h);
    CHECK(page.black_around(fx, fy, 2) == 0);
    CHECK(page.black_around(10, 10, 5) == 0);
    CHECK(page.black_around(fax_width - 11, fax_height - 11, 5) == 0);
}

int total_black(const FaxPage& page) {
    int n = 0;
    for (const auto b : page.black) n += b;
    return n;
}

// Pages of a PDF as Ghostscript counts them (written to stderr: run_program drops stdout).
int pdf_page_count(const fs::path& pdf) {
    std::string out;
    const int status =
        run_program({"gs", "-q", "-dNODISPLAY", "-dNOSAFER", "-c",
                     "(" + pdf.string() +
                         ") (r) file runpdfbegin (%stderr) (w) file dup pdfpagecount 10 string cvs writestring "
                         "flushfile quit"},
                    std::chrono::seconds(30), &out);
    REQUIRE(status == 0);
    return std::stoi(out);
}

void check_download_pdf(const fs::path& pdf, int pages) {
    REQUIRE(fs::exists(pdf));
    CHECK(read_all(pdf).starts_with("%PDF"));
    CHECK(pdf_page_count(pdf) == pages);
}

Errc error_code(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        MESSAGE(std::string(e.what()));
        return e.code();
    }
    FAIL("no ictcore::Error thrown");
    return Errc::not_implemented;
}

}  // namespace

TEST_CASE("fax: a 3-page PDF becomes 3 G4 pages, boxes in place, no PDF copy") {
    test::TempDir dir;
    const fs::path in = dir.path() / "doc.pdf", tif = dir.path() / "out.tif", pdf = dir.path() / "out.pdf";
    write_pdf(in, 3);
    const FaxInfo info = convert_to_fax(in, "pdf", tif, pdf);
    CHECK(info.pages == 3);
    CHECK(info.width == fax_width);
    CHECK(info.x_resolution == doctest::Approx(204));
    CHECK(info.y_resolution == doctest::Approx(196));
    const FaxInfo inspected = inspect_fax_tiff(tif);
    CHECK(inspected.pages == 3);
    CHECK(inspected.width == fax_width);
    CHECK_FALSE(fs::exists(pdf));

    // The A4 page fits the fax page's height (scale ~1), centred horizontally: 1728 px at
    // 204 dpi is 609.9 pt, so 7.4 pt of margin each side.
    const double scale = std::min(1728.0 / 204 * 72 / 595, 2292.0 / 196 * 72 / 842);
    const double margin = (1728.0 / 204 * 72 - 595 * scale) / 2;
    auto px = [&](double x_pt) { return static_cast<int>((margin + x_pt * scale) / 72 * 204); };
    auto row = [&](double y_pt) { return static_cast<int>((842 - y_pt) * scale / 72 * 196); };
    for (int k = 0; k < 3; ++k) {
        CAPTURE(k);
        const FaxPage page = read_fax_page(tif, k);
        const double centre_y = 625 - 200 * k;
        CHECK(page.black_around(px(200), row(centre_y), 5) == 121);
        CHECK(page.black_around(px(105), row(centre_y + 70), 2) == 25);
        CHECK(page.black_around(px(95), row(centre_y), 2) == 0);
        CHECK(page.black_around(px(305), row(centre_y), 2) == 0);
        CHECK(page.black_around(px(200), row(centre_y + 80), 2) == 0);
        CHECK(page.black_around(px(200), row(centre_y - 80), 2) == 0);
        // Nothing else is drawn: the black area is the box, 200x150 pt.
        const double box_px = 200 * scale / 72 * 204 * 150 * scale / 72 * 196;
        CHECK(total_black(page) == doctest::Approx(box_px).epsilon(0.02));
    }
}

TEST_CASE("fax: a PNG is scaled to the fax width, the box stays black, a PDF is made") {
    test::TempDir dir;
    const fs::path in = dir.path() / "img.png", tif = dir.path() / "out.tif", pdf = dir.path() / "out.pdf";
    const Box box{200, 150, 400, 300};
    write_png(in, 800, 600, box);
    const FaxInfo info = convert_to_fax(in, "png", tif, pdf);
    CHECK(info.pages == 1);
    CHECK(info.width == fax_width);
    CHECK(inspect_fax_tiff(tif).pages == 1);
    const FaxPage page = read_fax_page(tif, 0);
    check_box(page, box, 800, 600);
    // 800 px -> 1728 px: the box is 432 px wide and 150 * 2.16 * 196/204 rows tall.
    CHECK(total_black(page) == doctest::Approx(432 * 150 * 2.16 * 196 / 204).epsilon(0.02));
    check_download_pdf(pdf, 1);
}

TEST_CASE("fax: a JPEG is converted, the box stays black") {
    test::TempDir dir;
    const fs::path in = dir.path() / "img.jpg", tif = dir.path() / "out.tif", pdf = dir.path() / "out.pdf";
    const Box box{64, 96, 320, 224};
    write_jpeg(in, 640, 480, box);
    const FaxInfo info = convert_to_fax(in, "jpg", tif, pdf);
    CHECK(info.pages == 1);
    CHECK(info.width == fax_width);
    check_box(read_fax_page(tif, 0), box, 640, 480);
    check_download_pdf(pdf, 1);
}

TEST_CASE("fax: a 2-page colour TIFF gives 2 pages, each with its own box") {
    test::TempDir dir;
    const fs::path in = dir.path() / "img.tif", tif = dir.path() / "out.tif", pdf = dir.path() / "out.pdf";
    // Portrait, taller than the fax page's proportions: it is fitted to the height.
    const std::vector<Box> boxes{{20, 20, 120, 100}, {200, 400, 380, 560}};
    write_colour_tiff(in, 400, 600, boxes);
    const FaxInfo info = convert_to_fax(in, "tif", tif, pdf);
    CHECK(info.pages == 2);
    CHECK(info.width == fax_width);
    CHECK(info.x_resolution == doctest::Approx(204));
    CHECK(info.y_resolution == doctest::Approx(196));
    const FaxPage first = read_fax_page(tif, 0), second = read_fax_page(tif, 1);
    check_box(first, boxes[0], 400, 600);
    check_box(second, boxes[1], 400, 600);
    // And not each other's: the pages are in order.
    const auto [x1, y1] = fax_position(290, 480, 400, 600);
    CHECK(first.black_around(x1, y1, 3) == 0);
    const auto [x0, y0] = fax_position(70, 60, 400, 600);
    CHECK(second.black_around(x0, y0, 3) == 0);
    check_download_pdf(pdf, 2);
}

TEST_CASE("fax: an interlaced palette PNG with transparency is composited onto white paper") {
    test::TempDir dir;
    const fs::path in = dir.path() / "img.png", tif = dir.path() / "out.tif", pdf = dir.path() / "out.pdf";
    const Box box{50, 300, 250, 380};
    write_transparent_palette_png(in, 300, 400, box);
    CHECK(convert_to_fax(in, "png", tif, pdf).pages == 1);
    check_box(read_fax_page(tif, 0), box, 300, 400);
}

TEST_CASE("fax: a tiled, bottom-up grey TIFF comes out the right way up") {
    test::TempDir dir;
    const fs::path in = dir.path() / "img.tif", tif = dir.path() / "out.tif", pdf = dir.path() / "out.pdf";
    // Near the visual top: upside down it would land near the bottom.
    const Box box{40, 30, 200, 110};
    write_tiled_bottom_up_tiff(in, 500, 700, box);
    CHECK(convert_to_fax(in, "tif", tif, pdf).pages == 1);
    const FaxPage page = read_fax_page(tif, 0);
    check_box(page, box, 500, 700);
    const auto [mx, my] = fax_position(120, 700 - 70, 500, 700);
    CHECK(page.black_around(mx, my, 3) == 0);
}

TEST_CASE("fax: broken and foreign inputs are refused with the right code") {
    test::TempDir dir;
    const fs::path tif = dir.path() / "out.tif", pdf = dir.path() / "out.pdf";

    SUBCASE("random bytes declared as PDF are invalid") {
        std::mt19937 rng(7);
        std::string bytes(4096, '\0');
        for (auto& c : bytes) c = static_cast<char>(rng() & 0x7F);  // ASCII: never a binary magic
        bytes[0] = 'x';
        write_all(dir.path() / "r.pdf", bytes);
        CHECK(error_code([&] { convert_to_fax(dir.path() / "r.pdf", "pdf", tif, pdf); }) == Errc::invalid);
    }
    SUBCASE("content of another kind is unsupported") {
        write_all(dir.path() / "a.wav", "RIFF\x24\0\0\0WAVEfmt ");
        CHECK(error_code([&] { convert_to_fax(dir.path() / "a.wav", "wav", tif, pdf); }) == Errc::unsupported_media);
    }
    SUBCASE("a PDF cut in half is invalid") {
        const fs::path in = dir.path() / "doc.pdf";
        write_pdf(in, 3);
        truncate_to_half(in);
        CHECK(error_code([&] { convert_to_fax(in, "pdf", tif, pdf); }) == Errc::invalid);
    }
    SUBCASE("a PNG cut in half is invalid") {
        const fs::path in = dir.path() / "img.png";
        write_png(in, 800, 600, {200, 150, 400, 300});
        truncate_to_half(in);
        CHECK(error_code([&] { convert_to_fax(in, "png", tif, pdf); }) == Errc::invalid);
    }
    SUBCASE("a PNG missing only its end chunk is invalid") {
        const fs::path in = dir.path() / "img.png";
        write_png(in, 800, 600, {200, 150, 400, 300});
        const std::string bytes = read_all(in);
        write_all(in, bytes.substr(0, bytes.size() - 12));  // IEND is 12 bytes
        CHECK(error_code([&] { convert_to_fax(in, "png", tif, pdf); }) == Errc::invalid);
    }
    SUBCASE("a JPEG cut in half is invalid") {
        const fs::path in = dir.path() / "img.jpg";
        write_jpeg(in, 640, 480, {64, 96, 320, 224});
        truncate_to_half(in);
        CHECK(error_code([&] { convert_to_fax(in, "jpg", tif, pdf); }) == Errc::invalid);
    }
    SUBCASE("a TIFF cut in half is invalid") {
        const fs::path in = dir.path() / "img.tif";
        write_colour_tiff(in, 400, 600, {{20, 20, 120, 100}, {200, 400, 380, 560}});
        truncate_to_half(in);
        CHECK(error_code([&] { convert_to_fax(in, "tif", tif, pdf); }) == Errc::invalid);
    }
    SUBCASE("an image over the pixel limit is too large") {
        const fs::path in = dir.path() / "huge.png";
        write_png_header_only(in, 20000, 20000);
        CHECK(error_code([&] { convert_to_fax(in, "png", tif, pdf); }) == Errc::too_large);
        // The same header with a sane size gets as far as decoding, and finds no data.
        write_png_header_only(in, 200, 200);
        CHECK(error_code([&] { convert_to_fax(in, "png", tif, pdf); }) == Errc::invalid);
    }
    SUBCASE("a missing input is an internal error") {
        CHECK(error_code([&] { convert_to_fax(dir.path() / "nope.pdf", "pdf", tif, pdf); }) == Errc::internal);
    }
}

TEST_CASE("run_program: exit status, stderr capture, time limit, missing program") {
    SUBCASE("exit status and stderr") {
        std::string err;
        CHECK(run_program({"sh", "-c", "echo oops >&2; echo out; exit 3"}, std::chrono::seconds(10), &err) == 3);
        CHECK(err == "oops\n");
        CHECK(run_program({"true"}, std::chrono::seconds(10), nullptr) == 0);
    }
    SUBCASE("arguments are passed as they are, not through a shell") {
        std::string err;
        CHECK(run_program({"sh", "-c", "printf '%s' \"$1\" >&2", "sh", "a b; $(false) 'c'"}, std::chrono::seconds(10),
                          &err) == 0);
        CHECK(err == "a b; $(false) 'c'");
    }
    SUBCASE("stderr is bounded and a chatty program does not block") {
        std::string err;
        CHECK(run_program({"sh", "-c", "head -c 200000 /dev/zero | tr '\\0' x >&2"}, std::chrono::seconds(10), &err) ==
              0);
        CHECK(err.size() == 16 * 1024);
    }
    SUBCASE("stdin is /dev/null") {
        std::string err;
        CHECK(run_program({"sh", "-c", "wc -c >&2"}, std::chrono::seconds(10), &err) == 0);
        CHECK(err == "0\n");
    }
    SUBCASE("a program over its time limit is killed") {
        const auto start = std::chrono::steady_clock::now();
        CHECK(error_code([] { run_program({"sleep", "5"}, std::chrono::seconds(1), nullptr); }) == Errc::failed);
        const auto took = std::chrono::steady_clock::now() - start;
        CHECK(took >= std::chrono::milliseconds(900));
        CHECK(took < std::chrono::milliseconds(1500));
    }
    SUBCASE("children of a timed-out program are killed too") {
        // The shell starts a background sleep and records its pid; killing only the shell
        // would leave that sleep running.
        test::TempDir dir;
        const fs::path pid_file = dir.path() / "pid";
        const auto start = std::chrono::steady_clock::now();
        CHECK(error_code([&] {
                  run_program({"sh", "-c", "sleep 30 & echo $! > \"$1\"; wait", "sh", pid_file.string()},
                              std::chrono::seconds(1), nullptr);
              }) == Errc::failed);
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));
        const int pid = std::stoi(read_all(pid_file));
        REQUIRE(pid > 0);
        // Gone, or a zombie waiting for whoever inherited it (the container's init may not reap).
        auto dead = [pid] {
            if (::kill(pid, 0) != 0) return true;
            const std::string stat = read_all("/proc/" + std::to_string(pid) + "/stat");
            const auto paren = stat.rfind(')');
            return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
        };
        bool gone = false;
        for (int i = 0; i < 100 && !gone; ++i) {
            gone = dead();
            if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        CHECK(gone);
        if (!gone) ::kill(pid, SIGKILL);  // do not leave it behind when the check fails
    }
    SUBCASE("a missing program is an internal error") {
        CHECK(error_code([] { run_program({"ictcore-no-such-program"}, std::chrono::seconds(5), nullptr); }) ==
              Errc::internal);
    }
}

// Fax conversion. PDF goes through Ghostscript's tiffg4 device in a separate process; images
// are decoded here (libtiff, libpng, libjpeg) one strip or row at a time, each row scaled
// horizontally, accumulated vertically into the current fax row, made bilevel and handed to
// libtiff's Group 4 encoder, so memory stays at a few rows whatever the image size.
#include "media/fax.hpp"

#include "media/sniff.hpp"
#include "media/subprocess.hpp"

#include <ictcore/error.hpp>

#include <fmt/format.h>
#include <png.h>
#include <tiffio.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <csetjmp>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

// libjpeg's headers use FILE and size_t without including what declares them.
#include <jerror.h>
#include <jpeglib.h>

namespace ictcore::media {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int page_width = 1728;   // the T.4 standard line for A4/Letter
constexpr int page_height = 2292;  // A4 (297 mm) at 196 lines per inch
constexpr double fax_x_dpi = 204;
constexpr double fax_y_dpi = 196;
constexpr std::chrono::seconds conversion_limit{60};
// Bounds on hostile images: decoding time grows with the pixel count, and libtiff's RGBA
// reader holds one strip (or tile row) at a time, so that strip must stay reasonable too.
constexpr std::uint64_t max_page_pixels = 200'000'000;
constexpr std::uint64_t max_band_pixels = 32'000'000;
constexpr std::uint32_t max_dimension = 65'535;
constexpr int max_pages = 1000;

[[noreturn]] void corrupt(std::string_view what, std::string_view why) {
    throw Error(Errc::invalid, fmt::format("{} is truncated or corrupt: {}", what, why));
}

void check_deadline(Clock::time_point deadline) {
    if (Clock::now() > deadline) {
        throw Error(Errc::failed, fmt::format("fax conversion timed out after {} s", conversion_limit.count()));
    }
}

// Ghostscript and tiff2pdf read an argument starting with '-' as an option, and Ghostscript an
// OutputFile starting with '|' as a pipe to a command: absolute paths start with '/'.
std::string absolute_arg(const fs::path& p) { return fs::absolute(p).string(); }

// ---------------------------------------------------------------------------------------------
// libtiff: errors are collected per handle (TIFFOpenExt), not through the process-wide
// handler, so concurrent conversions do not see each other's messages.

struct TiffMessages {
    std::string first_error;
};

int on_tiff_error(TIFF*, void* user_data, const char* module, const char* format, va_list ap) {
    auto* messages = static_cast<TiffMessages*>(user_data);
    if (messages->first_error.empty()) {
        std::array<char, 512> text{};
        std::vsnprintf(text.data(), text.size(), format, ap);
        messages->first_error = module ? fmt::format("{}: {}", module, text.data()) : std::string(text.data());
    }
    return 1;  // handled: keep libtiff from printing it to stderr as well
}

int on_tiff_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

struct TiffCloser {
    void operator()(TIFF* t) const noexcept { TIFFClose(t); }
};
using Tiff = std::unique_ptr<TIFF, TiffCloser>;

// `messages` must outlive the handle.
Tiff open_tiff(const fs::path& path, const char* mode, TiffMessages& messages) {
    std::unique_ptr<TIFFOpenOptions, void (*)(TIFFOpenOptions*)> options(TIFFOpenOptionsAlloc(), TIFFOpenOptionsFree);
    if (!options) throw Error(Errc::internal, "out of memory");
    TIFFOpenOptionsSetErrorHandlerExtR(options.get(), on_tiff_error, &messages);
    TIFFOpenOptionsSetWarningHandlerExtR(options.get(), on_tiff_warning, &messages);
    return Tiff(TIFFOpenExt(path.c_str(), mode, options.get()));
}

// ---------------------------------------------------------------------------------------------
// Output: one G4 directory per page, written a row at a time.

class FaxWriter {
public:
    explicit FaxWriter(const fs::path& path) : path_(path), tif_(open_tiff(path, "w", messages_)) {
        if (!tif_) fail();
    }

    void begin_page(int index, int total) {
        TIFF* t = tif_.get();
        TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
        TIFFSetField(t, TIFFTAG_IMAGEWIDTH, page_width);
        TIFFSetField(t, TIFFTAG_IMAGELENGTH, page_height);
        TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
        TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
        TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
        TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
        TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
        TIFFSetField(t, TIFFTAG_ORIENTATION, ORIENTATION_TOPLEFT);
        TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
        TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
        TIFFSetField(t, TIFFTAG_XRESOLUTION, fax_x_dpi);
        TIFFSetField(t, TIFFTAG_YRESOLUTION, fax_y_dpi);
        // One strip per page, as fax software (and Ghostscript's tiffg4 device) writes them.
        TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, page_height);
        TIFFSetField(t, TIFFTAG_PAGENUMBER, index, total);
        row_ = 0;
    }

    // `bits`: page_width / 8 bytes, MSB first, 1 = black.
    void write_row(std::uint8_t* bits) {
        if (TIFFWriteScanline(tif_.get(), bits, static_cast<std::uint32_t>(row_++), 0) < 0) fail();
    }

    void end_page() {
        if (row_ != page_height || !TIFFWriteDirectory(tif_.get())) fail();
    }

    void close() {
        // TIFFClose cannot report a failed flush; TIFFFlush can.
        if (!TIFFFlush(tif_.get())) fail();
        tif_.reset();
        if (!messages_.first_error.empty()) fail();
    }

private:
    [[noreturn]] void fail() const {
        throw Error(Errc::internal, fmt::format("cannot write {}: {}", path_.string(), messages_.first_error));
    }

    fs::path path_;
    TiffMessages messages_;
    Tiff tif_;
    int row_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Layout and scaling of one page: source rows of 8-bit grey (255 = white) go in top to bottom;
// fax rows come out. Both axes use area averaging: each output pixel is the mean of the source
// area it covers (for enlargement that degenerates to a blend of at most two neighbours).

// 8x8 Bayer matrix: thresholds spread evenly over the grey range.
constexpr std::array<std::array<std::uint8_t, 8>, 8> bayer = {{
    {0, 32, 8, 40, 2, 34, 10, 42},
    {48, 16, 56, 24, 50, 18, 58, 26},
    {12, 44, 4, 36, 14, 46, 6, 38},
    {60, 28, 52, 20, 62, 30, 54, 22},
    {3, 35, 11, 43, 1, 33, 9, 41},
    {51, 19, 59, 27, 49, 17, 57, 25},
    {15, 47, 7, 39, 13, 45, 5, 37},
    {63, 31, 55, 23, 61, 29, 53, 21},
}};
// Documents are mostly text on paper: near-black and near-white are taken as solid, so text
// stays crisp and a greyish scanned background does not turn into a speckle of dots (which
// also bloats the G4 data); only real mid tones (photos, shading) are dithered.
constexpr float solid_black_below = 64;
constexpr float solid_white_above = 200;

class PageComposer {
public:
    // `aspect`: the physical height of one source pixel relative to its width (1 for square).
    PageComposer(FaxWriter& out, std::uint32_t src_w, std::uint32_t src_h, double aspect, Clock::time_point deadline)
        : out_(out), src_w_(src_w), src_h_(src_h), deadline_(deadline) {
        // Fit the page: the source's physical size is src_w by src_h * aspect (in source
        // pixel widths); fax pixels are 1/204 in wide and 1/196 in tall.
        const double rows_per_col = fax_y_dpi / fax_x_dpi;
        const double scale =
            std::min(double{page_width} / src_w, double{page_height} / (src_h * aspect * rows_per_col));
        dst_w_ = std::clamp(static_cast<int>(std::lround(src_w * scale)), 1, page_width);
        dst_h_ = std::clamp(static_cast<int>(std::lround(src_h * aspect * rows_per_col * scale)), 1, page_height);
        left_ = (page_width - dst_w_) / 2;
        top_ = (page_height - dst_h_) / 2;

        // Horizontal weights: output column x covers source [x * w / dst_w, (x + 1) * w / dst_w).
        first_.resize(static_cast<std::size_t>(dst_w_));
        count_.resize(static_cast<std::size_t>(dst_w_));
        for (int x = 0; x < dst_w_; ++x) {
            const double lo = static_cast<double>(src_w_) * x / dst_w_,
                         hi = static_cast<double>(src_w_) * (x + 1) / dst_w_;
            const auto first = static_cast<std::uint32_t>(lo);
            const auto last = std::min(src_w_ - 1, static_cast<std::uint32_t>(std::ceil(hi)) - 1);
            first_[static_cast<std::size_t>(x)] = first;
            count_[static_cast<std::size_t>(x)] = last - first + 1;
            for (std::uint32_t s = first; s <= last; ++s) {
                const double overlap = std::min(hi, s + 1.0) - std::max(lo, static_cast<double>(s));
                weights_.push_back(static_cast<float>(std::max(0.0, overlap) / (hi - lo)));
            }
        }
        scaled_.resize(static_cast<std::size_t>(dst_w_));
        acc_.assign(static_cast<std::size_t>(dst_w_), 0.0f);
        bits_.resize(page_width / 8);
    }

    void begin(int index, int total) {
        out_.begin_page(index, total);
        for (int y = 0; y < top_; ++y) emit_white();
    }

    // One source row, src_w grey values.
    void push_row(const std::uint8_t* grey) {
        check_deadline(deadline_);
        std::size_t w = 0;
        for (std::size_t x = 0; x < scaled_.size(); ++x) {
            float v = 0;
            for (std::uint32_t i = 0; i < count_[x]; ++i) v += weights_[w++] * grey[first_[x] + i];
            scaled_[x] = v;
        }
        // Vertical: output row y covers source [y * h / dst_h, (y + 1) * h / dst_h).
        const double r = src_row_++;
        while (out_row_ < dst_h_) {
            const double lo = static_cast<double>(src_h_) * out_row_ / dst_h_,
                         hi = static_cast<double>(src_h_) * (out_row_ + 1) / dst_h_;
            const double overlap = std::min(hi, r + 1) - std::max(lo, r);
            if (overlap > 0) {
                const auto k = static_cast<float>(overlap / (hi - lo));
                for (std::size_t x = 0; x < acc_.size(); ++x) acc_[x] += k * scaled_[x];
            }
            if (hi > r + 1 + 1e-9) break;  // the output row continues into the next source row
            emit_accumulated();
        }
    }

    void finish() {
        if (src_row_ != src_h_) throw Error(Errc::internal, "fax page: not every source row was supplied");
        while (out_row_ < dst_h_) emit_accumulated();  // only rounding can leave one behind
        for (int y = top_ + dst_h_; y < page_height; ++y) emit_white();
        out_.end_page();
    }

private:
    void emit_white() {
        std::fill(bits_.begin(), bits_.end(), std::uint8_t{0});
        out_.write_row(bits_.data());
        ++page_row_;
    }

    void emit_accumulated() {
        std::fill(bits_.begin(), bits_.end(), std::uint8_t{0});
        const auto& thresholds = bayer[static_cast<std::size_t>(page_row_ % 8)];
        for (int x = 0; x < dst_w_; ++x) {
            const float v = acc_[static_cast<std::size_t>(x)];
            const int px = left_ + x;
            const bool black =
                v < solid_black_below ||
                (v <= solid_white_above && v < (thresholds[static_cast<std::size_t>(px % 8)] + 0.5f) * (256.0f / 64));
            if (black) bits_[static_cast<std::size_t>(px / 8)] |= static_cast<std::uint8_t>(0x80 >> (px % 8));
        }
        out_.write_row(bits_.data());
        std::fill(acc_.begin(), acc_.end(), 0.0f);
        ++page_row_;
        ++out_row_;
    }

    FaxWriter& out_;
    std::uint32_t src_w_, src_h_;
    Clock::time_point deadline_;
    int dst_w_ = 0, dst_h_ = 0, left_ = 0, top_ = 0;
    std::vector<std::uint32_t> first_, count_;
    std::vector<float> weights_, scaled_, acc_;
    std::vector<std::uint8_t> bits_;
    std::uint32_t src_row_ = 0;
    int out_row_ = 0, page_row_ = 0;
};

void check_size(std::uint64_t w, std::uint64_t h) {
    if (w == 0 || h == 0) throw Error(Errc::invalid, "the image is empty");
    if (w > max_dimension || h > max_dimension || w * h > max_page_pixels) {
        throw Error(Errc::too_large, fmt::format("a {}x{} pixel image is too large to fax", w, h));
    }
}

// Physical height of a pixel relative to its width, from the horizontal and vertical density
// the file declares; 1 when it declares none or nonsense.
double pixel_aspect(double x_density, double y_density) {
    if (!(x_density > 0) || !(y_density > 0)) return 1;
    const double a = x_density / y_density;
    return a >= 0.1 && a <= 10 ? a : 1;
}

std::uint8_t luminance(unsigned r, unsigned g, unsigned b) {
    return static_cast<std::uint8_t>((299 * r + 587 * g + 114 * b + 500) / 1000);
}

// ---------------------------------------------------------------------------------------------
// TIFF input: every directory is a page, read through libtiff's RGBA interface (which handles
// every photometric, bit depth, planar layout and codec libtiff knows) one strip or row of
// tiles at a time.

struct RgbaImage {
    TIFFRGBAImage img{};
    bool begun = false;
    RgbaImage() = default;
    RgbaImage(const RgbaImage&) = delete;
    RgbaImage& operator=(const RgbaImage&) = delete;
    ~RgbaImage() {
        if (begun) TIFFRGBAImageEnd(&img);
    }
};

void tiff_page(TIFF* tif, const TiffMessages& messages, FaxWriter& out, int index, int total,
               Clock::time_point deadline) {
    const std::string what = fmt::format("TIFF page {}", index + 1);
    std::array<char, 1024> emsg{};
    if (!TIFFRGBAImageOK(tif, emsg.data())) {
        throw Error(Errc::unsupported_media, fmt::format("{} cannot be read: {}", what, emsg.data()));
    }
    RgbaImage rgba;
    // stoponerr = 1: otherwise a strip that fails to decode is silently left blank.
    if (!TIFFRGBAImageBegin(&rgba.img, tif, 1, emsg.data())) corrupt(what, emsg.data());
    rgba.begun = true;
    const std::uint32_t w = rgba.img.width, h = rgba.img.height;
    check_size(w, h);

    // The raster comes in file order (req_orientation = orientation: no flips by libtiff); the
    // flips are done here instead, so a band maps to known rows. The transposed orientations
    // (5-8, rare) are read as their untransposed counterparts, as libtiff itself does.
    rgba.img.req_orientation = rgba.img.orientation;
    const int o = rgba.img.orientation;
    const bool flip_h = o == ORIENTATION_TOPRIGHT || o == ORIENTATION_BOTRIGHT || o == ORIENTATION_RIGHTTOP ||
                        o == ORIENTATION_RIGHTBOT;
    const bool flip_v =
        o == ORIENTATION_BOTRIGHT || o == ORIENTATION_BOTLEFT || o == ORIENTATION_RIGHTBOT || o == ORIENTATION_LEFTBOT;

    // A band is one strip, or one row of tiles, so every strip is decoded exactly once.
    std::uint32_t band = 0;
    if (TIFFIsTiled(tif)) {
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &band);
    } else {
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &band);
    }
    band = std::clamp<std::uint32_t>(band, 1, h);
    if (std::uint64_t{band} * w > max_band_pixels) {
        throw Error(Errc::too_large, fmt::format("{} is stored in strips too large to convert", what));
    }

    float x_res = 0, y_res = 0;
    TIFFGetField(tif, TIFFTAG_XRESOLUTION, &x_res);
    TIFFGetField(tif, TIFFTAG_YRESOLUTION, &y_res);
    PageComposer page(out, w, h, pixel_aspect(x_res, y_res), deadline);
    page.begin(index, total);

    std::vector<std::uint32_t> raster(std::size_t{band} * w);
    std::vector<std::uint8_t> grey(w);
    const std::uint32_t bands = (h + band - 1) / band;
    for (std::uint32_t i = 0; i < bands; ++i) {
        const std::uint32_t b = flip_v ? bands - 1 - i : i;
        const std::uint32_t first = b * band, rows = std::min(band, h - first);
        rgba.img.row_offset = static_cast<int>(first);
        if (!TIFFRGBAImageGet(&rgba.img, raster.data(), w, rows) || !messages.first_error.empty()) {
            corrupt(what, messages.first_error.empty() ? "decoding failed" : messages.first_error);
        }
        for (std::uint32_t k = 0; k < rows; ++k) {
            const std::uint32_t* px = raster.data() + std::size_t{flip_v ? rows - 1 - k : k} * w;
            for (std::uint32_t x = 0; x < w; ++x) {
                const std::uint32_t p = px[flip_h ? w - 1 - x : x];
                // Transparent areas are shown on white paper.
                const unsigned a = TIFFGetA(p), white = 255 * (255 - a);
                grey[x] = luminance((TIFFGetR(p) * a + white) / 255, (TIFFGetG(p) * a + white) / 255,
                                    (TIFFGetB(p) * a + white) / 255);
            }
            page.push_row(grey.data());
        }
    }
    page.finish();
}

void convert_tiff(const fs::path& input, FaxWriter& out, Clock::time_point deadline) {
    TiffMessages messages;
    Tiff tif = open_tiff(input, "r", messages);
    if (!tif) corrupt("the TIFF file", messages.first_error.empty() ? "cannot open it" : messages.first_error);
    const int total = TIFFNumberOfDirectories(tif.get());
    if (!messages.first_error.empty()) corrupt("the TIFF file", messages.first_error);
    if (total < 1) corrupt("the TIFF file", "it has no pages");
    if (total > max_pages) throw Error(Errc::too_large, fmt::format("a fax may have at most {} pages", max_pages));
    for (int page = 0; page < total; ++page) {
        if (!TIFFSetDirectory(tif.get(), static_cast<tdir_t>(page)) || !messages.first_error.empty()) {
            corrupt("the TIFF file", messages.first_error.empty() ? "unreadable page directory" : messages.first_error);
        }
        tiff_page(tif.get(), messages, out, page, total, deadline);
    }
}

// ---------------------------------------------------------------------------------------------
// PNG input. libpng reports errors by longjmp. Each libpng call is made from a small function
// that calls setjmp first and has only trivially destructible locals, so the jump never skips
// a C++ destructor; the error text travels in the context and the C++ caller throws.

struct PngContext {
    png_structp png = nullptr;
    png_infop info = nullptr;
    std::FILE* file = nullptr;
    std::array<char, 256> message{};
    PngContext() = default;
    PngContext(const PngContext&) = delete;
    PngContext& operator=(const PngContext&) = delete;
    ~PngContext() {
        if (png) png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
        if (file) std::fclose(file);
    }
};

struct PngHeader {
    std::uint32_t width = 0, height = 0;
    int channels = 0;  // after the transformations: 1 (grey) or 2 (grey, alpha)
    int passes = 1;    // 7 when interlaced
    std::uint32_t x_density = 0, y_density = 0;
};

void on_png_error(png_structp png, png_const_charp message) {
    auto* ctx = static_cast<PngContext*>(png_get_error_ptr(png));
    std::snprintf(ctx->message.data(), ctx->message.size(), "%s", message);
    png_longjmp(png, 1);
}

void on_png_warning(png_structp, png_const_charp) {}

bool png_begin(PngContext* c, PngHeader* h) {
    if (setjmp(png_jmpbuf(c->png))) return false;
    png_init_io(c->png, c->file);
    png_set_user_limits(c->png, max_dimension, max_dimension);
    png_read_info(c->png, c->info);
    const int color_type = png_get_color_type(c->png, c->info);
    const int depth = png_get_bit_depth(c->png, c->info);
    // Everything becomes 8-bit grey, with an alpha channel when the image has transparency.
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
    if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(c->png);
    if (png_get_valid(c->png, c->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(c->png);
    if (depth == 16) png_set_strip_16(c->png);
    if (color_type & PNG_COLOR_MASK_COLOR) png_set_rgb_to_gray_fixed(c->png, 1, -1, -1);
    h->passes = png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);
    h->width = png_get_image_width(c->png, c->info);
    h->height = png_get_image_height(c->png, c->info);
    h->channels = png_get_channels(c->png, c->info);
    int unit = 0;
    png_get_pHYs(c->png, c->info, &h->x_density, &h->y_density, &unit);
    return true;
}

bool png_row(PngContext* c, png_bytep row) {
    if (setjmp(png_jmpbuf(c->png))) return false;
    png_read_row(c->png, row, nullptr);
    return true;
}

// Reads up to IEND, checking the CRCs of the chunks after the image data.
bool png_end(PngContext* c) {
    if (setjmp(png_jmpbuf(c->png))) return false;
    png_read_end(c->png, nullptr);
    return true;
}

void convert_png(const fs::path& input, FaxWriter& out, Clock::time_point deadline) {
    PngContext c;
    c.file = std::fopen(input.c_str(), "rb");
    if (!c.file) throw Error(Errc::internal, "cannot read " + input.string());
    c.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &c, on_png_error, on_png_warning);
    if (c.png) c.info = png_create_info_struct(c.png);
    if (!c.png || !c.info) throw Error(Errc::internal, "out of memory");
    auto fail = [&] { corrupt("the PNG file", c.message.data()); };

    PngHeader h;
    if (!png_begin(&c, &h)) fail();
    check_size(h.width, h.height);
    if (h.channels != 1 && h.channels != 2) throw Error(Errc::internal, "unexpected PNG layout after conversion");
    const std::size_t row_bytes = std::size_t{h.width} * static_cast<std::size_t>(h.channels);

    PageComposer page(out, h.width, h.height, pixel_aspect(h.x_density, h.y_density), deadline);
    page.begin(0, 1);
    std::vector<std::uint8_t> grey(h.width);
    auto push = [&](const std::uint8_t* row) {
        if (h.channels == 1) return page.push_row(row);
        for (std::uint32_t x = 0; x < h.width; ++x) {
            const unsigned v = row[2 * x], a = row[2 * x + 1];
            grey[x] = static_cast<std::uint8_t>((v * a + 255 * (255 - a)) / 255);
        }
        page.push_row(grey.data());
    };
    if (h.passes == 1) {
        std::vector<std::uint8_t> row(row_bytes);
        for (std::uint32_t y = 0; y < h.height; ++y) {
            if (!png_row(&c, row.data())) fail();
            push(row.data());
        }
    } else {
        // An interlaced image is only complete after the last pass: it has to be held whole.
        std::vector<std::uint8_t> image(row_bytes * h.height);
        for (int pass = 0; pass < h.passes; ++pass) {
            check_deadline(deadline);
            for (std::uint32_t y = 0; y < h.height; ++y) {
                if (!png_row(&c, image.data() + row_bytes * y)) fail();
            }
        }
        for (std::uint32_t y = 0; y < h.height; ++y) push(image.data() + row_bytes * y);
    }
    if (!png_end(&c)) fail();
    page.finish();
}

// ---------------------------------------------------------------------------------------------
// JPEG input. libjpeg's default error handler calls exit(); ours longjmps back to the small
// setjmp functions below (same rule as for libpng). A truncated JPEG is only a warning to
// libjpeg (it pads the missing data with grey), so those warnings are treated as errors.

struct JpegContext {
    jpeg_decompress_struct cinfo{};
    jpeg_error_mgr err{};
    std::jmp_buf jump{};
    std::array<char, JMSG_LENGTH_MAX> message{};
    bool created = false;
    std::FILE* file = nullptr;
    JpegContext() = default;
    JpegContext(const JpegContext&) = delete;
    JpegContext& operator=(const JpegContext&) = delete;
    ~JpegContext() {
        if (created) jpeg_destroy_decompress(&cinfo);
        if (file) std::fclose(file);
    }
};

void on_jpeg_error(j_common_ptr cinfo) {
    auto* ctx = static_cast<JpegContext*>(cinfo->client_data);
    cinfo->err->format_message(cinfo, ctx->message.data());
    std::longjmp(ctx->jump, 1);
}

bool fatal_jpeg_warning(int code) {
    switch (code) {
        case JWRN_JPEG_EOF:       // premature end of file
        case JWRN_HIT_MARKER:     // premature end of a data segment
        case JWRN_HUFF_BAD_CODE:  // corrupt entropy-coded data
        case JWRN_MUST_RESYNC:
        case JWRN_NOT_SEQUENTIAL:
            return true;
        default:
            return false;
    }
}

void on_jpeg_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    ++cinfo->err->num_warnings;
    auto* ctx = static_cast<JpegContext*>(cinfo->client_data);
    if (fatal_jpeg_warning(cinfo->err->msg_code) && ctx->message[0] == '\0') {
        cinfo->err->format_message(cinfo, ctx->message.data());
    }
}

bool jpeg_begin(JpegContext* c) {
    if (setjmp(c->jump)) return false;
    c->cinfo.err = jpeg_std_error(&c->err);
    c->err.error_exit = on_jpeg_error;
    c->err.emit_message = on_jpeg_message;
    jpeg_create_decompress(&c->cinfo);
    c->cinfo.client_data = c;
    c->created = true;
    jpeg_stdio_src(&c->cinfo, c->file);
    jpeg_read_header(&c->cinfo, TRUE);
    // libjpeg converts YCbCr and RGB to grey itself, but not CMYK/YCCK (done below).
    const bool cmyk = c->cinfo.jpeg_color_space == JCS_CMYK || c->cinfo.jpeg_color_space == JCS_YCCK;
    c->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE;
    jpeg_start_decompress(&c->cinfo);
    return true;
}

bool jpeg_row(JpegContext* c, JSAMPROW row) {
    if (setjmp(c->jump)) return false;
    return jpeg_read_scanlines(&c->cinfo, &row, 1) == 1;
}

bool jpeg_end(JpegContext* c) {
    if (setjmp(c->jump)) return false;
    jpeg_finish_decompress(&c->cinfo);
    return true;
}

void convert_jpeg(const fs::path& input, FaxWriter& out, Clock::time_point deadline) {
    JpegContext c;
    c.file = std::fopen(input.c_str(), "rb");
    if (!c.file) throw Error(Errc::internal, "cannot read " + input.string());
    auto fail = [&] { corrupt("the JPEG file", c.message[0] ? c.message.data() : "decoding failed"); };
    auto check = [&](bool ok) {
        if (!ok || c.message[0]) fail();
    };

    check(jpeg_begin(&c));
    const jpeg_decompress_struct& ci = c.cinfo;
    check_size(ci.output_width, ci.output_height);
    const bool cmyk = ci.out_color_space == JCS_CMYK;
    // Adobe writes CMYK JPEGs inverted (0 = full ink); others are taken as plain CMYK.
    const bool inverted = ci.saw_Adobe_marker;
    const double aspect = ci.saw_JFIF_marker ? pixel_aspect(ci.X_density, ci.Y_density) : 1;

    PageComposer page(out, ci.output_width, ci.output_height, aspect, deadline);
    page.begin(0, 1);
    std::vector<JSAMPLE> row(std::size_t{ci.output_width} * static_cast<std::size_t>(ci.output_components));
    std::vector<std::uint8_t> grey(ci.output_width);
    for (JDIMENSION y = 0; y < ci.output_height; ++y) {
        check(jpeg_row(&c, row.data()));
        if (!cmyk) {
            page.push_row(row.data());
            continue;
        }
        for (JDIMENSION x = 0; x < ci.output_width; ++x) {
            std::array<unsigned, 4> ink{};
            for (std::size_t i = 0; i < 4; ++i) {
                const unsigned v = row[4 * std::size_t{x} + i];
                ink[i] = inverted ? 255 - v : v;
            }
            const unsigned k = 255 - ink[3];
            grey[x] = luminance((255 - ink[0]) * k / 255, (255 - ink[1]) * k / 255, (255 - ink[2]) * k / 255);
        }
        page.push_row(grey.data());
    }
    check(jpeg_end(&c));
    page.finish();
}

// ---------------------------------------------------------------------------------------------

// A program's stderr, its lines joined and cut short, for an error message.
std::string summary(const std::string& text) {
    constexpr std::size_t max_length = 300;
    std::string out;
    std::size_t start = 0;
    while (start < text.size() && out.size() < max_length) {
        const auto end = std::min(text.find('\n', start), text.size());
        const auto first = text.find_first_not_of(" \t\r", start);
        if (first < end) {
            if (!out.empty()) out += "; ";
            out.append(text, first, end - first);
        }
        start = end + 1;
    }
    if (out.size() > max_length) out.resize(max_length);
    return out.empty() ? "no message" : out;
}

// Ghostscript repairs what it can of a damaged PDF and still exits with 0; it then lists the
// problems on stderr. A repaired file may be missing pages or objects, so it is refused.
bool ghostscript_reported_errors(const std::string& text) {
    return text.find("The following errors were encountered") != std::string::npos ||
           text.find("had errors that were repaired") != std::string::npos ||
           text.find("**** Error") != std::string::npos;
}

std::string escape_percent(const std::string& path) {
    std::string out;
    for (const char ch : path) {
        out += ch;
        if (ch == '%') out += '%';  // OutputFile is a format: %d would become the page number
    }
    return out;
}

std::chrono::seconds remaining(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - Clock::now());
    return std::max(left, std::chrono::seconds{1});
}

void convert_pdf(const fs::path& input, const fs::path& fax_tiff, Clock::time_point deadline) {
    // Not -q: that would also silence the list of repaired errors checked below.
    const std::vector<std::string> argv = {
        "gs",
        "-dSAFER",
        "-dBATCH",
        "-dNOPAUSE",
        "-dNOINTERPOLATE",
        "-sDEVICE=tiffg4",
        fmt::format("-r{}x{}", fax_x_dpi, fax_y_dpi),
        fmt::format("-g{}x{}", page_width, page_height),
        "-dFIXEDMEDIA",
        "-dPDFFitPage",  // scale each page to the fixed fax page, keeping its aspect, centred
        "-sOutputFile=" + escape_percent(absolute_arg(fax_tiff)),
        "-f",
        absolute_arg(input),
    };
    std::string errors;
    const int status = run_program(argv, remaining(deadline), &errors);
    if (status != 0 || ghostscript_reported_errors(errors)) {
        corrupt("the PDF file", fmt::format("Ghostscript exit status {}: {}", status, summary(errors)));
    }
}

}  // namespace

FaxInfo inspect_fax_tiff(const fs::path& tiff) {
    TiffMessages messages;
    Tiff tif = open_tiff(tiff, "r", messages);
    if (!tif)
        throw Error(Errc::invalid, fmt::format("{} is not a readable TIFF: {}", tiff.string(), messages.first_error));
    FaxInfo info;
    info.pages = TIFFNumberOfDirectories(tif.get());
    if (!TIFFSetDirectory(tif.get(), 0)) throw Error(Errc::invalid, tiff.string() + " has no readable page");
    std::uint32_t width = 0;
    float x_res = 0, y_res = 0;
    TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
    TIFFGetField(tif.get(), TIFFTAG_XRESOLUTION, &x_res);
    TIFFGetField(tif.get(), TIFFTAG_YRESOLUTION, &y_res);
    info.width = static_cast<int>(width);
    info.x_resolution = x_res;
    info.y_resolution = y_res;
    return info;
}

FaxInfo convert_to_fax(const fs::path& input, std::string_view extension, const fs::path& fax_tiff,
                       const fs::path& pdf) {
    const auto deadline = Clock::now() + conversion_limit;

    std::array<char, 16> head{};
    std::ifstream in(input, std::ios::binary);
    if (!in) throw Error(Errc::internal, "cannot read " + input.string());
    in.read(head.data(), head.size());
    const auto format = sniff(std::string_view(head.data(), static_cast<std::size_t>(in.gcount()))).extension;
    in.close();

    if (format == "pdf") {
        convert_pdf(input, fax_tiff, deadline);
    } else if (format == "tif" || format == "png" || format == "jpg") {
        {
            FaxWriter out(fax_tiff);
            if (format == "tif") convert_tiff(input, out, deadline);
            if (format == "png") convert_png(input, out, deadline);
            if (format == "jpg") convert_jpeg(input, out, deadline);
            out.close();
        }
        std::string errors;
        const std::vector<std::string> argv = {"tiff2pdf", "-o", absolute_arg(pdf), absolute_arg(fax_tiff)};
        if (const int status = run_program(argv, remaining(deadline), &errors); status != 0) {
            throw Error(Errc::internal, fmt::format("tiff2pdf failed with status {}: {}", status, summary(errors)));
        }
    } else if (extension == "pdf" || extension == "tif" || extension == "png" || extension == "jpg") {
        corrupt(fmt::format("the {} file", extension), "its content is not of that type");
    } else {
        throw Error(Errc::unsupported_media, "a fax document must be a PDF, TIFF, PNG or JPEG file");
    }

    const FaxInfo info = inspect_fax_tiff(fax_tiff);
    if (info.pages < 1) corrupt("the document", "it has no pages");
    return info;
}

}  // namespace ictcore::media

// Media round trips over HTTP with files written by real encoders: a PNG (libpng) becomes a
// one-page fax document with a PDF to download; an MP3 (libsndfile with LAME) becomes a
// telephony WAV of the same length.
#include "helpers.hpp"

#include <png.h>
#include <sndfile.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>

#include <unistd.h>

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::string temp_path(const char* suffix) {
    return (std::filesystem::temp_directory_path() / ("ictcore-http-media-" + std::to_string(::getpid()) + suffix))
        .string();
}

// An 800x600 RGB PNG: white with a black box.
std::string make_png() {
    const std::string path = temp_path(".png");
    FILE* f = std::fopen(path.c_str(), "wb");
    REQUIRE(f != nullptr);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, f);
    png_set_IHDR(png, info, 800, 600, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    std::vector<png_byte> row(800 * 3);
    for (int y = 0; y < 600; ++y) {
        for (int x = 0; x < 800; ++x) {
            const bool box = x >= 200 && x < 600 && y >= 150 && y < 450;
            for (int c = 0; c < 3; ++c) row[static_cast<std::size_t>(x * 3 + c)] = box ? 0 : 255;
        }
        png_write_row(png, row.data());
    }
    png_write_end(png, nullptr);
    png_destroy_write_struct(&png, &info);
    std::fclose(f);
    std::string bytes = slurp(path);
    std::remove(path.c_str());
    return bytes;
}

// A 3-second 44.1 kHz stereo MP3 of a 440 Hz tone; empty when this libsndfile cannot write MP3.
std::string make_mp3() {
    const std::string path = temp_path(".mp3");
    SF_INFO info{};
    info.samplerate = 44100;
    info.channels = 2;
    info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
    if (f == nullptr) return {};
    std::vector<short> frames(44100 * 2);
    for (int second = 0; second < 3; ++second) {
        for (int i = 0; i < 44100; ++i) {
            const auto s = static_cast<short>(9000 * std::sin(2 * M_PI * 440.0 * (second * 44100 + i) / 44100));
            frames[static_cast<std::size_t>(2 * i)] = s;
            frames[static_cast<std::size_t>(2 * i + 1)] = s;
        }
        sf_writef_short(f, frames.data(), 44100);
    }
    sf_close(f);
    std::string bytes = slurp(path);
    std::remove(path.c_str());
    return bytes;
}

}  // namespace

TEST_CASE("a PNG becomes a one-page fax document with a PDF to download") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t id =
        created_id(admin.post("/messages/documents", json::object{{"name", "scan"}}), "document_id");
    const std::string item = "/messages/documents/" + std::to_string(id);
    const std::string png = make_png();
    REQUIRE(png.substr(1, 3) == "PNG");
    REQUIRE_STATUS(admin.put_raw(item + "/media", png, "image/png"), 200);
    json::object d = as_object(admin.get(item));
    CHECK(str_field(d, "type") == "png");
    CHECK(int_field(d, "pages") == 1);
    CHECK(int_field(d, "size_x") == 1728);
    Response r = admin.get(item + "/media");
    REQUIRE_STATUS(r, 200);
    CHECK(contains_ci(r.header("Content-Type").value_or(""), "application/pdf"));
    CHECK(r.body.substr(0, 5) == "%PDF-");
    check_error(admin.put_raw(item + "/media", png.substr(0, png.size() / 2), "image/png"), 412);
    CHECK(int_field(as_object(admin.get(item)), "pages") == 1);
}

TEST_CASE("an MP3 becomes a telephony WAV of the same length") {
    const std::string mp3 = make_mp3();
    if (mp3.empty()) {
        MESSAGE("this libsndfile cannot write MP3; the MP3 upload is not tested here");
        return;
    }
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t id =
        created_id(admin.post("/messages/recordings", json::object{{"name", "tone"}}), "recording_id");
    const std::string item = "/messages/recordings/" + std::to_string(id);
    REQUIRE_STATUS(admin.put_raw(item + "/media", mp3, "audio/mpeg"), 200);
    json::object rec = as_object(admin.get(item));
    CHECK(str_field(rec, "type") == "mp3");
    CHECK(member(rec, "length").to_number<double>() == doctest::Approx(3.0).epsilon(0.05));
    Response r = admin.get(item + "/media");
    REQUIRE_STATUS(r, 200);
    CHECK(r.body.substr(0, 4) == "RIFF");
    CHECK(static_cast<double>(r.body.size() - 44) / 16000.0 == doctest::Approx(3.0).epsilon(0.05));
}

// Message media over HTTP: template attachments and recordings (WAV written by the test,
// converted by the server to 8 kHz mono 16-bit PCM), and every bad-upload case.
#include "helpers.hpp"

#include <cmath>
#include <cstring>

namespace {

void put_le(std::string& out, std::uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xFF);
}

// A 16-bit PCM WAV with a 440 Hz tone.
std::string make_wav(int rate, int channels, double seconds) {
    const auto frames = static_cast<std::uint32_t>(rate * seconds);
    const std::uint32_t data_bytes = frames * static_cast<std::uint32_t>(channels) * 2;
    std::string w = "RIFF";
    put_le(w, 36 + data_bytes, 4);
    w += "WAVEfmt ";
    put_le(w, 16, 4);
    put_le(w, 1, 2);  // PCM
    put_le(w, static_cast<std::uint32_t>(channels), 2);
    put_le(w, static_cast<std::uint32_t>(rate), 4);
    put_le(w, static_cast<std::uint32_t>(rate * channels * 2), 4);
    put_le(w, static_cast<std::uint32_t>(channels * 2), 2);
    put_le(w, 16, 2);
    w += "data";
    put_le(w, data_bytes, 4);
    for (std::uint32_t i = 0; i < frames; ++i) {
        const auto s = static_cast<std::int16_t>(12000 * std::sin(2 * M_PI * 440.0 * i / rate));
        for (int c = 0; c < channels; ++c) put_le(w, static_cast<std::uint16_t>(s), 2);
    }
    return w;
}

std::uint32_t le(const std::string& s, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
    return v;
}

}  // namespace

TEST_CASE("template attachments: any content, name and type kept, removed with the template") {
    ServerProcess server;
    Client admin = admin_client(server);
    const std::int64_t id = created_id(
        admin.post("/messages/templates", json::object{{"name", "t"}, {"subject", "s"}, {"body", "<p>b</p>"}}),
        "template_id");
    const std::string media = "/messages/templates/" + std::to_string(id) + "/media";
    check_error(admin.get(media), 404);  // nothing uploaded yet

    const std::string bytes = std::string("%PDF-1.4\n") + std::string(3000, 'x') + "\n%%EOF\n";
    Response r = admin.request("PUT", media, bytes, "application/pdf",
                               {{"Content-Disposition", "attachment; filename=\"../../etc/Price list.pdf\""}});
    REQUIRE_STATUS(r, 200);
    CHECK(int_field(as_object(r), "template_id") == id);
    json::object t = as_object(admin.get("/messages/templates/" + std::to_string(id)));
    CHECK(str_field(t, "type") == "pdf");
    CHECK(str_field(t, "attachment") == "Price list.pdf");  // path parts dropped
    CHECK(str_field(t, "attachment_type") == "application/pdf");

    r = admin.get(media);
    REQUIRE_STATUS(r, 200);
    CHECK(r.body == bytes);
    CHECK(contains_ci(r.header("Content-Type").value_or(""), "application/pdf"));
    CHECK(contains_ci(r.header("Content-Disposition").value_or(""), "Price list.pdf"));

    check_error(admin.put_raw(media, "", "text/plain"), 411);
    CHECK(admin.get(media).body == bytes);  // unchanged by the refusal

    REQUIRE(is_true(admin.del("/messages/templates/" + std::to_string(id))));
    check_error(admin.get(media), 404);
}

TEST_CASE("recordings: WAV converted to telephony format; bad uploads refused, nothing stored") {
    ServerProcess server(with_args({"--max-media", "400000"}));
    Client admin = admin_client(server);
    create_user(admin, "eve", "eve-password");
    Client eve = client_as(server, "eve", "eve-password");
    const std::int64_t id =
        created_id(admin.post("/messages/recordings", json::object{{"name", "welcome"}}), "recording_id");
    const std::string item = "/messages/recordings/" + std::to_string(id);
    const std::string media = item + "/media";
    check_error(admin.get(media), 404);

    // 44.1 kHz stereo, 2 s: 352,844 bytes, under the 400,000-byte limit.
    const std::string wav = make_wav(44100, 2, 2.0);
    Response r = admin.put_raw(media, wav, "audio/wav");
    REQUIRE_STATUS(r, 200);
    json::object rec = as_object(admin.get(item));
    CHECK(str_field(rec, "type") == "wav");
    CHECK(std::fabs(member(rec, "length").to_number<double>() - 2.0) < 0.02);

    r = admin.get(media);
    REQUIRE_STATUS(r, 200);
    CHECK(contains_ci(r.header("Content-Type").value_or(""), "audio/wav"));
    REQUIRE(r.body.size() > 44);
    CHECK(r.body.substr(0, 4) == "RIFF");
    CHECK(le(r.body, 20, 2) == 1);     // PCM
    CHECK(le(r.body, 22, 2) == 1);     // mono
    CHECK(le(r.body, 24, 4) == 8000);  // 8 kHz
    CHECK(le(r.body, 34, 2) == 16);    // 16-bit
    const double seconds = static_cast<double>(r.body.size() - 44) / (8000 * 2);
    CHECK(std::fabs(seconds - 2.0) < 0.05);

    check_error(eve.put_raw(media, wav, "audio/wav"), 404);  // not hers
    check_error(eve.get(media), 404);

    // Refusals leave the stored recording as it was.
    check_error(admin.put_raw(media, "", "audio/wav"), 411);
    check_error(admin.put_raw(media, make_wav(44100, 2, 3.0), "audio/wav"), 413);
    check_error(admin.put_raw(media, std::string(1000, 'z'), "audio/wav"), 415);
    check_error(admin.put_raw(media, wav, "image/png"), 415);                            // declared type disagrees
    check_error(admin.put_raw(media, wav.substr(0, wav.size() / 2), "audio/wav"), 412);  // truncated
    rec = as_object(admin.get(item));
    CHECK(std::fabs(member(rec, "length").to_number<double>() - 2.0) < 0.02);
    CHECK(admin.get(media).body == r.body);

    // 8 kHz mono in, same format out.
    REQUIRE_STATUS(admin.put_raw(media, make_wav(8000, 1, 1.5), "application/octet-stream"), 200);
    rec = as_object(admin.get(item));
    CHECK(std::fabs(member(rec, "length").to_number<double>() - 1.5) < 0.02);

    REQUIRE(is_true(admin.del(item)));
    check_error(admin.get(media), 404);
}

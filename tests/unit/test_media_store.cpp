// Content sniffing, atomic media files, and template attachments through Core.
#include "media/media_store.hpp"
#include "media/sniff.hpp"
#include "temp_dir.hpp"

#include <ictcore/ictcore.hpp>

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

using namespace ictcore;

namespace {
std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
}  // namespace

TEST_CASE("media types are recognised by their bytes") {
    using namespace std::string_view_literals;
    CHECK(media::sniff("%PDF-1.7\n...").extension == "pdf");
    CHECK(media::sniff("II*\0rest"sv).extension == "tif");
    CHECK(media::sniff("MM\0*rest"sv).extension == "tif");
    CHECK(media::sniff("\x89PNG\r\n\x1a\nIHDR"sv).extension == "png");
    CHECK(media::sniff("\xFF\xD8\xFF\xE0JFIF"sv).extension == "jpg");
    CHECK(media::sniff("RIFF\x24\0\0\0WAVEfmt "sv).extension == "wav");
    CHECK(media::sniff("RIFF\x24\0\0\0AVI LIST"sv).extension.empty());
    CHECK(media::sniff("ID3\x04\0"sv).extension == "mp3");
    CHECK(media::sniff("\xFF\xFB\x90\x64"sv).extension == "mp3");
    CHECK(media::sniff("\xFF\xFD\x90\x64"sv).extension.empty());  // layer II, not III
    CHECK(media::sniff("hello").extension.empty());
    CHECK(media::sniff("").content_type.empty());
}

TEST_CASE("media files are committed atomically and removed per message") {
    test::TempDir dir;
    media::MediaStore store(dir.path());
    {
        auto t = store.write_temp("kind", "first");
        store.commit(t, "kind", 7, "orig");
    }
    CHECK(slurp(store.path("kind", 7, "orig")) == "first");
    std::filesystem::path abandoned;
    {
        auto t = store.write_temp("kind", "second");
        abandoned = t.path();
        CHECK(std::filesystem::exists(abandoned));
    }  // never committed: the temporary file goes, the stored one stays
    CHECK_FALSE(std::filesystem::exists(abandoned));
    CHECK(slurp(store.path("kind", 7, "orig")) == "first");
    auto t = store.write_temp("kind", "other");
    store.commit(t, "kind", 70, "orig");
    store.remove_all("kind", 7);
    CHECK_FALSE(std::filesystem::exists(store.path("kind", 7, "orig")));
    CHECK(slurp(store.path("kind", 70, "orig")) == "other");  // 70 is not 7
}

TEST_CASE("template attachments through Core") {
    test::TempDir dir;
    Options o;
    o.data_dir = dir.path() / "data";
    o.admin_password = "admin-password";
    o.password_cost = PasswordCost::minimal;
    o.max_media_bytes = 1000;
    Core core(o);
    auto admin = core.auth().from_password("admin", "admin-password");
    Template t;
    t.name = "n";
    t.subject = "s";
    t.body = "b";
    const auto id = core.templates().create(admin, t);
    auto code_of = [](auto&& f) {
        try {
            f();
        } catch (const Error& e) {
            return e.code();
        }
        return Errc::internal;
    };
    CHECK(code_of([&] { core.templates().media(admin, id); }) == Errc::not_found);
    CHECK(code_of([&] {
              core.templates().put_media(admin, id, {"", "text/plain", "a.txt"});
          }) == Errc::length_required);
    CHECK(code_of([&] { core.templates().put_media(admin, id, {std::string(1001, 'x'), "", ""}); }) == Errc::too_large);
    CHECK(code_of([&] { core.templates().put_media(admin, id + 1, {"x", "", ""}); }) == Errc::not_found);

    auto stored = core.templates().put_media(admin, id, {"\x89PNG\r\n\x1a\n....", "", ""});
    CHECK(stored.type == "png");
    CHECK(stored.attachment == "attachment.png");
    CHECK(stored.attachment_type == "image/png");
    const auto file = core.templates().media(admin, id);
    CHECK(file.size == 12);
    CHECK(slurp(file.path) == "\x89PNG\r\n\x1a\n....");
    CHECK(file.path.parent_path() == o.data_dir / "media" / "templates");
    core.templates().remove(admin, id);
    CHECK_FALSE(std::filesystem::exists(file.path));

    // Deleting a user removes the media of its messages with its rows.
    User bob;
    bob.username = "bob";
    bob.passwd = "bob-password";
    const auto bob_id = core.users().create(admin, bob);
    auto as_bob = core.auth().from_password("bob", "bob-password");
    const auto bobs = core.templates().create(as_bob, t);
    const auto kept = core.templates().create(admin, t);
    core.templates().put_media(as_bob, bobs, {"bob's file", "text/plain", "b.txt"});
    core.templates().put_media(admin, kept, {"admin's file", "text/plain", "a.txt"});
    const auto bobs_file = core.templates().media(as_bob, bobs).path;
    core.users().remove(admin, bob_id);
    CHECK_FALSE(std::filesystem::exists(bobs_file));
    CHECK(slurp(core.templates().media(admin, kept).path) == "admin's file");
    CHECK(code_of([&] { core.templates().get(admin, bobs); }) == Errc::not_found);
}

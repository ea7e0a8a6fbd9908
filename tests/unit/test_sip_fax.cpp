// Fax end to end over SIP on loopback: ictcore `sendfax` calls ictcore `receivefax` (one Core
// whose SIP provider points at its own listening address), over G.711 audio and over T.38 after
// a re-INVITE. The received document must match the sent one pixel for pixel (`tiffcmp -t`),
// and both ends record what T.30 reported. A fax takes real line time: one short page each.
#include "core_options.hpp"
#include "fax_pages.hpp"
#include "temp_dir.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <thread>

namespace {

using namespace ictcore;
using namespace std::chrono_literals;

int free_udp_port() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t n = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &n);
    ::close(fd);
    return ntohs(a.sin_port);
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

struct FaxLoop {
    test::TempDir dir;
    std::unique_ptr<Core> core;
    Principal admin;
    Principal receiver;
    std::int64_t sendfax = 0;
    std::filesystem::path sent_tiff;
    static constexpr const char* fax_number = "15550001111";

    enum class Mode { audio, t38, t38_refused };

    explicit FaxLoop(Mode mode) {
        auto o = test::core_options(dir);
        o.seed_loopback_providers = false;
        core = std::make_unique<Core>(o);
        admin = core->auth().from_password("admin", *o.admin_password);
        const int port = free_udp_port();
        // One provider both places the call and listens for it: the call comes back to us.
        Provider p;
        p.name = "loop";
        p.type = "sip";
        p.service_flag = service::fax;
        p.username = "ictcore";
        p.host = "127.0.0.1";
        p.port = port;
        p.settings = fmt::format(R"({{"listen": "127.0.0.1:{}", "t38": {}, "station_id": "+1 555 0100"}})", port,
                                 mode == Mode::t38);
        if (mode == Mode::t38_refused) {
            // The listener (a voice provider, never picked for fax) does not take T.38; the fax
            // goes out through a second provider that asks for it.
            p.service_flag = service::voice;
            core->providers().create(admin, p);
            p.name = "asks for T.38";
            p.service_flag = service::fax;
            p.settings = R"({"listen": "127.0.0.1:0", "t38": true})";
        }
        core->providers().create(admin, p);

        User u;
        u.username = "faxdesk";
        u.passwd = "faxdesk-password";
        u.phone = fax_number;
        core->users().create(admin, u);
        receiver = core->auth().from_password("faxdesk", "faxdesk-password");
        Program receive;
        receive.name = "fax in";
        core->programs().create(receiver, "receivefax", receive);

        const auto pages = dir.path() / "pages.tif";
        test::write_fax_tiff(pages, 1, 300, 7);
        Document d;
        d.name = "one page";
        const auto document_id = core->documents().create(admin, d);
        const auto bytes = read_file(pages);
        core->documents().put_media(admin, document_id, Upload{bytes, "image/tiff", "pages.tif"});
        sent_tiff = core->documents().fax_tiff(admin, document_id).path;
        Program send;
        send.name = "fax out";
        send.document_id = document_id;
        sendfax = core->programs().create(admin, "sendfax", send);
    }

    std::int64_t send() {
        Contact c;
        c.first_name = "Fax desk";
        c.phone = fax_number;
        Transmission t;
        t.contact_id = core->contacts().create(admin, c);
        t.program_id = sendfax;
        const auto id = core->transmissions().create(admin, t);
        core->transmissions().send(admin, id);
        return id;
    }

    Transmission await_end(const Principal& who, std::int64_t id, std::chrono::seconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (;;) {
            auto t = core->transmissions().get(who, id);
            if (t.status == "completed" || t.status == "failed" || t.status == "invalid") return t;
            if (std::chrono::steady_clock::now() > deadline) return t;
            std::this_thread::sleep_for(100ms);
        }
    }

    std::map<std::string, std::string> info(const Principal& who, std::int64_t id) {
        std::map<std::string, std::string> out;
        for (const auto& r : core->transmissions().result(who, id)) out[r.name] = r.data;
        return out;
    }

    // The receiver's inbound transmission, once recorded.
    std::optional<Transmission> received(std::chrono::seconds within) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        while (std::chrono::steady_clock::now() < deadline) {
            for (const auto& t : core->transmissions().list(receiver, {}).all())
                if (t.direction == "inbound") return t;
            std::this_thread::sleep_for(100ms);
        }
        return std::nullopt;
    }

    void check_delivered(std::int64_t id, const char* transport) {
        const auto sent = await_end(admin, id, 150s);
        CHECK(sent.status == "completed");
        auto out = info(admin, id);
        CHECK(out["pages"] == "1");
        CHECK(out["transport"] == transport);
        CHECK(out["t30"] == "OK");
        CHECK(out["remote_id"] == "+1 555 0100");
        CHECK(std::stoi(out["bit_rate"]) >= 9600);
        CHECK(out["ecm"] == "1");

        const auto in = received(30s);
        REQUIRE(in);
        CHECK(in->status == "completed");
        auto got = info(receiver, in->transmission_id);
        CHECK(got["pages"] == "1");
        CHECK(got["transport"] == transport);
        REQUIRE(got.contains("document_id"));
        const auto received_tiff = core->documents().fax_tiff(receiver, std::stoll(got["document_id"])).path;
        CHECK(test::tiffcmp(sent_tiff, received_tiff) == 0);
    }
};

}  // namespace

TEST_CASE("sip fax: sendfax to receivefax over G.711 arrives pixel for pixel") {
    FaxLoop loop(FaxLoop::Mode::audio);
    loop.check_delivered(loop.send(), "audio");
}

TEST_CASE("sip fax: over T.38 after a re-INVITE, pixel for pixel") {
    FaxLoop loop(FaxLoop::Mode::t38);
    loop.check_delivered(loop.send(), "t38");
}

TEST_CASE("sip fax: a receiver that declines T.38 gets the fax over G.711 instead") {
    FaxLoop loop(FaxLoop::Mode::t38_refused);
    loop.check_delivered(loop.send(), "audio");
}

TEST_CASE("sip fax: a call to a number nobody receives faxes on is refused with 404") {
    FaxLoop loop(FaxLoop::Mode::audio);
    Contact c;
    c.first_name = "Nobody";
    c.phone = "15559990000";
    Transmission t;
    t.contact_id = loop.core->contacts().create(loop.admin, c);
    t.program_id = loop.sendfax;
    const auto id = loop.core->transmissions().create(loop.admin, t);
    loop.core->transmissions().send(loop.admin, id);
    const auto done = loop.await_end(loop.admin, id, 20s);
    CHECK(done.status == "failed");
    CHECK(done.response.value_or("").find("404") != std::string::npos);
    CHECK(done.try_done == 1);
    CHECK_FALSE(loop.received(1s));
}

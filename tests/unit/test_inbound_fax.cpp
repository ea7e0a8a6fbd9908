// Inbound fax (Inbound::fax_account, Inbound::receive_fax) through a real Core: the input is
// what a real T.30 exchange leaves behind — a FaxSession sender and receiver back to back over
// an in-memory G.711 line, the receiver writing the TIFF as spandsp does (Group 3). Checks the
// account match, the document and transmission made of it, failures, ownership, and
// faxtoemail's e-mail as it arrives at a real SMTP server (tests/rigs/smtp_rig.py), read back
// with Python's e-mail parser.
#include "core_options.hpp"
#include "fax/fax_session.hpp"
#include "fax_pages.hpp"
#include "media/fax.hpp"
#include "rig_process.hpp"
#include "temp_dir.hpp"
#include "test_gateway.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <spandsp.h>
#include <tiffio.h>
#include <boost/json/parse.hpp>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace ictcore;

namespace {

using fax::FaxSession;
using test::code_of;

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// One direction of a G.711 µ-law line, 20 ms.
void line(FaxSession& from, FaxSession& to) {
    std::int16_t pcm[160];
    from.transmit_audio(pcm);
    for (auto& sample : pcm) sample = ulaw_to_linear(linear_to_ulaw(sample));
    to.receive_audio(pcm);
}

// A fax received once per test run (a T.30 exchange costs a second or two of CPU), copied for
// each call since receive_fax consumes its file.
struct Received {
    test::TempDir dir;
    std::filesystem::path tiff = dir.path() / "received.tif";
    fax::FaxOutcome outcome;
    bool finished = false;

    Received() {
        const auto sent = dir.path() / "sent.tif";
        test::write_fax_tiff(sent, 2, 300, 0);
        FaxSession::Config send;
        send.role = FaxSession::Role::send;
        send.calling = true;
        send.tiff = sent;
        send.station_id = "+44 20 7946 0000";
        FaxSession::Config receive;
        receive.role = FaxSession::Role::receive;
        receive.calling = false;
        receive.tiff = tiff;
        receive.station_id = "ICTCORE";
        FaxSession sender(send);
        FaxSession receiver(receive);
        for (long frame = 0; frame < 50L * 60 * 5 && !(sender.finished() && receiver.finished()); ++frame) {
            line(sender, receiver);
            line(receiver, sender);
        }
        finished = sender.finished() && receiver.finished();
        if (finished) outcome = receiver.outcome();
    }

    // A fresh copy of the received TIFF and what the gateway would report with it.
    InboundFax call(const std::filesystem::path& where, std::string from, std::string to) const {
        std::filesystem::copy_file(tiff, where, std::filesystem::copy_options::overwrite_existing);
        InboundFax f;
        f.from = std::move(from);
        f.to = std::move(to);
        f.tiff = where;
        f.success = outcome.success;
        f.pages = outcome.pages;
        f.remote_id = outcome.remote_id;
        f.bit_rate = outcome.bit_rate;
        f.ecm = outcome.ecm;
        f.t30_text = outcome.text;
        f.transport = "audio";
        return f;
    }
};

// The compression of a TIFF's first page.
int compression_of(const std::filesystem::path& tiff) {
    TIFF* t = TIFFOpen(tiff.c_str(), "r");
    REQUIRE(t);
    std::uint16_t compression = 0;
    TIFFGetField(t, TIFFTAG_COMPRESSION, &compression);
    TIFFClose(t);
    return compression;
}

const Received& received() {
    static const Received r;
    REQUIRE(r.finished);
    REQUIRE(r.outcome.success);
    REQUIRE(r.outcome.pages == 2);
    // What the gateway hands over is spandsp's own file: Group 3, not the Group 4 we sent.
    REQUIRE(compression_of(r.tiff) == COMPRESSION_CCITTFAX3);
    return r;
}

struct Env {
    test::TempDir dir;
    Options options;
    std::unique_ptr<Core> core;
    Principal admin;

    explicit Env(std::function<void(Options&)> adjust = {}) : options(test::core_options(dir)) {
        if (adjust) adjust(options);
        core = std::make_unique<Core>(options);
        admin = core->auth().from_password("admin", "admin-password");
    }
    Principal user(const std::string& name, std::optional<std::string> phone, std::optional<std::string> email) {
        User u;
        u.username = name;
        u.passwd = name + "-password";
        u.phone = std::move(phone);
        u.email = std::move(email);
        core->users().create(admin, u);
        return core->auth().from_password(name, name + "-password");
    }
    std::int64_t program(const Principal& who, std::string_view type, std::string name,
                         std::optional<std::int64_t> template_id = std::nullopt) {
        Program p;
        p.name = std::move(name);
        p.template_id = template_id;
        return core->programs().create(who, type, p);
    }
    std::int64_t account_of(const Principal& who) { return core->accounts().default_for(who)->account_id; }
    std::filesystem::path incoming(const std::string& name) const { return dir.path() / name; }

    std::map<std::string, std::string> results(const Principal& who, std::int64_t transmission_id) {
        std::map<std::string, std::string> out;
        for (const auto& r : core->transmissions().result(who, transmission_id)) {
            if (r.type == "info") out[r.name] = r.data;
        }
        return out;
    }
    struct Counts {
        std::int64_t transmissions, contacts, documents, templates;
        bool operator==(const Counts&) const = default;
    };
    Counts counts() {
        return {core->transmissions().list(admin, {}).total(), core->contacts().list(admin, {}).total(),
                core->documents().list(admin, {}).total(), core->templates().list(admin, {}).total()};
    }
};

// Pages of a PDF as its page objects ("/Type /Page", not "/Pages").
int pdf_pages(const std::string& pdf) {
    int pages = 0;
    for (auto at = pdf.find("/Type"); at != std::string::npos; at = pdf.find("/Type", at + 5)) {
        auto p = at + 5;
        while (p < pdf.size() && (pdf[p] == ' ' || pdf[p] == '\r' || pdf[p] == '\n')) ++p;
        if (pdf.compare(p, 5, "/Page") == 0 && (p + 5 >= pdf.size() || pdf[p + 5] != 's')) ++pages;
    }
    return pages;
}

// Python's e-mail parser as a second opinion: subject, recipient, text part, and each
// attachment's name, type, bytes (hex) and, for a PDF, its page objects counted by Python.
constexpr const char* read_message_py = R"py(
import email, email.policy, json, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
out = {'subject': str(m['subject']), 'to': str(m['to']), 'text': m.get_body(('plain',)).get_content(),
       'attachments': []}
for a in m.iter_attachments():
    data = a.get_payload(decode=True)
    out['attachments'].append({'name': a.get_filename(), 'type': a.get_content_type(), 'hex': data.hex(),
                               'pages': len(re.findall(rb'/Type\s*/Page(?![A-Za-z])', data))})
print(json.dumps(out))
)py";

boost::json::object read_message(const std::filesystem::path& file) {
    ::setenv("ICTCORE_READ_FAX_MESSAGE", read_message_py, 1);
    const std::string cmd = "/usr/bin/python3 -c \"$ICTCORE_READ_FAX_MESSAGE\" '" + file.string() + "'";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
        std::array<char, 4096> buf{};
        std::size_t n;
        while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
        ::pclose(p);
    }
    return boost::json::parse(out).as_object();
}

std::string hex_of(const std::string& bytes) {
    std::string hex;
    for (const unsigned char c : bytes) hex += fmt::format("{:02x}", c);
    return hex;
}

}  // namespace

TEST_CASE("inbound fax: fax_account matches the called number's digits, only with a fax-receiving program") {
    Env env;
    auto bob = env.user("bob", "+1 (555) 123-4567", "bob@example.com");
    auto& inbound = env.core->inbound();
    CHECK_FALSE(inbound.fax_account("+15551234567").has_value());  // no program at all
    env.program(bob, "receivesms", "bob sms");
    CHECK_FALSE(inbound.fax_account("+15551234567").has_value());  // not a fax program
    env.program(bob, "receivefax", "bob fax");
    const auto account = env.account_of(bob);
    for (const char* to : {"+15551234567", "15551234567", "0015551234567", "1-555-123-4567", " +1 555 123 4567 "}) {
        CHECK_MESSAGE(inbound.fax_account(to) == std::optional<std::int64_t>(account), to);
    }
    CHECK_FALSE(inbound.fax_account("15551234568").has_value());
    CHECK_FALSE(inbound.fax_account("5551234567").has_value());
    CHECK_FALSE(inbound.fax_account("").has_value());
    CHECK_FALSE(inbound.fax_account("sip:bob").has_value());

    auto carol = env.user("carol", "+92 300 1234567", std::nullopt);
    CHECK_FALSE(inbound.fax_account("923001234567").has_value());
    env.program(carol, "faxtoemail", "carol fax to mail");
    CHECK(inbound.fax_account("923001234567") == std::optional<std::int64_t>(env.account_of(carol)));

    // An inactive account receives nothing.
    env.core->accounts().update(env.admin, account, [](Account& a) { a.active = 0; });
    CHECK_FALSE(inbound.fax_account("+15551234567").has_value());
}

TEST_CASE("inbound fax: no account → not_found, no number → invalid; nothing stored, the file is consumed") {
    const auto& fax = received();
    Env env;
    auto bob = env.user("bob", "+15551234567", std::nullopt);
    env.program(bob, "receivesms", "bob sms");  // a number, but no fax program
    const auto before = env.counts();

    std::string why;
    auto call = fax.call(env.incoming("a.tif"), "+442079460000", "+15550000000");
    CHECK(code_of([&] { env.core->inbound().receive_fax(call); }, &why) == Errc::not_found);
    CHECK(why.find("+15550000000") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(call.tiff));
    call = fax.call(env.incoming("b.tif"), "+442079460000", "+15551234567");
    CHECK(code_of([&] { env.core->inbound().receive_fax(call); }, &why) == Errc::not_found);
    CHECK(why.find("receivefax") != std::string::npos);
    call = fax.call(env.incoming("c.tif"), "+442079460000", " ");
    CHECK(code_of([&] { env.core->inbound().receive_fax(call); }) == Errc::invalid);
    CHECK_FALSE(std::filesystem::exists(call.tiff));
    call = fax.call(env.incoming("d.tif"), "+442079460000", "bob");
    CHECK(code_of([&] { env.core->inbound().receive_fax(call); }) == Errc::invalid);
    CHECK(env.counts() == before);
}

TEST_CASE("inbound fax: the received pages become the owner's document; an inbound completed transmission") {
    const auto& fax = received();
    Env env;
    auto bob = env.user("bob", "+1 555 123 4567", "bob@example.com");
    auto mallory = env.user("mallory", "+15559990000", std::nullopt);
    const auto program = env.program(bob, "receivefax", "bob fax");
    const auto before = env.counts();

    auto call = fax.call(env.incoming("in.tif"), "+44 20 7946 0000", "15551234567");
    const std::string received_bytes = read_file(call.tiff);
    const auto r = env.core->inbound().receive_fax(call);
    CHECK_FALSE(std::filesystem::exists(call.tiff));
    CHECK(r.account_id == env.account_of(bob));
    CHECK(r.program_id == program);
    CHECK(r.created_transmissions.empty());
    REQUIRE(r.document_id != 0);

    // The document, read as its owner: the fax's pages, normalised, with a PDF of them.
    const auto document = env.core->documents().get(bob, r.document_id);
    CHECK(document.pages == 2);
    CHECK(document.size_x == 1728);
    CHECK(document.type == std::optional<std::string>("tif"));
    CHECK(document.created_by == bob.user_id());
    const std::string pdf = read_file(env.core->documents().media(bob, r.document_id).path);
    CHECK(pdf.rfind("%PDF", 0) == 0);
    CHECK(pdf_pages(pdf) == 2);
    CHECK(media::inspect_fax_tiff(env.core->documents().fax_tiff(bob, r.document_id).path).pages == 2);
    // The TIFF as received is kept beside them, byte for byte.
    const auto original = env.options.data_dir / "media" / "documents" / fmt::format("{}.original", r.document_id);
    CHECK(read_file(original) == received_bytes);

    const auto t = env.core->transmissions().get(bob, r.transmission_id);
    CHECK(t.direction == "inbound");
    CHECK(t.status == "completed");
    CHECK(t.service_flag == service::fax);
    CHECK(t.origin == "receivefax");
    CHECK(t.program_id == program);
    CHECK(t.account_id == r.account_id);
    CHECK(t.created_by == bob.user_id());
    const auto spool = env.core->transmissions().spool(bob, r.spool_id);
    CHECK(spool.status == "completed");
    CHECK(spool.response == std::optional<std::string>("OK"));
    CHECK(env.results(bob, r.transmission_id) == std::map<std::string, std::string>{
                                                     {"pages", "2"},
                                                     {"remote_id", "+44 20 7946 0000"},
                                                     {"bit_rate", std::to_string(fax.outcome.bit_rate)},
                                                     {"ecm", fax.outcome.ecm ? "1" : "0"},
                                                     {"t30", "OK"},
                                                     {"transport", "audio"},
                                                     {"document_id", std::to_string(r.document_id)},
                                                 });
    CHECK(fax.outcome.bit_rate == 14400);
    const auto caller = env.core->contacts().get(bob, r.contact_id);
    CHECK(caller.phone == "+44 20 7946 0000");
    CHECK(caller.created_by == bob.user_id());

    // Someone else sees none of it.
    CHECK(code_of([&] { env.core->documents().get(mallory, r.document_id); }) == Errc::not_found);
    CHECK(code_of([&] { env.core->documents().media(mallory, r.document_id); }) == Errc::not_found);
    CHECK(code_of([&] { env.core->transmissions().get(mallory, r.transmission_id); }) == Errc::not_found);
    CHECK(code_of([&] { env.core->contacts().get(mallory, r.contact_id); }) == Errc::not_found);

    // The same caller, written differently, is the same contact; a fresh document each time.
    const auto again =
        env.core->inbound().receive_fax(fax.call(env.incoming("in2.tif"), "0044-20-7946-0000", "+15551234567"));
    CHECK(again.contact_id == r.contact_id);
    CHECK(again.document_id != r.document_id);
    const auto after = env.counts();
    CHECK(after.transmissions == before.transmissions + 2);
    CHECK(after.documents == before.documents + 2);
    CHECK(after.contacts == before.contacts + 1);
}

TEST_CASE("inbound fax: a failed fax is a failed transmission without a document; unreadable pages too") {
    const auto& fax = received();
    Env env;
    auto bob = env.user("bob", "+15551234567", std::nullopt);
    env.program(bob, "receivefax", "bob fax");

    // T.30 failed after one page: recorded, but no document of a partial fax.
    auto call = fax.call(env.incoming("failed.tif"), "", "+15551234567");
    call.success = false;
    call.pages = 1;
    call.t30_text = "Disconnected after permitted retries";
    call.ecm = false;
    call.transport = "t38";
    const auto r = env.core->inbound().receive_fax(call);
    CHECK_FALSE(std::filesystem::exists(call.tiff));
    CHECK(r.document_id == 0);
    CHECK(env.core->documents().list(env.admin, {}).total() == 0);
    const auto t = env.core->transmissions().get(bob, r.transmission_id);
    CHECK(t.direction == "inbound");
    CHECK(t.status == "failed");
    CHECK(t.response == std::optional<std::string>("Disconnected after permitted retries"));
    CHECK(env.core->transmissions().spool(bob, r.spool_id).status == "failed");
    const auto results = env.results(bob, r.transmission_id);
    CHECK(results.at("pages") == "1");
    CHECK(results.at("t30") == "Disconnected after permitted retries");
    CHECK(results.at("ecm") == "0");
    CHECK(results.at("transport") == "t38");
    CHECK(results.count("document_id") == 0);
    CHECK(env.core->contacts().get(bob, r.contact_id).phone == "anonymous");  // caller id withheld

    // T.30 says two pages arrived, but the file is not a TIFF: failed, with the reason.
    std::ofstream(env.incoming("garbage.tif"), std::ios::binary) << "not a tiff at all";
    call = fax.call(env.incoming("ok.tif"), "+15557770000", "+15551234567");
    call.tiff = env.incoming("garbage.tif");
    const auto bad = env.core->inbound().receive_fax(call);
    CHECK_FALSE(std::filesystem::exists(call.tiff));
    CHECK(bad.document_id == 0);
    CHECK(env.core->transmissions().get(bob, bad.transmission_id).status == "failed");
    CHECK(env.results(bob, bad.transmission_id).count("error") == 1);
    CHECK(env.core->documents().list(env.admin, {}).total() == 0);
}

TEST_CASE("faxtoemail: the PDF arrives at the account's address over SMTP; without an address only the fax") {
    const auto& fax = received();
    test::TempDir mail_dir;
    test::RigProcess smtp(
        {"/usr/bin/python3", std::string(ICTCORE_TEST_RIGS) + "/smtp_rig.py", (mail_dir.path() / "maildir").string()});
    Env env([](Options& o) { o.seed_loopback_providers = false; });
    Provider p;
    p.name = "local smtp";
    p.type = "smtp";
    p.username = "ictcore";
    p.service_flag = service::email;
    p.host = "127.0.0.1";
    p.port = smtp.port();
    p.settings = R"({"tls": "none", "from": "fax@example.com"})";
    env.core->providers().create(env.admin, p);

    auto bob = env.user("bob", "+15551234567", "ok-bob@example.com");
    auto mallory = env.user("mallory", "+15559990000", std::nullopt);
    const auto program = env.program(bob, "faxtoemail", "bob fax to mail");
    const auto r = env.core->inbound().receive_fax(fax.call(env.incoming("in.tif"), "+442079460000", "+15551234567"));
    CHECK(r.program_id == program);
    REQUIRE(r.created_transmissions.size() == 1);
    const auto email_id = r.created_transmissions.front();
    REQUIRE(r.document_id != 0);

    const auto t = env.core->transmissions().get(bob, r.transmission_id);
    CHECK(t.status == "completed");
    CHECK(t.service_flag == service::fax);
    CHECK(t.origin == "faxtoemail");
    const auto results = env.results(bob, r.transmission_id);
    CHECK(results.at("email") == "ok-bob@example.com");
    CHECK(results.at("email_transmission") == std::to_string(email_id));
    CHECK(results.at("document_id") == std::to_string(r.document_id));

    const auto email = env.core->transmissions().get(bob, email_id);
    CHECK(email.direction == "outbound");
    CHECK(email.service_flag == service::email);
    CHECK(email.origin == "sendemail");
    CHECK(email.created_by == bob.user_id());
    CHECK(env.core->contacts().get(bob, email.contact_id).email == std::optional<std::string>("ok-bob@example.com"));
    const auto sendemail = env.core->programs().get(bob, email.program_id);
    CHECK(sendemail.parent_id == std::optional<std::int64_t>(program));
    REQUIRE(sendemail.template_id.has_value());
    const auto tmpl = env.core->templates().get(bob, *sendemail.template_id);
    CHECK(tmpl.subject == "Fax from +442079460000 (2 pages)");
    CHECK(tmpl.attachment_type == std::optional<std::string>("application/pdf"));
    CHECK(test::eventually([&] { return env.core->transmissions().status(bob, email_id) == "completed"; },
                           std::chrono::seconds(10)));

    // What the SMTP server received: the PDF of the document, both pages.
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(mail_dir.path() / "maildir" / "new")) {
        files.push_back(e.path());
    }
    REQUIRE(files.size() == 1);
    const auto m = read_message(files.front());
    CHECK(m.at("subject").as_string() == "Fax from +442079460000 (2 pages)");
    CHECK(m.at("to").as_string() == "ok-bob@example.com");
    CHECK(std::string(m.at("text").as_string()).find("2 pages") != std::string::npos);
    const auto& attachments = m.at("attachments").as_array();
    REQUIRE(attachments.size() == 1);
    CHECK(attachments[0].at("type").as_string() == "application/pdf");
    CHECK(attachments[0].at("name").as_string() == fmt::format("fax-{}.pdf", r.transmission_id));
    CHECK(attachments[0].at("pages").as_int64() == 2);
    const std::string document_pdf = read_file(env.core->documents().media(bob, r.document_id).path);
    CHECK(attachments[0].at("hex").as_string() == hex_of(document_pdf));
    CHECK(std::string(attachments[0].at("hex").as_string()).rfind(hex_of("%PDF"), 0) == 0);

    // Owned by bob: mallory sees neither the template nor the e-mail.
    CHECK(code_of([&] { env.core->templates().get(mallory, *sendemail.template_id); }) == Errc::not_found);
    CHECK(code_of([&] { env.core->transmissions().get(mallory, email_id); }) == Errc::not_found);

    // An account without an e-mail address: the fax is kept, nothing is mailed.
    auto carol = env.user("carol", "+15553334444", std::nullopt);
    env.program(carol, "faxtoemail", "carol fax to mail");
    const auto before = env.counts();
    const auto c = env.core->inbound().receive_fax(fax.call(env.incoming("c.tif"), "+442079460000", "+15553334444"));
    CHECK(c.created_transmissions.empty());
    CHECK(c.document_id != 0);
    CHECK(env.core->transmissions().get(carol, c.transmission_id).status == "completed");
    CHECK(env.results(carol, c.transmission_id).at("email") == "no e-mail address");
    CHECK(env.counts().templates == before.templates);
    CHECK(env.counts().transmissions == before.transmissions + 1);
    CHECK(env.core->documents().get(carol, c.document_id).pages == 2);
}

TEST_CASE("faxtoemail without a running engine: the e-mail waits, worded by the program's own template") {
    const auto& fax = received();
    test::TempDir dir;
    Options options = test::core_options(dir);
    { Core first(options); }  // creates the database and the loopback providers
    options.run_engine = false;
    Env env([&](Options& o) { o = options; });
    auto bob = env.user("bob", "+15551234567", "bob@example.com");
    Template own;
    own.name = "fax notice";
    own.subject = "New fax for [contact:email]";
    own.body = "<p>see attachment</p>";
    own.body_alt = "see attachment";
    const auto own_id = env.core->templates().create(bob, own);
    env.program(bob, "faxtoemail", "bob fax to mail", own_id);
    const auto r = env.core->inbound().receive_fax(fax.call(env.incoming("in.tif"), "+442079460000", "15551234567"));
    REQUIRE(r.created_transmissions.size() == 1);
    CHECK(env.core->transmissions().status(bob, r.created_transmissions.front()) == "pending");
    const auto sendemail =
        env.core->programs().get(bob, env.core->transmissions().get(bob, r.created_transmissions.front()).program_id);
    const auto tmpl = env.core->templates().get(bob, *sendemail.template_id);
    CHECK(tmpl.template_id != own_id);  // its own copy, carrying the PDF
    CHECK(tmpl.subject == "New fax for [contact:email]");
    CHECK(tmpl.body == "<p>see attachment</p>");
    CHECK(read_file(env.core->templates().media(bob, tmpl.template_id).path) ==
          read_file(env.core->documents().media(bob, r.document_id).path));
    // Deleting the user removes the fax's media with it.
    const auto pdf_path = env.core->documents().media(bob, r.document_id).path;
    env.core->users().remove(env.admin, bob.user_id());
    CHECK_FALSE(std::filesystem::exists(pdf_path));
}

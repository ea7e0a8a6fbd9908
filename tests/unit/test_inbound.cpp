// Inbound service through a real Core on a temporary data directory: SMS and e-mail matched to
// accounts, programs chosen, senders made contacts, results and attachment bytes stored,
// emailtofax turned into a document and a sendfax transmission the loopback fax provider
// completes; failures leave nothing behind. Also the RFC 2047 decoder and the MIME parser.
#include "core_options.hpp"
#include "mail/mime_message.hpp"
#include "mail/rfc2047.hpp"
#include "pdf_writer.hpp"
#include "temp_dir.hpp"
#include "test_gateway.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>

using namespace ictcore;

namespace {

using test::code_of;

// Conversions of emailtofax run ghostscript: allow them time on a loaded machine.
template <class Pred>
bool eventually(Pred pred) {
    return test::eventually(pred, std::chrono::seconds(20));
}

std::string base64(std::string_view bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                           (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
        if (out.size() % 78 == 76) out += "\r\n";
    }
    if (i + 1 == bytes.size()) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == bytes.size()) {
        const unsigned v =
            (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string all_bytes() {
    std::string bytes;
    for (int round = 0; round < 3; ++round) {
        for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
    }
    return bytes;
}

struct Env {
    test::TempDir dir;
    Options options = test::core_options(dir);
    Core core{options};
    Principal admin = core.auth().from_password("admin", "admin-password");

    Principal user(const std::string& name, std::optional<std::string> phone, std::optional<std::string> email) {
        User u;
        u.username = name;
        u.passwd = name + "-password";
        u.phone = std::move(phone);
        u.email = std::move(email);
        core.users().create(admin, u);
        return core.auth().from_password(name, name + "-password");
    }
    std::int64_t program(const Principal& who, std::string_view type, std::string name) {
        Program p;
        p.name = std::move(name);
        return core.programs().create(who, type, p);
    }
    std::int64_t account_of(const Principal& who) { return core.accounts().default_for(who)->account_id; }

    // Rows of every kind an inbound message may create, and the media files.
    struct Counts {
        std::int64_t transmissions, contacts, programs, documents;
        std::size_t media_files;
        bool operator==(const Counts&) const = default;
    };
    Counts counts() {
        std::size_t files = 0;
        std::error_code ec;
        for (auto it = std::filesystem::recursive_directory_iterator(options.data_dir / "media", ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_regular_file()) ++files;
        }
        return {core.transmissions().list(admin, {}).total(), core.contacts().list(admin, {}).total(),
                core.programs().list(admin, {}).total(), core.documents().list(admin, {}).total(), files};
    }

    // name → data of one type of the transmission's results.
    std::map<std::string, std::string> results(const Principal& who, std::int64_t transmission_id,
                                               std::string_view type) {
        std::map<std::string, std::string> out;
        for (const auto& r : core.transmissions().result(who, transmission_id)) {
            if (r.type == type) out[r.name] = r.data;
        }
        return out;
    }
};

std::string email(const std::string& headers, const std::string& body) { return headers + "\r\n" + body; }

}  // namespace

TEST_CASE("inbound SMS: recipient number normalised, program chosen, sender becomes a contact once") {
    Env env;
    auto bob = env.user("bob", "+1 (555) 123-4567", "bob@example.com");
    const auto first = env.program(bob, "receivesms", "bob inbox");
    const auto second = env.program(bob, "receivesms", "bob other inbox");
    const auto account = env.account_of(bob);

    InboundSms sms{"+44 20 7946 0000", "0015551234567", "Hello \xE2\x82\xAC", "smsc-a", "msg-1"};
    const auto r = env.core.inbound().receive_sms(sms);
    CHECK(r.account_id == account);
    CHECK(r.program_id == first);  // none subscribed: the owner's lowest-id receivesms program
    CHECK(r.created_transmissions.empty());

    const auto t = env.core.transmissions().get(bob, r.transmission_id);
    CHECK(t.direction == "inbound");
    CHECK(t.status == "completed");
    CHECK(t.service_flag == service::sms);
    CHECK(t.origin == "receivesms");
    CHECK(t.title == "bob inbox");
    CHECK(t.try_done == 1);
    CHECK(t.contact_id == r.contact_id);
    CHECK(t.account_id == account);
    CHECK(t.created_by == bob.user_id());
    const auto spool = env.core.transmissions().spool(bob, r.spool_id);
    CHECK(spool.status == "completed");
    CHECK(spool.transmission_id == r.transmission_id);
    CHECK(spool.time_start.has_value());
    CHECK(spool.time_end.has_value());
    const auto results = env.results(bob, r.transmission_id, "sms");
    CHECK(results == std::map<std::string, std::string>{{"text", "Hello \xE2\x82\xAC"},
                                                        {"from", "+44 20 7946 0000"},
                                                        {"to", "0015551234567"},
                                                        {"gateway", "smsc-a"},
                                                        {"message_id", "msg-1"}});
    const auto contact = env.core.contacts().get(bob, r.contact_id);
    CHECK(contact.phone == "+44 20 7946 0000");
    CHECK(contact.created_by == bob.user_id());

    // The same sender written differently is the same contact; a subscription wins over id order.
    env.core.accounts().subscribe(env.admin, account, second);
    const auto again = env.core.inbound().receive_sms({"0044-20-7946-0000", "+1 555 123 4567", "again", "", ""});
    CHECK(again.contact_id == r.contact_id);
    CHECK(again.program_id == second);
    CHECK(env.results(bob, again.transmission_id, "sms").count("gateway") == 0);
    CHECK(env.core.contacts().list(bob, {}).total() == 1);

    // A sender already among the owner's contacts is reused, not duplicated.
    Contact known;
    known.first_name = "Known";
    known.phone = "+92 300 1234567";
    const auto known_id = env.core.contacts().create(bob, known);
    CHECK(env.core.inbound().receive_sms({"00923001234567", "15551234567", "hi", "", ""}).contact_id == known_id);
}

TEST_CASE("inbound SMS: no account or program → not_found, bad input → invalid, nothing stored") {
    Env env;
    auto bob = env.user("bob", "+15551234567", std::nullopt);
    auto carol = env.user("carol", "+15559990000", std::nullopt);  // has no receivesms program
    env.program(bob, "receivesms", "bob inbox");
    const auto before = env.counts();

    std::string message;
    CHECK(code_of(
              [&] {
                  env.core.inbound().receive_sms({"+4420", "+15550000000", "x", "", ""});
              },
              &message) == Errc::not_found);
    CHECK(message.find("+15550000000") != std::string::npos);
    CHECK(code_of(
              [&] {
                  env.core.inbound().receive_sms({"+4420", "15559990000", "x", "", ""});
              },
              &message) == Errc::not_found);
    CHECK(message.find("receivesms") != std::string::npos);
    CHECK(message.find(std::to_string(env.account_of(carol))) != std::string::npos);
    CHECK(code_of([&] { env.core.inbound().receive_sms({" ", "+15551234567", "x", "", ""}); }) == Errc::invalid);
    CHECK(code_of([&] { env.core.inbound().receive_sms({"+4420", "", "x", "", ""}); }) == Errc::invalid);

    // An inactive account receives nothing.
    env.core.accounts().update(env.admin, env.account_of(bob), [](Account& a) { a.active = 0; });
    CHECK(code_of([&] { env.core.inbound().receive_sms({"+4420", "+15551234567", "x", "", ""}); }) == Errc::not_found);
    CHECK(env.counts() == before);
}

TEST_CASE("inbound e-mail: multipart/alternative with an attachment, encoded subject, QP Latin-1 text") {
    Env env;
    auto bob = env.user("bob", std::nullopt, "Bob@Example.com");
    const auto program = env.program(bob, "receiveemail", "bob mail");
    const std::string attachment = all_bytes();
    const std::string raw = email(
        "From: =?UTF-8?B?SsO8cmdlbg==?= <juergen@sender.example>\r\n"
        "To: Someone <someone@else.example>, bob@example.com\r\n"
        "Subject: =?UTF-8?B?UHLDvGZ1bmcg4oKs?= =?UTF-8?Q?_und_mehr?=\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"outer\"\r\n",
        "preamble\r\n"
        "--outer\r\n"
        "Content-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n"
        "--inner\r\n"
        "Content-Type: text/plain; charset=ISO-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        "Gr=FC=DFe aus K=F6ln, a long line that is soft-=\r\nbroken.\r\n"
        "--inner\r\n"
        "Content-Type: text/html; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" +
            base64("<p>Gr\xC3\xBC\xC3\x9F"
                   "e</p>") +
            "\r\n--inner--\r\n"
            "--outer\r\n"
            "Content-Type: application/octet-stream; name=\"ignored.bin\"\r\n"
            "Content-Disposition: attachment; filename*=UTF-8''d%C3%A4ten.bin\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n" +
            base64(attachment) + "\r\n--outer--\r\n");

    const auto r = env.core.inbound().receive_email(raw);
    CHECK(r.program_id == program);
    CHECK(r.account_id == env.account_of(bob));
    const auto t = env.core.transmissions().get(bob, r.transmission_id);
    CHECK(t.direction == "inbound");
    CHECK(t.status == "completed");
    CHECK(t.service_flag == service::email);
    CHECK(t.origin == "receiveemail");
    const auto results = env.results(bob, r.transmission_id, "email");
    CHECK(results.at("subject") ==
          "Pr\xC3\xBC"
          "fung \xE2\x82\xAC und mehr");
    CHECK(results.at("from") == "juergen@sender.example");
    CHECK(results.at("to") == "bob@example.com");
    CHECK(results.at("text") ==
          "Gr\xC3\xBC\xC3\x9F"
          "e aus K\xC3\xB6ln, a long line that is soft-broken.");  // the CRLF before a boundary is the boundary's
    CHECK(results.at("html") ==
          "<p>Gr\xC3\xBC\xC3\x9F"
          "e</p>");
    const auto attachments = env.results(bob, r.transmission_id, "attachment");
    REQUIRE(attachments.size() == 1);
    const auto& [name, reference] = *attachments.begin();
    CHECK(name == "d__ten.bin");  // stored names are plain ASCII
    CHECK(read_file(env.options.data_dir / "media" / reference) == attachment);

    const auto contact = env.core.contacts().get(bob, r.contact_id);
    CHECK(contact.email == std::optional<std::string>("juergen@sender.example"));
    CHECK(contact.first_name == "J\xC3\xBCrgen");
    // The same sender (any case) is the same contact.
    const auto again = env.core.inbound().receive_email(
        email("From: JUERGEN@sender.example\r\nTo: bob@example.com\r\nSubject: plain\r\n", "just text\r\n"));
    CHECK(again.contact_id == r.contact_id);
    CHECK(env.results(bob, again.transmission_id, "email").at("text") == "just text\n");
    CHECK(env.results(bob, again.transmission_id, "email").count("html") == 0);

    // Deleting the received e-mail deletes its attachment; deleting its owner, the rest.
    const auto stored = env.options.data_dir / "media" / reference;
    env.core.transmissions().remove(bob, r.transmission_id);
    CHECK_FALSE(std::filesystem::exists(stored));
    const auto later = env.core.inbound().receive_email(
        email("From: juergen@sender.example\r\nTo: bob@example.com\r\nSubject: again\r\n"
              "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n",
              "--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/octet-stream\r\n"
              "Content-Disposition: attachment; filename=\"x.bin\"\r\n\r\nxyz\r\n--b--\r\n"));
    const auto later_files = env.results(bob, later.transmission_id, "attachment");
    REQUIRE(later_files.size() == 1);
    const auto later_path = env.options.data_dir / "media" / later_files.begin()->second;
    CHECK(std::filesystem::exists(later_path));
    env.core.users().remove(env.admin, bob.user_id());
    CHECK_FALSE(std::filesystem::exists(later_path));
}

TEST_CASE("inbound e-mail: Cc fallback, envelope recipient, Latin-1 Q subject") {
    Env env;
    auto bob = env.user("bob", std::nullopt, "bob@example.com");
    auto dave = env.user("dave", std::nullopt, "dave@example.com");
    env.program(bob, "receiveemail", "bob mail");
    env.program(dave, "receiveemail", "dave mail");
    const std::string raw = email(
        "From: sender@x.example\r\nTo: nobody@x.example\r\nCc: other@x.example,\r\n BOB@example.com\r\n"
        "Subject: =?iso-8859-1?q?Caf=E9_cr=E8me?=\r\n",
        "body\r\n");
    const auto r = env.core.inbound().receive_email(raw);
    CHECK(r.account_id == env.account_of(bob));
    CHECK(env.results(bob, r.transmission_id, "email").at("subject") == "Caf\xC3\xA9 cr\xC3\xA8me");
    CHECK(env.results(bob, r.transmission_id, "email").at("to") == "BOB@example.com");
    // The envelope recipient overrides the headers.
    const auto d = env.core.inbound().receive_email(raw, "dave@example.com");
    CHECK(d.account_id == env.account_of(dave));
}

TEST_CASE("inbound e-mail: no matching account → not_found; unusable message → invalid; nothing stored") {
    Env env;
    auto bob = env.user("bob", std::nullopt, "bob@example.com");
    env.user("erin", std::nullopt, "erin@example.com");  // no receiveemail program
    env.program(bob, "receiveemail", "bob mail");
    const auto before = env.counts();
    const std::string with_attachment =
        "From: s@x.example\r\nTo: {}\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        "Content-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf; name=a.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" +
        base64(std::string(4000, 'x')) + "\r\n--b--\r\n";
    const auto to = [&](const std::string& address) {
        std::string m = with_attachment;
        return m.replace(m.find("{}"), 2, address);
    };
    std::string message;
    CHECK(code_of([&] { env.core.inbound().receive_email(to("nobody@example.com")); }, &message) == Errc::not_found);
    CHECK(message.find("nobody@example.com") != std::string::npos);
    CHECK(code_of([&] { env.core.inbound().receive_email(to("erin@example.com")); }, &message) == Errc::not_found);
    CHECK(message.find("receiveemail") != std::string::npos);
    CHECK(code_of([&] { env.core.inbound().receive_email(""); }) == Errc::invalid);
    CHECK(code_of([&] { env.core.inbound().receive_email("From: a@b.example\r\n\r\nno recipient\r\n"); }) ==
          Errc::invalid);
    CHECK(code_of([&] { env.core.inbound().receive_email("To: bob@example.com\r\n\r\nno sender\r\n"); }) ==
          Errc::invalid);
    CHECK(env.counts() == before);

    // Over the attachment limit: refused whole.
    test::TempDir small_dir;
    Options small = test::core_options(small_dir);
    small.max_media_bytes = 1000;
    Core core(small);
    auto admin = core.auth().from_password("admin", "admin-password");
    User u;
    u.username = "bob";
    u.passwd = "bob-password";
    u.email = "bob@example.com";
    core.users().create(admin, u);
    auto small_bob = core.auth().from_password("bob", "bob-password");
    Program p;
    p.name = "mail";
    core.programs().create(small_bob, "receiveemail", p);
    CHECK(code_of([&] { core.inbound().receive_email(to("bob@example.com")); }) == Errc::too_large);
    CHECK(core.transmissions().list(admin, {}).total() == 0);
}

TEST_CASE("emailtofax: the PDF attachment becomes a document faxed by the loopback provider") {
    Env env;
    auto bob = env.user("bob", std::nullopt, "15551234567@fax.example.com");
    const auto program = env.program(bob, "emailtofax", "bob fax");
    const std::string pdf = test::pdf_of_pages({"BT /F1 24 Tf 72 700 Td (Fax page) Tj ET"});
    const std::string raw = email(
        "From: Bob <bob@home.example>\r\nTo: 15551234567@fax.example.com\r\nSubject: my fax\r\n"
        "Content-Type: multipart/mixed; boundary=b\r\n",
        "--b\r\nContent-Type: text/plain\r\n\r\nplease fax\r\n--b\r\n"
        "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"letter.PDF\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" +
            base64(pdf) + "\r\n--b--\r\n");
    const auto r = env.core.inbound().receive_email(raw);
    CHECK(r.program_id == program);
    REQUIRE(r.created_transmissions.size() == 1);
    const auto fax_id = r.created_transmissions.front();

    const auto inbound = env.core.transmissions().get(bob, r.transmission_id);
    CHECK(inbound.direction == "inbound");
    CHECK(inbound.status == "completed");
    CHECK(inbound.origin == "emailtofax");
    const auto results = env.results(bob, r.transmission_id, "email");
    CHECK(results.at("subject") == "my fax");
    CHECK(results.at("from") == "bob@home.example");
    CHECK(results.at("fax_transmission") == std::to_string(fax_id));

    const auto fax = env.core.transmissions().get(bob, fax_id);
    CHECK(fax.direction == "outbound");
    CHECK(fax.service_flag == service::fax);
    CHECK(fax.origin == "sendfax");
    CHECK(fax.created_by == bob.user_id());
    CHECK(env.core.contacts().get(bob, fax.contact_id).phone == "15551234567");
    const auto sendfax = env.core.programs().get(bob, fax.program_id);
    CHECK(sendfax.type == "sendfax");
    CHECK(sendfax.parent_id == std::optional<std::int64_t>(program));
    REQUIRE(sendfax.document_id.has_value());
    const auto document = env.core.documents().get(bob, *sendfax.document_id);
    CHECK(document.pages == 1);
    CHECK(document.size_x == 1728);
    CHECK(read_file(env.core.documents().media(bob, document.document_id).path) == pdf);
    CHECK(std::filesystem::file_size(env.core.documents().fax_tiff(bob, document.document_id).path) > 0);
    // The seeded loopback fax provider delivers it.
    CHECK(eventually([&] { return env.core.transmissions().status(bob, fax_id) == "completed"; }));

    // A second fax to the same number reuses the contact.
    const auto second = env.core.inbound().receive_email(raw);
    CHECK(env.core.transmissions().get(bob, second.created_transmissions.front()).contact_id == fax.contact_id);
}

TEST_CASE("emailtofax: sender's account (ICTCore's rule), choice between programs, invalid input") {
    Env env;
    auto alice = env.user("alice", std::nullopt, "alice@home.example");
    const auto fax_program = env.program(alice, "emailtofax", "alice fax");
    const auto mail_program = env.program(alice, "receiveemail", "alice mail");
    const std::string pdf = test::pdf_of_pages({"BT /F1 24 Tf 72 700 Td (x) Tj ET"});
    const auto message = [&](const std::string& from, const std::string& to, bool with_pdf) {
        return email("From: " + from + "\r\nTo: " + to + "\r\nContent-Type: multipart/mixed; boundary=b\r\n",
                     "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf; name=f.pdf\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n" +
                         base64(with_pdf ? pdf : std::string("not a pdf at all")) + "\r\n--b--\r\n");
    };

    // Mailed from alice's own address to a fax number: her emailtofax program.
    const auto r = env.core.inbound().receive_email(message("alice@home.example", "+15550001111@fax.example", true));
    CHECK(r.program_id == fax_program);
    CHECK(r.created_transmissions.size() == 1);
    // Mailed to her address: she has both programs, a non-number address picks receiveemail.
    CHECK(env.core.inbound().receive_email(message("x@y.example", "alice@home.example", true)).program_id ==
          mail_program);

    auto bob = env.user("bob", std::nullopt, "fax@example.com");
    env.program(bob, "emailtofax", "bob fax");
    const auto before = env.counts();
    std::string why;
    CHECK(code_of([&] { env.core.inbound().receive_email(message("x@y.example", "fax@example.com", true)); }, &why) ==
          Errc::invalid);
    CHECK(why.find("fax number") != std::string::npos);
    auto carol = env.user("carol", std::nullopt, "15551234567@fax.example.com");
    env.program(carol, "emailtofax", "carol fax");
    const auto before_carol = env.counts();
    CHECK(code_of([&] {
              env.core.inbound().receive_email(message("x@y.example", "15551234567@fax.example.com", false));
          }) == Errc::invalid);
    CHECK(env.counts() == before_carol);
    CHECK(before.transmissions == before_carol.transmissions);
}

TEST_CASE("emailtofax without a running engine: the fax transmission stays pending") {
    test::TempDir dir;
    Options options = test::core_options(dir);
    { Core first(options); }  // creates the database and the loopback providers
    options.run_engine = false;
    Core core(options);
    auto admin = core.auth().from_password("admin", "admin-password");
    User u;
    u.username = "bob";
    u.passwd = "bob-password";
    u.email = "15551234567@fax.example.com";
    core.users().create(admin, u);
    auto bob = core.auth().from_password("bob", "bob-password");
    Program p;
    p.name = "fax";
    core.programs().create(bob, "emailtofax", p);
    const std::string pdf = test::pdf_of_pages({"BT /F1 24 Tf 72 700 Td (x) Tj ET"});
    const auto r = core.inbound().receive_email(
        "From: a@b.example\r\nTo: 15551234567@fax.example.com\r\nContent-Type: application/pdf; name=x.pdf\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n" +
        base64(pdf) + "\r\n");
    REQUIRE(r.created_transmissions.size() == 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    CHECK(core.transmissions().status(bob, r.created_transmissions.front()) == "pending");
}

TEST_CASE("RFC 2047 decoding") {
    using mail::decode_header_text;
    CHECK(decode_header_text("plain text") == "plain text");
    CHECK(decode_header_text("=?UTF-8?B?SGVsbG8g4oKs?=") == "Hello \xE2\x82\xAC");
    CHECK(decode_header_text("=?utf-8?b?SGVsbG8g4oKs?=") == "Hello \xE2\x82\xAC");
    CHECK(decode_header_text("=?ISO-8859-1?Q?Caf=E9_au_lait?=") == "Caf\xC3\xA9 au lait");
    // Adjacent words: the white space between them goes, a character split across them joins.
    CHECK(decode_header_text("=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=") == "\xE2\x82\xAC");
    CHECK(decode_header_text("=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=") == "ab");
    CHECK(decode_header_text("=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?=") == "\xC3\xA9\xC3\xA9");
    // White space between an encoded-word and ordinary text stays.
    CHECK(decode_header_text("Re: =?UTF-8?Q?caf=C3=A9?= ok") == "Re: caf\xC3\xA9 ok");
    CHECK(decode_header_text("Folded\r\n line") == "Folded line");
    // RFC 2231 language suffix.
    CHECK(decode_header_text("=?UTF-8*en?Q?hi?=") == "hi");
    // Unknown charset and malformed words stay as written.
    CHECK(decode_header_text("=?X-NOPE?Q?abc?=") == "=?X-NOPE?Q?abc?=");
    CHECK(decode_header_text("=?UTF-8?X?abc?=") == "=?UTF-8?X?abc?=");
    CHECK(decode_header_text("=?UTF-8?Q?a=ZZ?=") == "=?UTF-8?Q?a=ZZ?=");
    CHECK(decode_header_text("=?UTF-8?Q?unterminated") == "=?UTF-8?Q?unterminated");
    // A language with no charset (found by fuzz_mime's neighbour, by reading): kept as written,
    // neither dropped nor glued to the next word.
    CHECK(decode_header_text("=?*en?Q?abc?=") == "=?*en?Q?abc?=");
    CHECK(decode_header_text("=?*en?Q?abc?= =?utf-8?Q?def?=") == "=?*en?Q?abc?= def");
    // Other charsets convert; invalid bytes never pass through.
    CHECK(decode_header_text("=?KOI8-R?B?8NLJ18XU?=") == "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    CHECK(decode_header_text("=?UTF-8?Q?bad=FF?=") == "bad\xEF\xBF\xBD");
    CHECK(decode_header_text("raw \xC3\xA9 and \xFF") == "raw \xC3\xA9 and \xEF\xBF\xBD");
    CHECK(decode_header_text("") == "");
}

TEST_CASE("MIME parsing: an address group without its ';' (found by fuzz_mime) holds no address, nothing escapes") {
    const auto to = mail::parse_mime_message("To: a:\r\n\r\n");
    CHECK(to.to.empty());
    const auto cc = mail::parse_mime_message("From: x@y.example\r\nCc: a:\r\nTo: b@y.example\r\n\r\nbody\r\n");
    CHECK(cc.cc.empty());
    REQUIRE(cc.to.size() == 1);
    CHECK(cc.to[0].address == "b@y.example");
    REQUIRE(cc.from.has_value());
}

TEST_CASE("address lists: RFC 5322 forms, and the malformed lists that crashed mimetic's parser") {
    using mail::parse_address_list;
    auto addresses = [](std::string_view value) {
        std::vector<std::string> out;
        for (const auto& a : parse_address_list(value)) out.push_back(a.address + "|" + a.display_name);
        return out;
    };
    using V = std::vector<std::string>;
    CHECK(addresses("a@x.example") == V{"a@x.example|"});
    CHECK(addresses(" Jane Q.  Doe <jane@x.example> , b@x.example") == V{"jane@x.example|Jane Q. Doe", "b@x.example|"});
    CHECK(addresses("\"Doe, \\\"J\\\"\" <j@x.example>") == V{"j@x.example|Doe, \"J\""});
    CHECK(addresses("=?UTF-8?B?SsO8cmdlbg==?= <juergen@x.example>") == V{"juergen@x.example|J\xC3\xBCrgen"});
    // Comments are white space, nested or not; a comment is never taken for a name or address.
    CHECK(addresses("a@x.example (Alice (the (first))), (x@evil.example) b@x.example") ==
          V{"a@x.example|", "b@x.example|"});
    // A quoted local part keeps its quotes; an obsolete source route is dropped.
    CHECK(addresses("\"john doe\"@x.example, <@relay.example,@r2.example:c@x.example>") ==
          V{"\"john doe\"@x.example|", "c@x.example|"});
    // Groups give their members; empty groups and empty list members give nothing.
    CHECK(addresses("undisclosed-recipients:;") == V{});
    CHECK(addresses("team: a@x.example, B <b@x.example>; , ,c@x.example,,") ==
          V{"a@x.example|", "b@x.example|B", "c@x.example|"});
    // Malformed: what fuzz_mime fed mimetic (a SEGV in mimetic::Field::~Field), unclosed quotes,
    // angles and comments, stray specials, NUL bytes. Never a crash; only real local parts come out.
    using namespace std::string_literals;
    const std::string crash = "Someone <s,,,,,,,,,,,,:\0\0\0,,,,,,,,/wHy8n\x04\0J\0fr7/P3+/w==\x01\0\0|"s;
    for (const std::string& bad : {crash, std::string("\"unclosed <a@x.example>"), std::string("<a@x.example"),
                                   std::string("(never closed a@x.example"), std::string(">>,,;;::<<"),
                                   std::string("@x.example, <@x.example>"), "a\0b@x.example"s}) {
        CAPTURE(bad);
        for (const auto& a : parse_address_list(bad)) {
            CHECK_FALSE(a.address.empty());
            CHECK(a.address.front() != '@');
            CHECK(a.address.find_first_of(std::string("<>,;\0\r\n", 7)) == std::string::npos);
        }
    }
    CHECK(addresses("<a@x.example") == V{"a@x.example|"});
    // Inside quotes, specials are text; control bytes and folding become one space.
    CHECK(addresses("\"a<b>,;\"@x.example") == V{"\"a<b>,;\"@x.example|"});
    CHECK(addresses("\"a\r\n\t\x01"
                    "b\"@x.example, \"N\r\n ame\" <n@x.example>") == V{"\"a b\"@x.example|", "n@x.example|N ame"});
    CHECK(addresses("\"unclosed <a@x.example>") == V{});
    CHECK(addresses(">>,,;;::<<") == V{});
    CHECK(addresses("a\0b@x.example"s) == V{"ab@x.example|"});
    // Through the whole message: the header value that crashed mimetic.
    const auto m = mail::parse_mime_message("From: x@y.example\r\nTo: " + crash + "\r\n\r\nbody\r\n");
    REQUIRE(m.from.has_value());
    CHECK(m.from->address == "x@y.example");
}

TEST_CASE("MIME parsing: single part 8bit Latin-1, unnamed attachments, groups, encoded file names") {
    const auto m = mail::parse_mime_message(
        "From: \"Doe, Jane\" <jane@x.example>\r\nTo: list: a@x.example, b@x.example;\r\n"
        "Subject: hi\r\nContent-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "K\xF6ln\r\n");
    REQUIRE(m.from.has_value());
    CHECK(m.from->address == "jane@x.example");
    CHECK(m.from->display_name == "Doe, Jane");
    REQUIRE(m.to.size() == 2);
    CHECK(m.to[1].address == "b@x.example");
    CHECK(m.text == std::optional<std::string>("K\xC3\xB6ln\n"));
    CHECK(m.attachments.empty());

    const auto multi = mail::parse_mime_message(
        "From: a@x.example\r\nTo: b@x.example\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n"
        "--zz\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n"
        "--zz\r\nContent-Type: text/plain; name=\"=?UTF-8?B?bm90ZcOkLnR4dA==?=\"\r\n\r\nnote\r\n--zz--\r\n");
    REQUIRE(multi.attachments.size() == 2);
    CHECK(multi.attachments[0].file_name == "attachment-1");
    CHECK(multi.attachments[0].content_type == "image/png");
    CHECK(multi.attachments[0].bytes == "\x89PNG");
    CHECK(multi.attachments[1].file_name == "note\xC3\xA4.txt");  // a named text part is an attachment
    CHECK_FALSE(multi.text.has_value());
}

// SMS encoding and segmenting, template rendering, and the message services.
#include "core_options.hpp"
#include "model/sms_encoding.hpp"
#include "temp_dir.hpp"

#include <ictcore/ictcore.hpp>

#include <doctest/doctest.h>

#include <string>

using namespace ictcore;

namespace {
std::string repeat(std::string_view s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += s;
    return out;
}
}  // namespace

TEST_CASE("GSM 03.38 text is gsm7; anything else is ucs2") {
    auto s = model::sms_shape("Hello @ £5, Ünïcode? no: Ü only. ¿Qué tal? ΔΦΓ");
    CHECK(s.encoding == "ucs2");  // ï is not in the GSM alphabet
    s = model::sms_shape("Hello @ £5, Ü ¿Que tal? ΔΦΓ éèà $_!");
    CHECK(s.encoding == "gsm7");
    CHECK(s.length == 35);
    CHECK(model::sms_shape("price 5€ [x]").encoding == "gsm7");  // extension table
    CHECK(model::sms_shape("back`tick").encoding == "ucs2");
    CHECK(model::sms_shape("سلام").encoding == "ucs2");
    CHECK(model::sms_shape("سلام").length == 4);
}

TEST_CASE("segments: 160/153 septets, 70/67 units, nothing split") {
    CHECK(model::sms_shape(repeat("a", 160)).parts == 1);
    CHECK(model::sms_shape(repeat("a", 161)).parts == 2);
    CHECK(model::sms_shape(repeat("a", 306)).parts == 2);
    CHECK(model::sms_shape(repeat("a", 307)).parts == 3);
    CHECK(model::sms_shape(repeat("{", 80)).parts == 1);  // 160 septets
    CHECK(model::sms_shape(repeat("{", 81)).parts == 2);
    // 152 plain septets then an extension character: it does not fit part one's last septet.
    CHECK(model::sms_shape(repeat("a", 152) + "{" + repeat("a", 151)).parts == 2);
    CHECK(model::sms_shape(repeat("a", 152) + "{" + repeat("a", 152)).parts == 3);
    CHECK(model::sms_shape(repeat("ж", 70)).parts == 1);
    CHECK(model::sms_shape(repeat("ж", 71)).parts == 2);
    CHECK(model::sms_shape(repeat("ж", 134)).parts == 2);
    CHECK(model::sms_shape(repeat("ж", 135)).parts == 3);
    CHECK(model::sms_shape(repeat("😀", 35)).parts == 1);  // surrogate pairs: 70 units
    CHECK(model::sms_shape(repeat("😀", 36)).parts == 2);
    CHECK(model::sms_shape(repeat("😀", 36)).length == 36);
}

TEST_CASE("invalid UTF-8 is refused") {
    for (std::string bad : {std::string("\xC3"), std::string("\xC0\xAF"), std::string("\xED\xA0\x80"),
                            std::string("\xF8\x88\x80\x80\x80"), std::string("a\x80")}) {
        CHECK_THROWS_AS(model::sms_shape(bad), Error);
    }
}

TEST_CASE("templates render contact fields, escaping HTML and keeping headers on one line") {
    Template t;
    t.subject = "Hello [contact:first_name] [contact:last_name]";
    t.body = "<p>Dear [contact:first_name], your number is [contact:phone]. [contact:nickname] [other]</p>";
    t.body_alt = "Dear [contact:first_name] ([contact:email])";
    Contact c;
    c.first_name = "<b>Ali</b> & co";
    c.phone = "+923001234567";
    c.last_name = "Khan\r\nBcc: victim@example.com";
    auto r = render(t, c);
    CHECK(r.subject == "Hello <b>Ali</b> & co Khan  Bcc: victim@example.com");
    CHECK(r.body ==
          "<p>Dear &lt;b&gt;Ali&lt;/b&gt; &amp; co, your number is +923001234567. [contact:nickname] [other]</p>");
    CHECK(r.body_alt == "Dear <b>Ali</b> & co ()");  // unset email renders empty
}

TEST_CASE("texts and templates through Core: derived fields follow updates, owners apply") {
    test::TempDir dir;
    Options o = test::core_options(dir);
    Core core(o);
    auto admin = core.auth().from_password("admin", "admin-password");
    User u;
    u.username = "bob";
    u.passwd = "bob-password";
    core.users().create(admin, u);
    auto bob = core.auth().from_password("bob", "bob-password");

    Text t;
    t.name = "greeting";
    t.data = "Hello";
    const auto id = core.texts().create(bob, t);
    auto stored = core.texts().get(bob, id);
    CHECK(stored.encoding == "gsm7");
    CHECK(stored.length == 5);
    CHECK(stored.parts == 1);
    auto changed = core.texts().update(bob, id, [](Text& x) {
        x.data = "Привет";
        x.length = 999;  // derived: overwritten
    });
    CHECK(changed.encoding == "ucs2");
    CHECK(changed.length == 6);
    CHECK_THROWS_AS(core.texts().update(bob, id, [](Text& x) { x.type = "morse"; }), Error);
    CHECK(core.texts().get(bob, id).type == std::nullopt);

    Template tmpl;
    tmpl.name = "welcome";
    tmpl.subject = "Hi [contact:first_name]";
    tmpl.body = "<p>Hi [contact:first_name]</p>";
    const auto tid = core.templates().create(bob, tmpl);
    Contact c;
    c.first_name = "Ann";
    c.phone = "5550100";
    const auto cid = core.contacts().create(bob, c);
    auto rendered = core.templates().render(bob, tid, cid);
    CHECK(rendered.subject == "Hi Ann");
    CHECK(rendered.body == "<p>Hi Ann</p>");
    CHECK_THROWS_AS(core.templates().get(admin, tid + 1), Error);
    User v;
    v.username = "eve";
    v.passwd = "eve-password";
    core.users().create(admin, v);
    auto eve = core.auth().from_password("eve", "eve-password");
    CHECK_THROWS_AS(core.templates().render(eve, tid, cid), Error);
    CHECK(core.texts().list(eve, {}).total() == 0);
    CHECK(core.texts().list(admin, {}).total() == 1);
}

// CSV import and export of a group's contacts: RFC 4180 quoting, header detection, blank
// lines, rejected rows with their line numbers, export format, round trips, and 100k rows.
#include "helpers.hpp"

#include <map>
#include <set>

namespace {

struct Rejection {
    std::int64_t line;
    std::string reason;
};

struct Report {
    std::int64_t imported = -1;
    std::int64_t rejected = -1;
    std::vector<Rejection> rejections;
};

Report import_csv(Client& c, std::int64_t group, const std::string& csv) {
    Response r = c.post_raw("/groups/" + std::to_string(group) + "/csv", csv, "text/csv");
    REQUIRE_STATUS(r, 200);
    json::object o = as_object(r);
    Report out;
    out.imported = int_field(o, "imported");
    out.rejected = int_field(o, "rejected");
    const json::value& list = member(o, "rejections");
    REQUIRE_MESSAGE(list.is_array(), r.describe());
    for (const auto& v : list.as_array()) {
        REQUIRE(v.is_object());
        out.rejections.push_back({int_field(v.as_object(), "line"), str_field(v.as_object(), "reason")});
    }
    return out;
}

std::vector<std::int64_t> lines_of(const Report& r) {
    std::vector<std::int64_t> out;
    for (const auto& x : r.rejections) out.push_back(x.line);
    return out;
}

json::array group_contacts(Client& c, std::int64_t group, const std::string& query = "") {
    Response r = c.get("/groups/" + std::to_string(group) + "/contacts" + query);
    REQUIRE_STATUS(r, 200);
    return as_array(r);
}

// The contact's fields in CSV column order, absent/null as "".
std::vector<std::string> as_row(const json::object& c) {
    std::vector<std::string> row;
    for (const auto& col : csv_columns()) row.push_back(opt_str(c, col).value_or(""));
    return row;
}

const json::object* by_phone(const json::array& contacts, const std::string& phone) {
    for (const auto& v : contacts)
        if (phone_digits(v.as_object().at("phone").as_string()) == phone_digits(phone)) return &v.as_object();
    return nullptr;
}

std::int64_t contact_total(Client& c, std::int64_t group) {
    Response r = c.get("/groups/" + std::to_string(group));
    REQUIRE_STATUS(r, 200);
    return int_field(as_object(r), "contact_total");
}

}  // namespace

TEST_CASE("csv: quoting, embedded commas and newlines, header, blank lines, rejected lines") {
    ServerProcess server;
    Client admin = admin_client(server);
    std::int64_t g = create_group(admin, "imported");

    const std::string csv =
        "phone,first_name,last_name,email,address,custom1,custom2,custom3,description\n"                     // 1 header
        "3001000001,\"Smith, John\",Doe,john@example.com,\"12 Main St, Apt 4\",,,,\"He said \"\"hi\"\"\"\n"  // 2
        "3001000002,Multi,Line,,\"Line one\nLine two\",x,y,z,desc\n"                                         // 3-4
        "\n"                                                                                                 // 5 blank
        "3001000003\n"             // 6 phone only
        "12,Bad,Phone\n"           // 7 rejected
        "3001000004,Good,After\n"  // 8
        "\"abc\",Bad,Two\n"        // 9 rejected
        "xx,\"Bad\nName\",z\n"     // 10-11 rejected
        "\n"                       // 12 blank
        "\n"                       // 13 blank
        "\"3001000005\",\"Quoted\",\"Everything\",\"q@example.com\",\"addr\",\"1\",\"2\",\"3\",\"d\"\n"  // 14
        "3001000006,Last,Row";  // 15, no final newline

    Report rep = import_csv(admin, g, csv);
    CHECK(rep.imported == 6);
    CHECK(rep.rejected == 3);
    CHECK(lines_of(rep) == std::vector<std::int64_t>{7, 9, 10});
    for (const auto& x : rep.rejections) {
        CAPTURE(x.line);
        CHECK_MESSAGE(contains_ci(x.reason, "phone"), "reason should say what is wrong: " << x.reason);
    }
    CHECK(contact_total(admin, g) == 6);

    json::array contacts = group_contacts(admin, g);
    REQUIRE(contacts.size() == 6);
    for (const auto& v : contacts) {
        const json::object& c = v.as_object();
        CHECK_MESSAGE(str_field(c, "phone") != "phone", "the header row must not be imported");
        CHECK(int_field(c, "created_by") == user_id_of(admin, "admin"));
    }
    const json::object* c1 = by_phone(contacts, "3001000001");
    REQUIRE(c1);
    CHECK(str_field(*c1, "first_name") == "Smith, John");
    CHECK(str_field(*c1, "last_name") == "Doe");
    CHECK(str_field(*c1, "email") == "john@example.com");
    CHECK(str_field(*c1, "address") == "12 Main St, Apt 4");
    CHECK(str_field(*c1, "description") == "He said \"hi\"");
    const json::object* c2 = by_phone(contacts, "3001000002");
    REQUIRE(c2);
    CHECK(str_field(*c2, "first_name") == "Multi");
    CHECK(str_field(*c2, "address") == "Line one\nLine two");
    CHECK(str_field(*c2, "custom1") == "x");
    CHECK(str_field(*c2, "custom2") == "y");
    CHECK(str_field(*c2, "custom3") == "z");
    CHECK(str_field(*c2, "description") == "desc");
    CHECK(by_phone(contacts, "3001000003") != nullptr);  // a one-column line is a phone
    const json::object* c4 = by_phone(contacts, "3001000004");
    REQUIRE(c4);
    CHECK(str_field(*c4, "first_name") == "Good");
    CHECK(str_field(*c4, "last_name") == "After");
    const json::object* c5 = by_phone(contacts, "3001000005");
    REQUIRE(c5);
    CHECK(as_row(*c5) ==
          std::vector<std::string>{"3001000005", "Quoted", "Everything", "q@example.com", "addr", "1", "2", "3", "d"});
    const json::object* c6 = by_phone(contacts, "3001000006");
    REQUIRE(c6);
    CHECK(str_field(*c6, "first_name") == "Last");
    CHECK(str_field(*c6, "last_name") == "Row");

    // Export: text/csv, no header, the contract's columns, RFC 4180 quoting that round-trips.
    Response r = admin.get("/groups/" + std::to_string(g) + "/csv");
    REQUIRE_STATUS(r, 200);
    CHECK_MESSAGE(r.header("Content-Type").value_or("").rfind("text/csv", 0) == 0, r.describe());
    auto rows = parse_csv(r.body);
    REQUIRE(rows.size() == 6);
    std::set<std::string> seen;
    for (const auto& row : rows) {
        REQUIRE(row.size() == 9);
        CHECK(row[0] != "phone");
        const json::object* c = by_phone(contacts, row[0]);
        REQUIRE_MESSAGE(c, "exported phone " << row[0] << " is not a member");
        CHECK(row == as_row(*c));
        seen.insert(phone_digits(row[0]));
    }
    CHECK(seen.size() == 6);

    // Re-import the export into another group: same contacts, nothing rejected.
    std::int64_t g2 = create_group(admin, "round trip");
    Report rep2 = import_csv(admin, g2, r.body);
    CHECK(rep2.imported == 6);
    CHECK(rep2.rejected == 0);
    json::array copies = group_contacts(admin, g2);
    REQUIRE(copies.size() == 6);
    for (const auto& v : copies) {
        const json::object& copy = v.as_object();
        const json::object* orig = by_phone(contacts, str_field(copy, "phone"));
        REQUIRE(orig);
        CHECK(as_row(copy) == as_row(*orig));
        CHECK(int_field(copy, "contact_id") != int_field(*orig, "contact_id"));
    }
    CHECK(contact_total(admin, g) == 6);
}

TEST_CASE("csv: CRLF line ends, no header, header only, empty body, other field rules") {
    ServerProcess server;
    Client admin = admin_client(server);

    // RFC 4180 uses CRLF; no header row here, so the first line is data.
    std::int64_t g = create_group(admin, "crlf");
    const std::string crlf =
        "3002000001,Crlf,One,,,,,,desc one\r\n"  // 1
        "99,Bad,Crlf\r\n"                        // 2 rejected
        "3002000002,Crlf,\"Two\r\nLines\"\r\n"   // 3-4
        "3002000003,Crlf,Three\r\n"              // 5
        "bad,Bad,Six\r\n"                        // 6 rejected
        "\r\n"                                   // 7 blank
        "3002000004,Crlf,Four\r\n";              // 8
    Report rep = import_csv(admin, g, crlf);
    CHECK(rep.imported == 4);
    CHECK(rep.rejected == 2);
    CHECK(lines_of(rep) == std::vector<std::int64_t>{2, 6});
    json::array contacts = group_contacts(admin, g);
    REQUIRE(contacts.size() == 4);
    const json::object* one = by_phone(contacts, "3002000001");
    REQUIRE(one);
    CHECK(str_field(*one, "first_name") == "Crlf");
    CHECK(str_field(*one, "description") == "desc one");  // no stray '\r'
    const json::object* three = by_phone(contacts, "3002000003");
    REQUIRE(three);
    CHECK(str_field(*three, "last_name") == "Three");
    const json::object* two = by_phone(contacts, "3002000002");
    REQUIRE(two);
    std::string two_last = str_field(*two, "last_name");
    CHECK(two_last.rfind("Two", 0) == 0);
    CHECK(two_last.find("Lines") != std::string::npos);
    CHECK(two_last.find('\n') != std::string::npos);

    // A header row alone imports nothing and rejects nothing.
    std::int64_t h = create_group(admin, "header only");
    rep = import_csv(admin, h, "phone,first_name,last_name,email,address,custom1,custom2,custom3,description\n");
    CHECK(rep.imported == 0);
    CHECK(rep.rejected == 0);
    CHECK(contact_total(admin, h) == 0);

    // Phones in all the accepted spellings; phone-only lines.
    std::int64_t p = create_group(admin, "phones");
    rep = import_csv(admin, p, "+92 300 1234567\n(300) 555-0001\n300.555.0002\n123\n1234567890123456\n");
    CHECK(rep.imported == 4);
    CHECK(rep.rejected == 1);
    CHECK(lines_of(rep) == std::vector<std::int64_t>{5});
    std::set<std::string> phones;
    for (const auto& v : group_contacts(admin, p)) phones.insert(phone_digits(v.as_object().at("phone").as_string()));
    CHECK(phones == std::set<std::string>{"+923001234567", "3005550001", "3005550002", "123"});

    // Other field rules apply to imported rows too (a bad e-mail, an over-long address).
    std::int64_t f = create_group(admin, "fields");
    rep = import_csv(admin, f,
                     "3003000001,Ok,Row,ok@example.com\n"
                     "3003000002,Bad,Mail,not-an-email\n"
                     "3003000003,Long,Address,," +
                         std::string(1025, 'a') +
                         "\n"
                         "3003000004,Ok,Again\n");
    CHECK(rep.imported == 2);
    CHECK(rep.rejected == 2);
    CHECK(lines_of(rep) == std::vector<std::int64_t>{2, 3});
    CHECK(contact_total(admin, f) == 2);

    // Empty body: 411; nothing imported.
    check_error(admin.post_raw("/groups/" + std::to_string(f) + "/csv", "", "text/csv"), 411);
    CHECK(contact_total(admin, f) == 2);

    // Export of an empty group: text/csv without any row.
    std::int64_t empty = create_group(admin, "empty");
    Response r = admin.get("/groups/" + std::to_string(empty) + "/csv");
    REQUIRE_STATUS(r, 200);
    CHECK(r.header("Content-Type").value_or("").rfind("text/csv", 0) == 0);
    CHECK(parse_csv(r.body).empty());

    // Imported contacts are ordinary contacts.
    Response all = admin.get("/contacts");
    REQUIRE_STATUS(all, 200);
    CHECK(total_count(all) == 4 + 4 + 2);

    // No auth: 401 on import, export and sample.
    Client anon = server.client();
    check_error(anon.post_raw("/groups/" + std::to_string(g) + "/csv", "3001234567\n", "text/csv"), 401);
    check_error(anon.get("/groups/" + std::to_string(g) + "/csv"), 401);
    check_error(anon.get("/groups/sample/csv"), 401);
    CHECK(contact_total(admin, g) == 4);
}

TEST_CASE("csv: 100000 rows imported, listed and exported back") {
    ServerProcess server;
    Client admin = admin_client(server);
    admin.set_timeout(180s);
    std::int64_t g = create_group(admin, "big");

    constexpr int N = 100000;
    std::vector<std::vector<std::string>> expected(N);
    std::string csv = "phone,first_name,last_name,email,address,custom1,custom2,custom3,description\n";
    csv.reserve(static_cast<std::size_t>(N) * 90);
    std::int64_t physical_lines = 1;
    auto quote = [](const std::string& s) {
        std::string q = "\"";
        for (char ch : s) {
            if (ch == '"') q += '"';
            q += ch;
        }
        return q + "\"";
    };
    for (int i = 0; i < N; ++i) {
        char phone[32];
        std::snprintf(phone, sizeof phone, "+1555%07d", i);
        std::string n = std::to_string(i);
        std::vector<std::string> row{phone,
                                     "First" + n,
                                     i % 10 == 0 ? "Last, " + n : "Last" + n,
                                     "user" + n + "@example.com",
                                     i % 1000 == 0 ? "Line A\nLine B " + n : "Addr " + n,
                                     n,
                                     "c2",
                                     "",
                                     i % 500 == 0 ? "say \"x\" " + n : "d"};
        for (std::size_t k = 0; k < row.size(); ++k) {
            if (k) csv += ',';
            const std::string& v = row[k];
            csv += v.find_first_of(",\"\n") == std::string::npos ? v : quote(v);
        }
        csv += '\n';
        physical_lines += 1 + (i % 1000 == 0 ? 1 : 0);
        expected[static_cast<std::size_t>(i)] = std::move(row);
    }
    // One bad row at the very end: its line number counts the embedded newlines above.
    csv += "not-a-phone,Bad,Row\n";
    const std::int64_t bad_line = physical_lines + 1;

    Report rep = import_csv(admin, g, csv);
    CHECK(rep.imported == N);
    CHECK(rep.rejected == 1);
    CHECK(lines_of(rep) == std::vector<std::int64_t>{bad_line});
    CHECK(contact_total(admin, g) == N);
    {
        Response r = admin.get("/statistics");
        REQUIRE_STATUS(r, 200);
        CHECK(int_field(as_object(r), "contact_total") == N);
    }

    // Paging and a suffix filter on the big group.
    {
        Response r = admin.get("/groups/" + std::to_string(g) + "/contacts?limit=10&offset=99995");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == N);
        json::array page = as_array(r);
        CHECK(page.size() == 5);
        r = admin.get("/groups/" + std::to_string(g) + "/contacts?phone=0012345");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == 1);
        json::array hit = as_array(r);
        REQUIRE(hit.size() == 1);
        CHECK(as_row(hit[0].as_object()) == expected[12345]);
        r = admin.get("/contacts?first_name=First9999");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == 11);  // First9999 and First99990..First99999
    }

    // The whole list without a limit: every row, once.
    {
        Response r = admin.get("/groups/" + std::to_string(g) + "/contacts");
        REQUIRE_STATUS(r, 200);
        CHECK(total_count(r) == N);
        json::array all = as_array(r);
        CHECK(all.size() == static_cast<std::size_t>(N));
        std::set<std::int64_t> ids;
        for (const auto& v : all) ids.insert(int_field(v.as_object(), "contact_id"));
        CHECK(ids.size() == static_cast<std::size_t>(N));
    }

    // Export and compare every field of every row.
    Response r = admin.get("/groups/" + std::to_string(g) + "/csv");
    REQUIRE_STATUS(r, 200);
    CHECK(r.header("Content-Type").value_or("").rfind("text/csv", 0) == 0);
    auto rows = parse_csv(r.body);
    CHECK(rows.size() == static_cast<std::size_t>(N));
    std::vector<bool> found(N, false);
    std::size_t mismatches = 0, duplicates = 0;
    std::string first_mismatch;
    for (const auto& row : rows) {
        if (row.size() != 9 || row[5].empty() || row[5].find_first_not_of("0123456789") != std::string::npos) {
            if (mismatches++ == 0) first_mismatch = "malformed row, custom1=" + (row.size() > 5 ? row[5] : "?");
            continue;
        }
        std::size_t i = std::stoul(row[5]);
        if (i >= static_cast<std::size_t>(N) || row != expected[i]) {
            if (mismatches++ == 0) {
                first_mismatch = "row " + row[5] + ":";
                for (const auto& f : row) first_mismatch += " [" + f + "]";
            }
            continue;
        }
        if (found[i]) ++duplicates;
        found[i] = true;
    }
    CHECK_MESSAGE(mismatches == 0, mismatches << " exported rows differ from the import; first: " << first_mismatch);
    CHECK(duplicates == 0);
    CHECK(std::count(found.begin(), found.end(), true) == N);
}

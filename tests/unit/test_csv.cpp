// CSV reading with line numbers, and quoting on output.
#include "csv/csv_reader.hpp"
#include "csv/csv_writer.hpp"

#include <ictcore/error.hpp>

#include <doctest/doctest.h>

using namespace ictcore;

namespace {
struct Record {
    std::int64_t line;
    std::vector<std::string> fields;
};
std::vector<Record> read_all(std::string_view text) {
    std::vector<Record> out;
    csv::read_records(text, [&](std::int64_t line, std::vector<std::string>& f) { out.push_back({line, f}); });
    return out;
}
}  // namespace

TEST_CASE("records carry the line they start on") {
    auto r = read_all("a,b\n\n\"multi\nline\",c\r\nlast");
    REQUIRE(r.size() == 3);
    CHECK(r[0].line == 1);
    CHECK(r[1].line == 3);
    CHECK(r[1].fields[0] == "multi\nline");
    CHECK(r[1].fields[1] == "c");
    CHECK(r[2].line == 5);
    CHECK(r[2].fields == std::vector<std::string>{"last"});
}

TEST_CASE("quotes, embedded commas and doubled quotes") {
    auto r = read_all("\"x, y\",\"say \"\"hi\"\"\",plain\n");
    REQUIRE(r.size() == 1);
    CHECK(r[0].fields == std::vector<std::string>{"x, y", "say \"hi\"", "plain"});
}

TEST_CASE("a byte-order mark is skipped") {
    auto r = read_all("\xEF\xBB\xBFphone\n123\n");
    REQUIRE(r.size() == 2);
    CHECK(r[0].fields[0] == "phone");
}

TEST_CASE("malformed quoting is refused with its line") {
    try {
        read_all("ok\n\"open\nstill open");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::invalid);
        CHECK(std::string(e.what()).find("line 2") != std::string::npos);
    }
}

TEST_CASE("fields are quoted only when needed") {
    std::string line;
    csv::append_field(line, "plain");
    line += ',';
    csv::append_field(line, "a,b");
    line += ',';
    csv::append_field(line, "say \"hi\"");
    line += ',';
    csv::append_field(line, "two\nlines");
    CHECK(line == "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\"");
    auto back = read_all(line + "\n");
    REQUIRE(back.size() == 1);
    CHECK(back[0].fields == std::vector<std::string>{"plain", "a,b", "say \"hi\"", "two\nlines"});
}

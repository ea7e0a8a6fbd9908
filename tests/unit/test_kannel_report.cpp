// KannelGateway::parse_report: Kannel's DLR types map to outcomes; a type with trailing bytes
// ("1junk", found by reading the code behind fuzz_kannel_dlr) is refused, not read as its digits.
#include "gateways/kannel.hpp"

#include <ictcore/error.hpp>

#include <doctest/doctest.h>

using namespace ictcore;

TEST_CASE("kannel report: types 1, 2, 16 and the intermediate ones; malformed types are invalid") {
    gateways::KannelGateway g;
    auto kind = [&](std::map<std::string, std::string> p) { return g.parse_report(p); };
    CHECK(kind({{"type", "1"}})->kind == Outcome::Kind::delivered);
    CHECK(kind({{"type", "2"}, {"reason", "undelivered"}})->kind == Outcome::Kind::failed);
    CHECK(kind({{"type", "16"}, {"reason", "NACK"}})->kind == Outcome::Kind::rejected);
    CHECK_FALSE(kind({{"type", "4"}}).has_value());
    CHECK_FALSE(kind({{"type", "8"}}).has_value());
    for (const char* bad : {"1junk", "16x", "", " 1", "x1", "99999999999999999999"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(kind({{"type", bad}}), Error);
    }
    CHECK_THROWS_AS(kind({}), Error);
}

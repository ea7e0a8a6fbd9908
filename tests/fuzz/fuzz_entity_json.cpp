// Fuzz target: JSON request bodies decoded into every described entity, the way the server
// decodes them (parse_json_object, apply_json, validate). Checks that only ictcore::Error comes
// out, and that an accepted entity survives encode → decode → validate unchanged: validation's
// normalisation is idempotent and the JSON codec loses nothing it outputs.
#include <ictcore/account.hpp>
#include <ictcore/campaign.hpp>
#include <ictcore/contact.hpp>
#include <ictcore/error.hpp>
#include <ictcore/group.hpp>
#include <ictcore/json.hpp>
#include <ictcore/message.hpp>
#include <ictcore/program.hpp>
#include <ictcore/provider.hpp>
#include <ictcore/statistics.hpp>
#include <ictcore/transmission.hpp>
#include <ictcore/user.hpp>

#include <boost/json/serialize.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_support.hpp"

namespace {

using ictcore::fuzz::check;
namespace json = boost::json;

// `validated`: false for output-only entities, which have no validate<>.
template <class Entity, bool validated = true>
void decode(const json::object& body) {
    Entity entity;
    try {
        ictcore::apply_json(entity, body);
        if constexpr (validated) ictcore::validate(entity, true);
    } catch (const ictcore::Error& e) {
        check(e.code() == ictcore::Errc::invalid, "decoding threw an Error that is not invalid");
        return;
    }
    const json::object encoded = ictcore::to_json(entity);
    Entity again;
    try {
        // Secret (input-only) fields are not output, so the copy is checked as an update.
        ictcore::apply_json(again, ictcore::parse_json_object(json::serialize(encoded)));
        if constexpr (validated) ictcore::validate(again, false);
    } catch (const ictcore::Error&) {
        ictcore::fuzz::fail("an accepted entity's own JSON is refused");
    }
    check(ictcore::to_json(again) == encoded, "an accepted entity changes on encode and decode");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    json::object body;
    try {
        body = ictcore::parse_json_object(std::string_view(reinterpret_cast<const char*>(data), size));
    } catch (const ictcore::Error& e) {
        check(e.code() == ictcore::Errc::invalid, "parse_json_object threw an Error that is not invalid");
        return 0;
    }
    decode<ictcore::Contact>(body);
    decode<ictcore::Group>(body);
    decode<ictcore::User>(body);
    decode<ictcore::Role>(body);
    decode<ictcore::Permission>(body);
    decode<ictcore::Text>(body);
    decode<ictcore::Template>(body);
    decode<ictcore::Recording>(body);
    decode<ictcore::Document>(body);
    decode<ictcore::Account>(body);
    decode<ictcore::Provider>(body);
    decode<ictcore::Program>(body);
    decode<ictcore::Transmission>(body);
    decode<ictcore::Spool>(body);
    decode<ictcore::SpoolResult>(body);
    decode<ictcore::Campaign>(body);
    decode<ictcore::StatisticsReport, false>(body);
    return 0;
}

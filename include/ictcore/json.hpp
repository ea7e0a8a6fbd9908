// JSON codec for described entities, driven by Describe<E>: the server and embedding
// programs share one encoding. Decoding validates types; `validate` checks values.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace ictcore {

template <class Entity>
boost::json::object to_json(const Entity& value);

// Sets the fields present in `object` (input fields only; unknown keys are ignored).
// Throws Error(invalid) naming the field on a wrong type.
template <class Entity>
void apply_json(Entity& value, const boost::json::object& object);

// Throws Error(invalid) on the first field that breaks its rules. `creating` also requires
// input-only (secret) required fields, which are not stored in readable form.
template <class Entity>
void validate(Entity& value, bool creating);

// Parses a request body; Error(invalid) says where parsing stopped and why.
boost::json::value parse_json(std::string_view text);
// Parses a body that must be a JSON object (an empty body counts as an empty object).
boost::json::object parse_json_object(std::string_view text);

}  // namespace ictcore

// derive(E&): fields the library computes from other fields of the same entity, refreshed
// before every store so they can never disagree with what they describe.
#pragma once

#include <ictcore/message.hpp>

namespace ictcore::model {

template <class Entity>
void derive(Entity&) {}

// length, encoding and parts from data; refuses an unknown type.
template <>
void derive<Text>(Text& text);

}  // namespace ictcore::model

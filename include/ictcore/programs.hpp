// Programs: what is delivered (or how something received is handled). The message a program
// refers to must exist and belong to the caller.
#pragma once

#include <ictcore/entity_service.hpp>
#include <ictcore/program.hpp>
#include <ictcore/transmission.hpp>

#include <string_view>

namespace ictcore {

class Programs : public EntityService<Program> {
public:
    using EntityService::EntityService;

    // Creates a program of `type` (Error(not_found) for an unknown type): the type fixes
    // service_flag and direction; the type's message field is required and must name a
    // message of the caller (else Error(invalid)).
    std::int64_t create(const Principal& who, std::string_view type, Program value);
    // Programs are not edited: a program in use must keep meaning what it meant.
    Program update(const Principal&, std::int64_t, const std::function<void(Program&)>&) = delete;
};

}  // namespace ictcore

// Program: what to do with a contact — send an SMS text, an e-mail template, a fax document,
// play a recording — or how to handle something received. Created by type
// (`POST /programs/sendsms`, …); the type fixes its service and direction.
#pragma once

#include <ictcore/field.hpp>

#include <string_view>

namespace ictcore {

struct Program {
    std::int64_t program_id = 0;
    std::string name;
    std::string type;  // sendsms, sendemail, sendfax, voicemessage, receive…, emailtofax, faxtoemail
    std::optional<std::int64_t> parent_id;
    std::optional<std::int64_t> account_id;
    std::optional<std::int64_t> text_id;       // sendsms
    std::optional<std::int64_t> template_id;   // sendemail, faxtoemail
    std::optional<std::int64_t> document_id;   // sendfax
    std::optional<std::int64_t> recording_id;  // voicemessage
    std::int64_t service_flag = 0;             // from the type
    std::string direction;                     // from the type: outbound or inbound
    std::int64_t created_by = 0;
};

template <>
struct Describe<Program> {
    static constexpr std::string_view entity = "program";
    static constexpr std::string_view table = "program";
    static constexpr std::string_view id = "program_id";
    using P = Program;
    static constexpr auto fields =
        std::make_tuple(Field<P, std::int64_t>{"program_id", &P::program_id, field::key},
                        Field<P, std::string>{"name", &P::name, field::required},
                        Field<P, std::string>{"type", &P::type, field::readonly | field::exact, -1, 32},
                        Field<P, std::optional<std::int64_t>>{"parent_id", &P::parent_id},
                        Field<P, std::optional<std::int64_t>>{"account_id", &P::account_id},
                        Field<P, std::optional<std::int64_t>>{"text_id", &P::text_id},
                        Field<P, std::optional<std::int64_t>>{"template_id", &P::template_id},
                        Field<P, std::optional<std::int64_t>>{"document_id", &P::document_id},
                        Field<P, std::optional<std::int64_t>>{"recording_id", &P::recording_id},
                        Field<P, std::int64_t>{"service_flag", &P::service_flag, field::readonly},
                        Field<P, std::string>{"direction", &P::direction, field::readonly | field::exact, -1, 16},
                        Field<P, std::int64_t>{"created_by", &P::created_by, field::owner});
};

// What a program type means.
struct ProgramType {
    std::string_view name;
    std::int64_t service_flag;
    std::string_view direction;  // "outbound": transmissions are sent; "inbound": created on receipt
    // The message field the type needs ("text_id", …), empty when it needs none.
    std::string_view message_field;
};

// The type's description, or nullopt for an unknown type.
std::optional<ProgramType> program_type(std::string_view name);

}  // namespace ictcore

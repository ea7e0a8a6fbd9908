// Program types and service names (see ictcore/program.hpp and ictcore/service_flag.hpp).
#include <ictcore/program.hpp>
#include <ictcore/service_flag.hpp>

#include <array>

namespace ictcore {

std::string_view service::name(std::int64_t flag) noexcept {
    switch (flag) {
        case voice:
            return "voice";
        case fax:
            return "fax";
        case sms:
            return "sms";
        case email:
            return "email";
        default:
            return "unknown";
    }
}

bool service::valid(std::int64_t flag) noexcept { return flag == voice || flag == fax || flag == sms || flag == email; }

std::optional<ProgramType> program_type(std::string_view name) {
    // emailtofax and faxtoemail act on what is received: a received e-mail's attachment goes
    // out as a fax, a received fax goes out as an e-mail with the PDF.
    static constexpr std::array<ProgramType, 9> types{{
        {"sendsms", service::sms, "outbound", "text_id"},
        {"sendemail", service::email, "outbound", "template_id"},
        {"sendfax", service::fax, "outbound", "document_id"},
        {"voicemessage", service::voice, "outbound", "recording_id"},
        {"receivesms", service::sms, "inbound", ""},
        {"receiveemail", service::email, "inbound", ""},
        {"receivefax", service::fax, "inbound", ""},
        {"emailtofax", service::fax, "inbound", ""},
        {"faxtoemail", service::email, "inbound", ""},
    }};
    for (const auto& t : types) {
        if (t.name == name) return t;
    }
    return std::nullopt;
}

}  // namespace ictcore

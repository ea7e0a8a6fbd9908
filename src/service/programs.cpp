// Programs: created by type; the type's message must be the caller's. Programs are never
// edited, so a transmission always means what it meant when it was created.
#include <ictcore/account.hpp>
#include <ictcore/message.hpp>
#include <ictcore/programs.hpp>

#include "model/validation_impl.hpp"
#include "service/service_support.hpp"

namespace ictcore {

namespace {

template <class Entity>
void require_visible(store::Connection& c, const std::optional<std::int64_t>& id, const store::Scope& scope) {
    if (id && !store::Table<Entity>::exists(c, *id, scope)) {
        throw Error(Errc::invalid, fmt::format("{} {} not found", Describe<Entity>::entity, *id));
    }
}

}  // namespace

std::int64_t Programs::create(const Principal& who, std::string_view type, Program value) {
    who.require("program_create");
    const auto kind = program_type(type);
    if (!kind) throw Error(Errc::not_found, fmt::format("unknown program type '{}'", type));
    value.type = std::string(kind->name);
    value.service_flag = kind->service_flag;
    value.direction = std::string(kind->direction);
    // Only the type's own message counts; faxtoemail may name the template of its e-mails.
    const auto keep = [&](std::string_view field, std::optional<std::int64_t>& id) {
        if (kind->message_field != field && !(kind->name == "faxtoemail" && field == "template_id")) id.reset();
    };
    keep("text_id", value.text_id);
    keep("template_id", value.template_id);
    keep("document_id", value.document_id);
    keep("recording_id", value.recording_id);
    model::validate_fields(value, model::ValidationMode::create);
    const std::optional<std::int64_t>* message = nullptr;
    if (kind->message_field == "text_id") message = &value.text_id;
    if (kind->message_field == "template_id") message = &value.template_id;
    if (kind->message_field == "document_id") message = &value.document_id;
    if (kind->message_field == "recording_id") message = &value.recording_id;
    if (message && !*message) {
        throw Error(Errc::invalid, fmt::format("{} is required for a {} program", kind->message_field, kind->name));
    }
    service::set_owner(value, who.user_id());
    const auto scope = detail::CoreState::scope_of(who);
    return state_.store->write([&](store::Connection& c) {
        require_visible<Text>(c, value.text_id, scope);
        require_visible<Template>(c, value.template_id, scope);
        require_visible<Document>(c, value.document_id, scope);
        require_visible<Recording>(c, value.recording_id, scope);
        require_visible<Account>(c, value.account_id, scope);
        require_visible<Program>(c, value.parent_id, scope);
        return store::Table<Program>::insert(c, value);
    });
}

}  // namespace ictcore

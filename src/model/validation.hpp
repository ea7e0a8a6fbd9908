// Value rules shared by JSON input, CSV import and the services.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ictcore::model {

// Removes spaces, dashes, dots and parentheses; valid when an optional '+' and 3-15 digits remain.
std::optional<std::string> normalize_phone(std::string_view raw);
bool valid_email(std::string_view email);
bool valid_username(std::string_view username);

enum class ValidationMode {
    create,      // every required field, secrets included
    update,      // secrets are not stored readably, so an absent one keeps its stored value
    csv_import,  // only the first CSV column (the phone) is required: a one-column line is a phone
};

}  // namespace ictcore::model

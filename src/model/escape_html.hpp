// escape_html: text made safe to place in HTML (template bodies, generated e-mails).
#pragma once

#include <string>
#include <string_view>

namespace ictcore::model {

std::string escape_html(std::string_view s);

}  // namespace ictcore::model

// Permission catalogue: every resource with its actions, generated once.
#include "store/permission_catalog.hpp"

#include <deque>
#include <string>

namespace ictcore::store {

namespace {

struct Resource {
    std::string_view name;
    std::vector<std::string_view> actions;
};

const std::vector<Resource>& resources() {
    static const std::vector<Resource> all = {
        {"user", {"create", "read", "update", "delete"}},
        {"role", {"read"}},
        {"permission", {"read"}},
        {"account", {"create", "read", "update", "delete"}},
        {"provider", {"create", "read", "update", "delete"}},
        {"contact", {"create", "read", "update", "delete"}},
        {"group", {"create", "read", "update", "delete"}},
        {"document", {"create", "read", "update", "delete"}},
        {"recording", {"create", "read", "update", "delete"}},
        {"template", {"create", "read", "update", "delete"}},
        {"text", {"create", "read", "update", "delete"}},
        {"program", {"create", "read", "update", "delete"}},
        {"transmission", {"create", "read", "update", "delete", "send", "retry", "schedule"}},
        {"spool", {"read"}},
        {"campaign", {"create", "read", "update", "delete", "start", "stop", "schedule"}},
        {"schedule", {"create", "read", "delete"}},
        {"statistic", {"read"}},
    };
    return all;
}

// Names and descriptions must outlive the string_views handed out; a deque never moves them.
std::vector<PermissionSeed> build_catalog() {
    static std::deque<std::string> texts;
    std::vector<PermissionSeed> out;
    for (const auto& r : resources()) {
        texts.push_back("every " + std::string(r.name) + " action");
        out.push_back({r.name, texts.back()});
        for (auto action : r.actions) {
            texts.push_back(std::string(r.name) + "_" + std::string(action));
            const std::string_view name = texts.back();
            texts.push_back(std::string(action) + " " + std::string(r.name));
            out.push_back({name, texts.back()});
        }
    }
    return out;
}

}  // namespace

const std::vector<PermissionSeed>& permission_catalog() {
    static const std::vector<PermissionSeed> catalog = build_catalog();
    return catalog;
}

const std::vector<RoleSeed>& seeded_roles() {
    static const std::vector<RoleSeed> roles = [] {
        RoleSeed admin{"admin", "every permission, on every user's rows", {}};
        for (const auto& r : resources()) admin.permissions.push_back(r.name);
        RoleSeed user{"user",
                      "its own contacts, groups, messages, programs, transmissions, campaigns and reports",
                      {"contact", "group", "document", "recording", "template", "text", "program", "transmission",
                       "spool", "campaign", "schedule", "statistic", "account_read"}};
        return std::vector<RoleSeed>{admin, user};
    }();
    return roles;
}

}  // namespace ictcore::store

// Groups: contact lists, their members, and CSV import/export of members.
#pragma once

#include <ictcore/contact.hpp>
#include <ictcore/entity_service.hpp>
#include <ictcore/group.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ictcore {

struct ImportRejection {
    std::int64_t line = 0;  // physical line where the record starts, 1-based
    std::string reason;
};

struct ImportReport {
    std::int64_t imported = 0;
    std::int64_t rejected = 0;
    std::vector<ImportRejection> rejections;  // the first `max_listed_rejections` of them
    static constexpr std::size_t max_listed_rejections = 1000;
};

class Groups : public EntityService<Group> {
public:
    using EntityService::EntityService;

    Cursor<Contact> contacts(const Principal& who, std::int64_t group_id, const ListQuery& query);

    // Imports RFC 4180 CSV (columns as csv_columns(); header row optional and detected; a
    // one-column line is a phone) as new contacts linked to the group. Rejected lines are
    // reported, valid ones stored, all in one transaction.
    ImportReport import_csv(const Principal& who, std::int64_t group_id, std::string_view csv);

    // The group's contacts as CSV lines without a header, pulled in chunks of about 64 KiB:
    // each element of the cursor is one chunk. total() is the number of contacts.
    Cursor<std::string> export_csv(const Principal& who, std::int64_t group_id);

    // A header row and two example rows.
    static std::string sample_csv();
};

}  // namespace ictcore

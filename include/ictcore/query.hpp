// ListQuery and Cursor: filtered, paged, sorted listing that streams rows one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ictcore {

// Filters by field name: text fields match substrings (case-insensitive), ids and numbers
// match exactly, phones match a suffix. Unknown names are ignored.
struct ListQuery {
    std::vector<std::pair<std::string, std::string>> filters;
    std::optional<std::int64_t> limit;
    std::optional<std::int64_t> offset;
    std::string sort;  // field name; a leading '-' sorts descending; empty = by id

    // Reads filters, limit, offset and sort from decoded query-string pairs.
    static ListQuery from_pairs(std::vector<std::pair<std::string, std::string>> pairs);
};

// Rows are produced lazily: memory stays flat however many rows match. A cursor holds a
// database read connection until it is destroyed, so keep it short-lived.
template <class Entity>
class Cursor {
public:
    using Next = std::function<bool(Entity&)>;
    Cursor(Next next, std::int64_t total) : next_(std::move(next)), total_(total) {}

    bool next(Entity& out) { return next_ && next_(out); }
    // How many rows match the filters, ignoring limit and offset.
    std::int64_t total() const noexcept { return total_; }

    std::vector<Entity> all() {
        std::vector<Entity> rows;
        Entity e;
        while (next(e)) rows.push_back(std::move(e));
        return rows;
    }

private:
    Next next_;
    std::int64_t total_;
};

}  // namespace ictcore

// ListQuery from query-string pairs: `limit`, `offset` and `sort` are controls, the rest filters.
#include <ictcore/error.hpp>
#include <ictcore/query.hpp>

#include <charconv>

namespace ictcore {

namespace {
std::int64_t non_negative(const std::string& name, const std::string& text) {
    std::int64_t value = -1;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || value < 0) {
        throw Error(Errc::invalid, name + " must be a non-negative integer");
    }
    return value;
}
}  // namespace

ListQuery ListQuery::from_pairs(std::vector<std::pair<std::string, std::string>> pairs) {
    ListQuery q;
    for (auto& [key, value] : pairs) {
        if (key == "limit") {
            q.limit = non_negative(key, value);
        } else if (key == "offset") {
            q.offset = non_negative(key, value);
        } else if (key == "sort") {
            q.sort = std::move(value);
        } else {
            q.filters.emplace_back(std::move(key), std::move(value));
        }
    }
    return q;
}

}  // namespace ictcore

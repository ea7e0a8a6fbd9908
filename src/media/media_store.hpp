// MediaStore: message media files under <data>/media/<kind>/, named by message id and role
// (never by a client-supplied name), written atomically so a crash leaves the old file or
// the new one, never half of either.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace ictcore::media {

class MediaStore {
public:
    explicit MediaStore(std::filesystem::path root);

    // <root>/<kind>/<id>.<role>, e.g. recordings/7.wav. Does not check that it exists.
    std::filesystem::path path(std::string_view kind, std::int64_t id, std::string_view role) const;
    // A fresh temporary file in the same directory (so a rename is atomic); the caller fills
    // it and passes it to commit(), or it is removed when the guard goes out of scope.
    class Temp {
    public:
        explicit Temp(std::filesystem::path path) : path_(std::move(path)) {}
        Temp(Temp&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
        Temp& operator=(Temp&&) = delete;
        ~Temp();
        const std::filesystem::path& path() const { return path_; }
        void release() { path_.clear(); }

    private:
        std::filesystem::path path_;
    };
    Temp temp(std::string_view kind) const;
    // Writes `bytes` to a new temporary file, flushed to disk.
    Temp write_temp(std::string_view kind, std::string_view bytes) const;
    // fsyncs `temp` and renames it over <kind>/<id>.<role>.
    void commit(Temp& temp, std::string_view kind, std::int64_t id, std::string_view role) const;
    // Removes every file of one message.
    void remove_all(std::string_view kind, std::int64_t id) const;

private:
    std::filesystem::path root_;
};

}  // namespace ictcore::media

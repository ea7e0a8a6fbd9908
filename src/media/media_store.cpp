// Atomic media files: write to a temporary name, fsync, rename, fsync the directory.
#include "media/media_store.hpp"

#include <ictcore/error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace ictcore::media {

namespace {

[[noreturn]] void io_error(const std::string& what, const std::filesystem::path& p) {
    // A full disk is the operator's to fix, not a fault of ours: say so (507), without the path.
    if (errno == ENOSPC || errno == EDQUOT)
        throw Error(Errc::insufficient_storage, "the disk is full: nothing was stored");
    throw Error(Errc::internal, what + " " + p.string());
}

void fsync_path(const std::filesystem::path& p, int flags) {
    const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
    if (fd < 0) io_error("cannot open", p);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0) io_error("cannot sync", p);
}

}  // namespace

MediaStore::MediaStore(std::filesystem::path root) : root_(std::move(root)) {}

MediaStore::Temp::~Temp() {
    if (path_.empty()) return;
    std::error_code ec;
    std::filesystem::remove(path_, ec);
}

std::filesystem::path MediaStore::path(std::string_view kind, std::int64_t id, std::string_view role) const {
    return root_ / kind / (std::to_string(id) + "." + std::string(role));
}

MediaStore::Temp MediaStore::temp(std::string_view kind) const {
    const auto dir = root_ / kind;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) io_error("cannot create", dir);
    std::string pattern = (dir / ".upload-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) io_error("cannot create a temporary file in", dir);
    ::close(fd);
    return Temp(pattern);
}

MediaStore::Temp MediaStore::write_temp(std::string_view kind, std::string_view bytes) const {
    Temp t = temp(kind);
    const int fd = ::open(t.path().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (fd < 0) io_error("cannot write", t.path());
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            ::close(fd);
            io_error("cannot write", t.path());
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return t;
}

void MediaStore::commit(Temp& temp, std::string_view kind, std::int64_t id, std::string_view role) const {
    const auto target = path(kind, id, role);
    fsync_path(temp.path(), O_RDONLY);
    std::error_code ec;
    std::filesystem::rename(temp.path(), target, ec);
    if (ec) io_error("cannot store", target);
    temp.release();
    fsync_path(target.parent_path(), O_RDONLY | O_DIRECTORY);
}

void MediaStore::remove_all(std::string_view kind, std::int64_t id) const {
    const auto dir = root_ / kind;
    const std::string prefix = std::to_string(id) + ".";
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (name.rfind(prefix, 0) == 0) std::filesystem::remove(it->path(), ec);
    }
}

}  // namespace ictcore::media

// Messages services: template rendering and attachments, recordings and their conversion.
// Media work (sniffing, converting) happens before the write transaction, so a slow upload
// never holds up other writers; the row is updated only once the files are in place.
#include <ictcore/messages.hpp>

#include "core_state.hpp"
#include "media/audio.hpp"
#include "media/fax.hpp"
#include "media/sniff.hpp"
#include "service/message_media.hpp"
#include "service/service_support.hpp"
#include "store/inbound_queries.hpp"

#include <algorithm>
#include <vector>

namespace ictcore {

namespace {

void check_upload(const Upload& upload, std::uint64_t limit) {
    if (upload.bytes.empty()) throw Error(Errc::length_required, "the media body is empty");
    if (upload.bytes.size() > limit) {
        throw Error(Errc::too_large, fmt::format("media larger than {} bytes", limit));
    }
}

// The declared type without parameters, lower-cased.
std::string mime_of(std::string_view declared) {
    declared = declared.substr(0, declared.find(';'));
    while (!declared.empty() && declared.back() == ' ') declared.remove_suffix(1);
    std::string out(declared);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

// A declared type says nothing when it is absent or generic; otherwise it must agree with the
// bytes, so a client that sends the wrong file learns it at once.
void check_declared(const Upload& upload, const media::Sniffed& sniffed,
                    const std::vector<std::string_view>& accepted) {
    const std::string mime = mime_of(upload.content_type);
    if (mime.empty() || mime == "application/octet-stream") return;
    if (std::find(accepted.begin(), accepted.end(), mime) != accepted.end()) return;
    throw Error(Errc::unsupported_media,
                fmt::format("the body was declared {} but its content is {}", mime, sniffed.content_type));
}

// Printable ASCII without quotes, backslashes or path separators: safe to keep and to put in a
// Content-Disposition header.
std::string safe_file_name(std::string_view name, std::string_view fallback) {
    if (const auto slash = name.find_last_of("/\\"); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    std::string out;
    for (char c : name.substr(0, 128)) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '-' || c == '_' || c == ' ' || c == '(' || c == ')';
        out += ok ? c : '_';
    }
    if (out.empty() || out.find_first_not_of(". ") == std::string::npos) return std::string(fallback);
    return out;
}

std::string extension_of(std::string_view file_name) {
    const auto dot = file_name.rfind('.');
    if (dot == std::string_view::npos || dot + 1 == file_name.size() || file_name.size() - dot > 9) return {};
    std::string ext(file_name.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

MediaFile existing_file(const std::filesystem::path& path, std::string content_type, std::string file_name,
                        std::string_view missing) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw Error(Errc::not_found, std::string(missing));
    return MediaFile{path, std::move(content_type), std::move(file_name), size};
}

// The formats a kind of message accepts: an extension as sniffed, and the declared types that
// agree with it.
struct Format {
    std::string_view extension;
    std::vector<std::string_view> declared;
};

const std::vector<Format> document_formats = {
    {"pdf", {"application/pdf", "application/x-pdf"}},
    {"tif", {"image/tiff", "image/tif"}},
    {"png", {"image/png"}},
    {"jpg", {"image/jpeg", "image/jpg", "image/pjpeg"}},
};
const std::vector<Format> recording_formats = {
    {"wav", {"audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"}},
    {"mp3", {"audio/mpeg", "audio/mp3", "audio/x-mp3"}},
};

// What the upload is, if it is one of `formats` and agrees with its declared type.
media::Sniffed accept(const Upload& upload, const std::vector<Format>& formats, std::string_view refusal) {
    auto sniffed = media::sniff(upload.bytes);
    for (const auto& format : formats) {
        if (format.extension != sniffed.extension) continue;
        check_declared(upload, sniffed, format.declared);
        return sniffed;
    }
    throw Error(Errc::unsupported_media, std::string(refusal));
}

// Permission, size and ownership checks every media upload makes before writing anything.
template <class Service>
void check_uploader(Service& service, const detail::CoreState& state, const Principal& who, std::int64_t id,
                    const Upload& upload) {
    who.require(service::permission<typename Service::EntityType>("update"));
    check_upload(upload, state.options.max_media_bytes);
    service.get(who, id);
}

// Stores what an upload learnt about its message (type, length, pages...) in the row.
template <class Entity, class Fill>
Entity store_media_fields(detail::CoreState& state, const Principal& who, std::int64_t id, Fill fill) {
    const auto scope = detail::CoreState::scope_of(who);
    return state.store->write([&](store::Connection& c) {
        auto row = service::find_or_throw<Entity>(c, id, scope);
        fill(row);
        store::Table<Entity>::update(c, row);
        return row;
    });
}

using service::documents_dir;
using service::recordings_dir;
using service::templates_dir;

}  // namespace

std::vector<std::pair<std::string_view, std::int64_t>> service::owned_media(store::Connection& c, std::int64_t owner) {
    std::vector<std::pair<std::string_view, std::int64_t>> media;
    for (auto id : store::Table<Template>::ids_of_owner(c, owner)) media.emplace_back(templates_dir, id);
    for (auto id : store::Table<Recording>::ids_of_owner(c, owner)) media.emplace_back(recordings_dir, id);
    for (auto id : store::Table<Document>::ids_of_owner(c, owner)) media.emplace_back(documents_dir, id);
    for (auto id : store::inbound_spools_of_owner(c, owner)) media.emplace_back(inbound_dir, id);
    return media;
}

RenderedEmail Templates::render(const Principal& who, std::int64_t template_id, std::int64_t contact_id) {
    return ictcore::render(get(who, template_id), state_.contacts.get(who, contact_id));
}

Template Templates::put_media(const Principal& who, std::int64_t template_id, const Upload& upload) {
    check_uploader(*this, state_, who, template_id, upload);
    const auto sniffed = media::sniff(upload.bytes);
    auto file = state_.media.write_temp(templates_dir, upload.bytes);
    state_.media.commit(file, templates_dir, template_id, "attachment");

    std::string ext = extension_of(upload.file_name);
    if (ext.empty()) ext = sniffed.extension;
    const std::string name = safe_file_name(upload.file_name, ext.empty() ? "attachment" : "attachment." + ext);
    std::string type = mime_of(upload.content_type);
    if (type.empty()) type = sniffed.content_type.empty() ? "application/octet-stream" : sniffed.content_type;
    return store_media_fields<Template>(state_, who, template_id, [&](Template& t) {
        t.type = ext.empty() ? std::nullopt : std::optional<std::string>(ext);
        t.attachment = name;
        t.attachment_type = type;
    });
}

MediaFile Templates::media(const Principal& who, std::int64_t template_id) {
    const Template t = get(who, template_id);
    const auto missing = fmt::format("template {} has no attachment", template_id);
    if (!t.attachment) throw Error(Errc::not_found, missing);
    return existing_file(state_.media.path(templates_dir, template_id, "attachment"),
                         t.attachment_type.value_or("application/octet-stream"), *t.attachment, missing);
}

void Templates::remove(const Principal& who, std::int64_t template_id) {
    EntityService<Template>::remove(who, template_id);
    state_.media.remove_all(templates_dir, template_id);
}

Document Documents::put_media(const Principal& who, std::int64_t document_id, const Upload& upload) {
    check_uploader(*this, state_, who, document_id, upload);
    const auto sniffed = accept(upload, document_formats, "a document must be a PDF, TIFF, PNG or JPEG file");
    auto original = state_.media.write_temp(documents_dir, upload.bytes);
    auto tiff = state_.media.temp(documents_dir);
    auto pdf = state_.media.temp(documents_dir);
    const media::FaxInfo info = media::convert_to_fax(original.path(), sniffed.extension, tiff.path(), pdf.path());
    state_.media.commit(tiff, documents_dir, document_id, "tif");
    if (sniffed.extension == "pdf") {
        state_.media.commit(original, documents_dir, document_id, "pdf");
    } else {
        state_.media.commit(pdf, documents_dir, document_id, "pdf");
        state_.media.commit(original, documents_dir, document_id, "original");
    }

    return store_media_fields<Document>(state_, who, document_id, [&](Document& d) {
        d.type = sniffed.extension;
        d.pages = info.pages;
        d.size_x = info.width;
        d.resolution_x = info.x_resolution;
        d.resolution_y = info.y_resolution;
    });
}

MediaFile Documents::media(const Principal& who, std::int64_t document_id) {
    get(who, document_id);
    return existing_file(state_.media.path(documents_dir, document_id, "pdf"), "application/pdf",
                         fmt::format("document-{}.pdf", document_id),
                         fmt::format("document {} has no media yet", document_id));
}

MediaFile Documents::fax_tiff(const Principal& who, std::int64_t document_id) {
    get(who, document_id);
    return existing_file(state_.media.path(documents_dir, document_id, "tif"), "image/tiff",
                         fmt::format("document-{}.tif", document_id),
                         fmt::format("document {} has no media yet", document_id));
}

void Documents::remove(const Principal& who, std::int64_t document_id) {
    EntityService<Document>::remove(who, document_id);
    state_.media.remove_all(documents_dir, document_id);
}

Recording Recordings::put_media(const Principal& who, std::int64_t recording_id, const Upload& upload) {
    check_uploader(*this, state_, who, recording_id, upload);
    const auto sniffed = accept(upload, recording_formats, "a recording must be a WAV or MP3 file");
    auto original = state_.media.write_temp(recordings_dir, upload.bytes);
    auto converted = state_.media.temp(recordings_dir);
    const media::AudioInfo info = media::convert_to_telephony_wav(original.path(), converted.path());
    state_.media.commit(original, recordings_dir, recording_id, "original");
    state_.media.commit(converted, recordings_dir, recording_id, "wav");

    return store_media_fields<Recording>(state_, who, recording_id, [&](Recording& r) {
        r.type = sniffed.extension;
        r.length = info.seconds;
    });
}

MediaFile Recordings::media(const Principal& who, std::int64_t recording_id) {
    const Recording r = get(who, recording_id);
    return existing_file(state_.media.path(recordings_dir, recording_id, "wav"), "audio/wav",
                         fmt::format("recording-{}.wav", r.recording_id),
                         fmt::format("recording {} has no media yet", recording_id));
}

void Recordings::remove(const Principal& who, std::int64_t recording_id) {
    EntityService<Recording>::remove(who, recording_id);
    state_.media.remove_all(recordings_dir, recording_id);
}

}  // namespace ictcore

// Messages services: SMS texts and e-mail templates, with the `text_*` and `template_*`
// permissions and the same ownership rules as contacts.
#pragma once

#include <ictcore/entity_service.hpp>
#include <ictcore/media.hpp>
#include <ictcore/message.hpp>

namespace ictcore {

class Texts : public EntityService<Text> {
public:
    using EntityService::EntityService;
};

class Templates : public EntityService<Template> {
public:
    using EntityService::EntityService;

    // The template rendered for one of the caller's contacts (see ictcore::render).
    RenderedEmail render(const Principal& who, std::int64_t template_id, std::int64_t contact_id);

    // Stores the attachment (any content) with its file name and type; returns the template.
    Template put_media(const Principal& who, std::int64_t template_id, const Upload& upload);
    // Error(not_found) when the template has no attachment.
    MediaFile media(const Principal& who, std::int64_t template_id);
    // Deletes the template and its attachment.
    void remove(const Principal& who, std::int64_t template_id);
};

class Documents : public EntityService<Document> {
public:
    using EntityService::EntityService;

    // Accepts PDF, TIFF, PNG or JPEG, checked by content; keeps the original and stores the fax
    // TIFF (and, for images, a PDF of it); fills type, pages, size_x and the resolutions.
    // Errors as for recordings; nothing is stored then.
    Document put_media(const Principal& who, std::int64_t document_id, const Upload& upload);
    // The document as PDF: the original when it was one, else made from the fax TIFF.
    MediaFile media(const Principal& who, std::int64_t document_id);
    // The fax-ready TIFF, for gateways; Error(not_found) before an upload.
    MediaFile fax_tiff(const Principal& who, std::int64_t document_id);
    void remove(const Principal& who, std::int64_t document_id);
};

class Recordings : public EntityService<Recording> {
public:
    using EntityService::EntityService;

    // Accepts WAV (PCM, µ-law, A-law; any rate; mono or stereo) or MP3, checked by content;
    // keeps the original and stores the telephony WAV (8 kHz mono 16-bit PCM); fills type and
    // length. Error(length_required) when empty, Error(too_large) over the media limit,
    // Error(unsupported_media) for other content, Error(invalid) for a truncated or corrupt
    // file; nothing is stored then.
    Recording put_media(const Principal& who, std::int64_t recording_id, const Upload& upload);
    // The telephony WAV; Error(not_found) before an upload.
    MediaFile media(const Principal& who, std::int64_t recording_id);
    void remove(const Principal& who, std::int64_t recording_id);
};

}  // namespace ictcore

// The SMTP gateway (see smtp.hpp): a worker thread sending one message at a time with a
// libcurl easy handle per server, reset between messages so its connection is reused.
#include "gateways/smtp.hpp"

#include "gateways/curl_global.hpp"

#include <ictcore/error.hpp>
#include <ictcore/json.hpp>
#include <ictcore/service_flag.hpp>

#include <curl/curl.h>
#include <fmt/format.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <condition_variable>
#include <ctime>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace ictcore::gateways {

namespace {

struct Settings {
    std::string tls = "try";
    std::string from;
    long timeout_ms = 60000;
};

Settings parse_settings(const Provider& p) {
    Settings s;
    if (!p.settings || p.settings->empty()) return s;
    const auto v = parse_json(*p.settings);
    if (!v.is_object()) throw Error(Errc::invalid, "settings must be a JSON object");
    const auto& o = v.get_object();
    if (const auto* x = o.if_contains("tls")) {
        const std::string_view tls = x->is_string() ? std::string_view(x->get_string()) : std::string_view();
        if (tls != "none" && tls != "try" && tls != "starttls" && tls != "tls") {
            throw Error(Errc::invalid, "settings.tls must be \"none\", \"try\", \"starttls\" or \"tls\"");
        }
        s.tls = std::string(tls);
    }
    if (const auto* x = o.if_contains("from")) {
        if (!x->is_string() || x->get_string().find('@') == boost::json::string::npos) {
            throw Error(Errc::invalid, "settings.from must be an e-mail address");
        }
        s.from = std::string(x->get_string());
    }
    if (const auto* x = o.if_contains("timeout_ms")) {
        if (!x->is_int64() || x->get_int64() < 1000 || x->get_int64() > 600000) {
            throw Error(Errc::invalid, "settings.timeout_ms must be an integer from 1000 to 600000");
        }
        s.timeout_ms = static_cast<long>(x->get_int64());
    }
    return s;
}

bool is_ascii(std::string_view text) {
    for (const unsigned char ch : text)
        if (ch >= 0x80 || ch == '\r' || ch == '\n') return false;
    return true;
}

// A header value as RFC 2047 encoded-words when it is not plain ASCII.
std::string header_text(std::string_view text) {
    if (is_ascii(text)) return std::string(text);
    std::string out;
    // Encoded words of at most 45 bytes of input (60 of base64) keep lines short.
    for (std::size_t at = 0; at < text.size();) {
        std::size_t n = std::min<std::size_t>(45, text.size() - at);
        while (at + n < text.size() && n > 1 && (static_cast<unsigned char>(text[at + n]) & 0xC0) == 0x80) --n;
        std::string b64(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
        sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(text.data() + at), n,
                          sodium_base64_VARIANT_ORIGINAL);
        b64.resize(std::strlen(b64.c_str()));
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + b64 + "?=";
        at += n;
    }
    return out;
}

std::string rfc5322_date() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} +0000", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                       tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string local_name() {
    char name[256] = "";
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
    return name;
}

// Frees what one message needed, whatever path the send takes.
struct MessageParts {
    curl_slist* recipients = nullptr;
    curl_slist* headers = nullptr;
    curl_slist* part_headers = nullptr;
    curl_mime* mime = nullptr;
    ~MessageParts() {
        curl_slist_free_all(recipients);
        curl_slist_free_all(headers);
        curl_mime_free(mime);  // frees its subparts and the part headers it took over
    }
};

size_t collect_replies(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

// The server's last reply line with `code` ("451 4.3.0 Mailbox busy"), else the code alone.
std::string reply_line(const std::string& replies, long code) {
    const std::string prefix = std::to_string(code) + " ";
    std::string found;
    std::size_t at = 0;
    while (at < replies.size()) {
        const auto end = replies.find('\n', at);
        const auto line = replies.substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (line.rfind(prefix, 0) == 0) found = line;
        if (end == std::string::npos) break;
        at = end + 1;
    }
    while (!found.empty() && (found.back() == '\r' || found.back() == ' ')) found.pop_back();
    return found.empty() ? std::to_string(code) : found;
}

}  // namespace

class SmtpGateway::Worker {
public:
    Worker() {
        thread_ = std::thread([this] { run(); });
    }
    ~Worker() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        thread_.join();
        for (auto& [key, handle] : handles_) curl_easy_cleanup(handle);
    }

    void push(Delivery d, DeliveryCompletion done) {
        {
            std::lock_guard lock(mutex_);
            jobs_.emplace_back(std::move(d), std::move(done));
        }
        wake_.notify_one();
    }

private:
    void run() {
        for (;;) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;  // what is left is dropped: the engine records it failed
            auto [delivery, done] = std::move(jobs_.front());
            jobs_.pop_front();
            lock.unlock();
            Outcome outcome;
            try {
                outcome = send(delivery);
            } catch (const std::exception& e) {
                outcome = Outcome::provider_error(e.what());
            }
            done.finish(std::move(outcome));
        }
    }

    CURL* handle_for(const Provider& p, const Settings& s) {
        const auto key = fmt::format("{}|{}|{}|{}", p.host.value_or(""), p.port.value_or(0), p.username, s.tls);
        auto& handle = handles_[key];
        if (!handle) handle = curl_easy_init();
        if (!handle) throw Error(Errc::failed, "libcurl could not make a handle");
        curl_easy_reset(handle);  // keeps its connection
        return handle;
    }

    Outcome send(const Delivery& d) {
        const Settings s = parse_settings(d.provider);
        if (!d.email) return Outcome::rejected("no e-mail message to send");
        std::string from = s.from;
        if (from.empty() && d.account && d.account->email) from = *d.account->email;
        if (from.empty())
            return Outcome::rejected("no sender address: set the provider's settings.from or the account's email");
        const auto host = d.provider.host.value_or("");
        if (host.empty()) return Outcome::provider_error("the provider has no host");
        const long port =
            d.provider.port && *d.provider.port > 0 ? static_cast<long>(*d.provider.port) : (s.tls == "tls" ? 465 : 25);
        CURL* c = handle_for(d.provider, s);
        MessageParts parts;
        // The URL's path is the name we greet the server with (EHLO).
        const std::string url =
            fmt::format("{}://{}:{}/{}", s.tls == "tls" ? "smtps" : "smtp", host, port, local_name());
        curl_easy_setopt(c, CURLOPT_URL, url.c_str());
        curl_easy_setopt(c, CURLOPT_USE_SSL,
                         s.tls == "starttls" || s.tls == "tls" ? CURLUSESSL_ALL
                         : s.tls == "try"                      ? CURLUSESSL_TRY
                                                               : CURLUSESSL_NONE);
        if (d.provider.password && !d.provider.password->empty()) {
            curl_easy_setopt(c, CURLOPT_USERNAME, d.provider.username.c_str());
            curl_easy_setopt(c, CURLOPT_PASSWORD, d.provider.password->c_str());
        }
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s.timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(s.timeout_ms, 10000L));
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        const std::string mail_from = "<" + from + ">";
        curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
        parts.recipients = curl_slist_append(nullptr, ("<" + d.destination + ">").c_str());
        curl_easy_setopt(c, CURLOPT_MAIL_RCPT, parts.recipients);

        const std::string domain = from.substr(from.find('@') + 1);
        for (const std::string& h :
             {"Date: " + rfc5322_date(), "From: <" + from + ">", "To: <" + d.destination + ">",
              "Subject: " + header_text(d.email->subject),
              fmt::format("Message-ID: <spool-{}.{}@{}>", d.spool_id, randombytes_random(), domain)}) {
            parts.headers = curl_slist_append(parts.headers, h.c_str());
        }
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, parts.headers);

        parts.mime = curl_mime_init(c);
        curl_mime* alternative = curl_mime_init(c);
        curl_mimepart* text = curl_mime_addpart(alternative);
        curl_mime_data(text, d.email->body_alt.data(), d.email->body_alt.size());
        curl_mime_type(text, "text/plain; charset=UTF-8");
        curl_mime_encoder(text, "quoted-printable");
        curl_mimepart* html = curl_mime_addpart(alternative);
        curl_mime_data(html, d.email->body.data(), d.email->body.size());
        curl_mime_type(html, "text/html; charset=UTF-8");
        curl_mime_encoder(html, "quoted-printable");
        curl_mimepart* body = curl_mime_addpart(parts.mime);
        curl_mime_subparts(body, alternative);
        curl_mime_type(body, "multipart/alternative");
        parts.part_headers = curl_slist_append(nullptr, "Content-Disposition: inline");
        curl_mime_headers(body, parts.part_headers, 1);
        parts.part_headers = nullptr;  // owned by the part now
        if (!d.media.empty() && d.email_template && d.email_template->attachment) {
            curl_mimepart* file = curl_mime_addpart(parts.mime);
            if (curl_mime_filedata(file, d.media.c_str()) != CURLE_OK) {
                return Outcome::rejected("the template's attachment cannot be read");
            }
            curl_mime_filename(file, d.email_template->attachment->c_str());
            curl_mime_type(file, d.email_template->attachment_type.value_or("application/octet-stream").c_str());
            curl_mime_encoder(file, "base64");
        }
        curl_easy_setopt(c, CURLOPT_MIMEPOST, parts.mime);
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);

        std::string replies;
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_replies);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &replies);
        char error[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
        const CURLcode rc = curl_easy_perform(c);
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        if (rc == CURLE_OK) return Outcome::delivered(reply_line(replies, code));
        if (rc == CURLE_LOGIN_DENIED || code == 0 || code == 421) {
            // No usable server: unreachable, TLS refused, credentials refused, or it closes.
            return Outcome::provider_error(
                fmt::format("{}: {}", host,
                            code ? reply_line(replies, code) : std::string(*error ? error : curl_easy_strerror(rc))));
        }
        if (code >= 400 && code < 500) return Outcome::failed(reply_line(replies, code));
        if (code >= 500) return Outcome::rejected(reply_line(replies, code));
        return Outcome::failed(fmt::format("{} ({})", curl_easy_strerror(rc), code));
    }

    CurlGlobal global_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::deque<std::pair<Delivery, DeliveryCompletion>> jobs_;
    std::map<std::string, CURL*> handles_;  // worker thread only
    std::thread thread_;                    // started in the constructor's body, once the rest is ready
};

SmtpGateway::SmtpGateway() : worker_(std::make_unique<Worker>()) {}
SmtpGateway::~SmtpGateway() = default;

std::int64_t SmtpGateway::gateway_flag() const { return ictcore::gateway_flag::smtp; }
std::int64_t SmtpGateway::services() const { return service::email; }

void SmtpGateway::check(const Provider& provider) const {
    parse_settings(provider);
    if (!provider.host || provider.host->empty()) throw Error(Errc::invalid, "host is required for an smtp provider");
    if (provider.port && (*provider.port < 0 || *provider.port > 65535)) {
        throw Error(Errc::invalid, "port must be from 1 to 65535");
    }
}

void SmtpGateway::deliver(const Delivery& delivery, DeliveryCompletion done) {
    worker_->push(delivery, std::move(done));
}

}  // namespace ictcore::gateways

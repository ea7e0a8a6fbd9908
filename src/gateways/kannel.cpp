// The Kannel gateway (see kannel.hpp): sendsms requests on one libcurl multi handle driven by a
// worker thread; per smsbox at most `connections` requests in flight, the rest queued in order,
// so the connections stay few and are reused.
#include "gateways/kannel.hpp"

#include "gateways/curl_global.hpp"
#include "model/sms_encoding.hpp"

#include <ictcore/error.hpp>
#include <ictcore/json.hpp>
#include <ictcore/service_flag.hpp>

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

namespace ictcore::gateways {

namespace {

struct Settings {
    std::string smsc;
    std::string sender;
    long connections = 8;
    long timeout_ms = 30000;
    std::int64_t report_timeout = 172800;
};

std::int64_t int_setting(const boost::json::object& o, const char* name, std::int64_t low, std::int64_t high,
                         std::int64_t fallback) {
    const auto* x = o.if_contains(name);
    if (!x) return fallback;
    if (!x->is_int64() || x->get_int64() < low || x->get_int64() > high) {
        throw Error(Errc::invalid, fmt::format("settings.{} must be an integer from {} to {}", name, low, high));
    }
    return x->get_int64();
}

std::string text_setting(const boost::json::object& o, const char* name) {
    const auto* x = o.if_contains(name);
    if (!x) return {};
    if (!x->is_string() || x->get_string().empty() || x->get_string().size() > 64) {
        throw Error(Errc::invalid, fmt::format("settings.{} must be a text of 1 to 64 characters", name));
    }
    return std::string(x->get_string());
}

Settings parse_settings(const Provider& p) {
    Settings s;
    if (!p.settings || p.settings->empty()) return s;
    const auto v = parse_json(*p.settings);
    if (!v.is_object()) throw Error(Errc::invalid, "settings must be a JSON object");
    const auto& o = v.get_object();
    s.smsc = text_setting(o, "smsc");
    s.sender = text_setting(o, "sender");
    s.connections = static_cast<long>(int_setting(o, "connections", 1, 64, s.connections));
    s.timeout_ms = static_cast<long>(int_setting(o, "timeout_ms", 1000, 600000, s.timeout_ms));
    s.report_timeout = int_setting(o, "report_timeout", 60, 7 * 24 * 3600, s.report_timeout);
    return s;
}

// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
std::string encode(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size() * 3);
    for (const unsigned char ch : value) {
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
            ch == '_' || ch == '.' || ch == '~') {
            out += static_cast<char>(ch);
        } else {
            out += '%';
            out += hex[ch >> 4];
            out += hex[ch & 15];
        }
    }
    return out;
}

std::string trimmed(std::string text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    return text;
}

// One sendsms request.
struct Request {
    std::string server;  // host:port: requests to one smsbox share its connections
    std::string url;
    long connections = 8;
    long timeout_ms = 30000;
    bool reports = false;  // a dlr-url was given: smsbox's 202 is not the end
    std::optional<DeliveryCompletion> done;
};

Outcome outcome_of(const Request& r, CURLcode rc, long status, const std::string& body, const char* error) {
    const auto said = trimmed(body);
    if (rc != CURLE_OK) {
        return Outcome::provider_error(fmt::format("kannel {}: {}", r.server, *error ? error : curl_easy_strerror(rc)));
    }
    const auto reply = fmt::format("{} {}", status, said);
    if (status >= 200 && status < 300) {
        return r.reports ? Outcome::accepted(reply) : Outcome::delivered(reply);
    }
    // Refused credentials or an SMSC it cannot route to: this provider cannot send anything.
    if (status == 401 || status == 403) return Outcome::provider_error(fmt::format("kannel {}: {}", r.server, reply));
    if (status >= 400 && status < 500) return Outcome::rejected(reply);
    return Outcome::failed(reply);
}

}  // namespace

class KannelGateway::Worker {
public:
    Worker() : multi_(curl_multi_init()) {
        if (!multi_) throw std::runtime_error("libcurl: cannot create a multi handle");
        curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, 256L);
        thread_ = std::thread([this] { run(); });
    }
    ~Worker() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        curl_multi_wakeup(multi_);
        thread_.join();
        for (auto& [handle, transfer] : active_) {
            curl_multi_remove_handle(multi_, handle);
            curl_easy_cleanup(handle);
        }
        for (auto* handle : idle_) curl_easy_cleanup(handle);
        curl_multi_cleanup(multi_);
    }

    void push(Request request) {
        {
            std::lock_guard lock(mutex_);
            incoming_.push_back(std::move(request));
        }
        curl_multi_wakeup(multi_);
    }

private:
    struct Transfer {
        explicit Transfer(Request r) : request(std::move(r)) {}
        Request request;
        std::string body;
        char error[CURL_ERROR_SIZE] = "";
    };
    struct Server {
        std::deque<Request> waiting;
        long in_flight = 0;
    };

    static size_t collect(char* data, size_t size, size_t count, void* out) {
        auto* body = static_cast<std::string*>(out);
        if (body->size() < 4096) body->append(data, size * count);
        return size * count;
    }

    void run() {
        for (;;) {
            {
                std::lock_guard lock(mutex_);
                if (stopping_) return;
                for (auto& r : incoming_) servers_[r.server].waiting.push_back(std::move(r));
                incoming_.clear();
            }
            start_waiting();
            int running = 0;
            curl_multi_perform(multi_, &running);
            int left = 0;
            bool freed = false;
            while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
                if (msg->msg != CURLMSG_DONE) continue;
                finished(msg->easy_handle, msg->data.result);
                freed = true;
            }
            // A freed connection takes the next waiting request at once, not at the next event.
            if (!freed) curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
        }
    }

    void start_waiting() {
        for (auto& [name, server] : servers_) {
            while (!server.waiting.empty() && server.in_flight < server.waiting.front().connections) {
                auto transfer = std::make_unique<Transfer>(std::move(server.waiting.front()));
                server.waiting.pop_front();
                CURL* handle = take_handle();
                curl_easy_setopt(handle, CURLOPT_URL, transfer->request.url.c_str());
                curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, collect);
                curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer->body);
                curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, transfer->error);
                curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, transfer->request.timeout_ms);
                curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, std::min(transfer->request.timeout_ms, 10000L));
                curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
                if (curl_multi_add_handle(multi_, handle) != CURLM_OK) {
                    idle_.push_back(handle);
                    transfer->request.done->finish(Outcome::provider_error("libcurl refused the request"));
                    continue;
                }
                ++server.in_flight;
                active_.emplace(handle, std::move(transfer));
            }
        }
    }

    CURL* take_handle() {
        if (idle_.empty()) return curl_easy_init();
        CURL* handle = idle_.back();
        idle_.pop_back();
        curl_easy_reset(handle);
        return handle;
    }

    void finished(CURL* handle, CURLcode rc) {
        curl_multi_remove_handle(multi_, handle);
        const auto it = active_.find(handle);
        auto transfer = std::move(it->second);
        active_.erase(it);
        idle_.push_back(handle);
        long status = 0;
        curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
        --servers_[transfer->request.server].in_flight;
        transfer->request.done->finish(outcome_of(transfer->request, rc, status, transfer->body, transfer->error));
    }

    CurlGlobal global_;
    CURLM* multi_;
    std::mutex mutex_;
    bool stopping_ = false;
    std::vector<Request> incoming_;
    // Worker thread only.
    std::map<std::string, Server> servers_;
    std::map<CURL*, std::unique_ptr<Transfer>> active_;
    std::vector<CURL*> idle_;
    std::thread thread_;  // started last, once the rest is ready
};

KannelGateway::KannelGateway() : worker_(std::make_unique<Worker>()) {}
KannelGateway::~KannelGateway() = default;

std::int64_t KannelGateway::gateway_flag() const { return ictcore::gateway_flag::kannel; }
std::int64_t KannelGateway::services() const { return service::sms; }

void KannelGateway::check(const Provider& provider) const {
    parse_settings(provider);
    if (!provider.host || provider.host->empty()) throw Error(Errc::invalid, "host is required for a kannel provider");
    if (!provider.port || *provider.port < 1 || *provider.port > 65535) {
        throw Error(Errc::invalid, "port (smsbox's sendsms-port) must be from 1 to 65535");
    }
}

std::chrono::seconds KannelGateway::report_timeout(const Provider& provider) const {
    try {
        return std::chrono::seconds(parse_settings(provider).report_timeout);
    } catch (const Error&) {
        return std::chrono::seconds(Settings{}.report_timeout);
    }
}

void KannelGateway::deliver(const Delivery& d, DeliveryCompletion done) {
    const auto s = parse_settings(d.provider);
    if (!d.text) {
        done.finish(Outcome::rejected("the program has no SMS text"));
        return;
    }
    const auto& text = d.text->data;
    Request r;
    const std::string host = d.provider.host.value_or("");
    r.server = fmt::format("{}:{}", host.find(':') != std::string::npos ? "[" + host + "]" : host,
                           d.provider.port.value_or(13013));
    r.connections = s.connections;
    r.timeout_ms = s.timeout_ms;
    std::string url =
        fmt::format("http://{}/cgi-bin/sendsms?username={}&password={}&to={}", r.server, encode(d.provider.username),
                    encode(d.provider.password.value_or("")), encode(d.destination));
    const std::string sender = !s.sender.empty() ? s.sender : d.source;
    if (!sender.empty()) url += "&from=" + encode(sender);
    if (!s.smsc.empty()) url += "&smsc=" + encode(s.smsc);
    // GSM text goes as it is; anything else as UCS-2, which smsbox converts from UTF-8.
    if (model::sms_shape(text).encoding != "gsm7") url += "&coding=2&charset=UTF-8";
    url += "&text=" + encode(text);
    if (!d.report_url.empty()) {
        r.reports = true;
        // Kannel substitutes %d (report type) and %A (the SMSC's answer) when it calls back.
        url += "&dlr-mask=31&dlr-url=" + encode(d.report_url + "&type=%d&reason=%A");
    }
    r.url = std::move(url);
    r.done = std::move(done);
    worker_->push(std::move(r));
}

std::optional<Outcome> KannelGateway::parse_report(const std::map<std::string, std::string>& parameters) const {
    const auto type_at = parameters.find("type");
    int type = 0;
    const auto parsed =
        type_at == parameters.end()
            ? std::from_chars_result{nullptr, std::errc::invalid_argument}
            : std::from_chars(type_at->second.data(), type_at->second.data() + type_at->second.size(), type);
    if (parsed.ec != std::errc{} || parsed.ptr != type_at->second.data() + type_at->second.size()) {
        throw Error(Errc::invalid, "a Kannel delivery report needs its numeric type (%d)");
    }
    const auto reason_at = parameters.find("reason");
    const std::string reason = reason_at == parameters.end() ? "" : reason_at->second;
    const auto with_reason = [&reason](std::string what) { return reason.empty() ? what : what + ": " + reason; };
    switch (type) {
        case 1:
            return Outcome::delivered(with_reason("delivered to the phone"));
        case 2:
            return Outcome::failed(with_reason("delivery failed"));
        case 16:
            return Outcome::rejected(with_reason("rejected by the SMSC"));
        case 4:  // buffered by the SMSC
        case 8:  // accepted by the SMSC
            return std::nullopt;
        default:
            throw Error(Errc::invalid, fmt::format("unknown Kannel delivery report type {}", type));
    }
}

}  // namespace ictcore::gateways

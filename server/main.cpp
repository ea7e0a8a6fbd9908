// ictcore-server: command line, logging and Core set-up around HttpServer.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <ictcore/core.hpp>
#include <ictcore/error.hpp>
#include <ictcore/version.hpp>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "authenticator.hpp"
#include "http_server.hpp"
#include "mail_in.hpp"
#include "router.hpp"
#include "routes.hpp"
#include "server_options.hpp"
#include "tls_context.hpp"

namespace {

using ictcore::server::ServerOptions;

// Splits HOST:PORT; IPv6 hosts are written in brackets ("[::1]:8080").
bool parse_listen(const std::string& text, std::string& host, std::uint16_t& port) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
    host = text.substr(0, colon);
    if (host.front() == '[') {
        if (host.size() < 3 || host.back() != ']') return false;
        host = host.substr(1, host.size() - 2);
    }
    const std::string digits = text.substr(colon + 1);
    if (digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
    const unsigned long value = std::stoul(digits);
    if (value > 65535) return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

std::string url_host(const std::string& host) { return host.find(':') != std::string::npos ? "[" + host + "]" : host; }

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"ictcore-server: the ICTCore REST API over the ictcore library"};
    app.set_version_flag("--version", std::string("ictcore-server ") + ictcore::version);

    ServerOptions server;
    std::string listen = "127.0.0.1:8080";
    std::string data_dir = "./data";
    std::int64_t token_lifetime = 86400;
    std::int64_t header_timeout = server.header_timeout.count();
    std::int64_t body_timeout = server.body_timeout.count();
    std::int64_t idle_timeout = server.idle_timeout.count();
    std::int64_t retry_delay = 300;
    std::string log_level = "info";
    std::string public_url;
    std::string tls_cert;
    std::string tls_key;
    std::string password_cost = "interactive";
    const std::map<std::string, ictcore::PasswordCost> costs{{"interactive", ictcore::PasswordCost::interactive},
                                                             {"moderate", ictcore::PasswordCost::moderate},
                                                             {"minimal", ictcore::PasswordCost::minimal}};

    app.add_option("--listen", listen, "HOST:PORT to listen on; port 0 picks a free one")->capture_default_str();
    app.add_option("--data", data_dir, "data directory (database; created when missing)")->capture_default_str();
    app.add_option("--threads", server.io_threads, "threads serving connections")
        ->capture_default_str()
        ->check(CLI::Range(1u, 256u));
    app.add_option("--workers", server.workers, "threads running request handlers")
        ->capture_default_str()
        ->check(CLI::Range(1u, 4096u));
    app.add_option("--token-lifetime", token_lifetime, "lifetime of issued tokens, in seconds")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--max-body", server.max_body, "largest JSON request body, in bytes")->capture_default_str();
    app.add_option("--max-import", server.max_import, "largest CSV import body, in bytes")->capture_default_str();
    app.add_option("--max-media", server.max_media, "largest media upload (document, recording, attachment), in bytes")
        ->capture_default_str();
    app.add_option("--max-connections", server.max_connections, "open connections beyond which new ones are closed")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--header-timeout", header_timeout, "seconds to receive a request header")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--body-timeout", body_timeout, "seconds to receive a request body or write a response part")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--idle-timeout", idle_timeout, "seconds a keep-alive connection may sit idle")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app.add_option("--retry-delay", retry_delay, "seconds before a failed attempt with tries left is made again")
        ->capture_default_str()
        ->check(CLI::Range(0, 7 * 24 * 3600));
    app.add_option("--public-url", public_url,
                   "URL at which gateways (Kannel's delivery reports) reach this server; default: "
                   "http://HOST:PORT (https:// with TLS) of --listen unless it listens on all addresses");
    app.add_option("--tls-cert", tls_cert,
                   "PEM file of the server certificate, optionally followed by its chain; with --tls-key the "
                   "server speaks only HTTPS");
    app.add_option("--tls-key", tls_key, "PEM file of the certificate's private key (unencrypted)");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical or off")
        ->capture_default_str()
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
    app.add_option("--password-cost", password_cost,
                   "password hash cost: interactive, moderate, or minimal (tests only)")
        ->capture_default_str()
        ->check(CLI::IsMember({"interactive", "moderate", "minimal"}));

    ictcore::server::MailInOptions mail_in;
    CLI::App* mail_in_command = ictcore::server::add_mail_in_command(app, mail_in);

    CLI11_PARSE(app, argc, argv);
    if (*mail_in_command) {
        // Logs go to stderr (an MTA puts them in its bounce or log); stdout carries the result.
        spdlog::set_default_logger(spdlog::stderr_color_mt("ictcore-server mail-in"));
        spdlog::set_level(spdlog::level::warn);
        return ictcore::server::run_mail_in(mail_in, std::cin);
    }

    if (!parse_listen(listen, server.host, server.port)) {
        std::cerr << "ictcore-server: --listen wants HOST:PORT, got '" << listen << "'\n";
        return 2;
    }
    server.header_timeout = std::chrono::seconds(header_timeout);
    server.body_timeout = std::chrono::seconds(body_timeout);
    server.idle_timeout = std::chrono::seconds(idle_timeout);

    // Logs go to stderr: stdout carries the lines scripts and tests parse.
    auto logger = spdlog::stderr_color_mt("ictcore-server");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(log_level));

    // Checked before the database is opened: a bad TLS set-up changes nothing on disk.
    if (tls_cert.empty() != tls_key.empty()) {
        std::cerr << "ictcore-server: " << (tls_cert.empty() ? "--tls-key" : "--tls-cert") << " needs "
                  << (tls_cert.empty() ? "--tls-cert" : "--tls-key") << " too; give both for HTTPS, or neither\n";
        return 2;
    }
    std::shared_ptr<boost::asio::ssl::context> tls;
    if (!tls_cert.empty()) {
        try {
            tls = ictcore::server::make_tls_context(tls_cert, tls_key);
        } catch (const std::exception& e) {
            spdlog::critical("cannot run: {}", e.what());
            return 1;
        }
    }
    const std::string scheme = tls ? "https" : "http";

    try {
        ictcore::Options options;
        options.data_dir = data_dir;
        options.token_lifetime = std::chrono::seconds(token_lifetime);
        if (const char* password = std::getenv("ICTCORE_ADMIN_PASSWORD"); password != nullptr && *password != '\0') {
            options.admin_password = password;
        }
        options.password_cost = costs.at(password_cost);
        options.max_media_bytes = server.max_media;
        options.retry_delay = std::chrono::seconds(retry_delay);
        options.public_url = public_url;

        // Declared before the server so it is destroyed after it: handlers use it until the
        // server's worker pool has been joined.
        ictcore::Core core(std::move(options));
        if (const auto& generated = core.generated_admin_password()) {
            std::cout << "admin user created: username=admin password=" << *generated << std::endl;
        } else if (core.first_start()) {
            std::cout << "admin user created: username=admin password from ICTCORE_ADMIN_PASSWORD" << std::endl;
        }

        ictcore::server::Router router{ictcore::server::Authenticator(core.auth())};
        ictcore::server::add_routes(router, core);

        ictcore::server::HttpServer http(server, router, tls);
        const std::uint16_t port = http.start();
        std::cout << "ictcore-server listening on " << scheme << "://" << url_host(server.host) << ':' << port
                  << std::endl;
        if (public_url.empty() && server.host != "0.0.0.0" && server.host != "::") {
            public_url = scheme + "://" + url_host(server.host) + ':' + std::to_string(port);
        }
        if (public_url.empty()) {
            spdlog::warn("no --public-url: Kannel is not asked for delivery reports");
        } else if (core.options().public_url.empty()) {
            core.set_public_url(public_url);
        }
        spdlog::info("ictcore-server {} serving {} with {} io thread(s) and {} worker(s)", ictcore::version, data_dir,
                     server.io_threads, server.workers);
        if (tls) spdlog::info("TLS on: HTTPS only, certificate {}", tls_cert);
        http.run();
        spdlog::info("stopped");
    } catch (const ictcore::Error& e) {
        spdlog::critical("cannot run: {} ({})", e.what(), ictcore::to_string(e.code()));
        return 1;
    } catch (const std::exception& e) {
        spdlog::critical("cannot run: {}", e.what());
        return 1;
    }
    return 0;
}

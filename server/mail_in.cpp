// mail-in: read stdin (bounded), open the existing data directory without an engine (the
// running server's engine owns deliveries), hand the message to Inbound, map errors to sysexits.
#include "mail_in.hpp"

#include <ictcore/core.hpp>
#include <ictcore/error.hpp>

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <optional>

namespace ictcore::server {

namespace {

int exit_code_of(Errc code) {
    switch (code) {
        case Errc::not_found:
            return exit_nouser;
        case Errc::invalid:
        case Errc::too_large:
        case Errc::unsupported_media:
        case Errc::length_required:
            return exit_dataerr;
        default:
            // Storage faults (a busy or unwritable database), a failed conversion: the MTA keeps
            // the message and tries again rather than losing it.
            return exit_tempfail;
    }
}

// The whole message, or nullopt when it is longer than `limit`.
std::optional<std::string> read_message(std::istream& in, std::uint64_t limit) {
    std::string message;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        message.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (message.size() > limit) return std::nullopt;
    }
    return message;
}

}  // namespace

CLI::App* add_mail_in_command(CLI::App& app, MailInOptions& options) {
    auto* command = app.add_subcommand(
        "mail-in", "record one e-mail read on stdin (for an MTA pipe transport); exit codes follow sysexits");
    command->add_option("--data", options.data_dir, "data directory of the server (must already hold its database)")
        ->capture_default_str();
    command->add_option("--recipient", options.recipient,
                        "envelope recipient (Postfix: ${recipient}); without it the To, then Cc addresses are used");
    command->add_option("--max-message", options.max_message, "largest message accepted, in bytes")
        ->capture_default_str();
    command->add_option("--max-media", options.max_media, "largest attachment kept, in bytes")->capture_default_str();
    return command;
}

int run_mail_in(const MailInOptions& options, std::istream& in) {
    const std::filesystem::path data = options.data_dir;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(data / "ictcore.db", ec)) {
        std::cerr << "ictcore-server mail-in: no ictcore database in " << data.string()
                  << " (start ictcore-server on it once first); the message is left with the MTA\n";
        return exit_tempfail;
    }
    const auto message = read_message(in, options.max_message);
    if (!message) {
        std::cerr << "ictcore-server mail-in: the message is larger than " << options.max_message << " bytes\n";
        return exit_dataerr;
    }
    try {
        Options core_options;
        core_options.data_dir = data;
        core_options.run_engine = false;
        core_options.seed_loopback_providers = false;
        core_options.max_media_bytes = options.max_media;
        Core core(std::move(core_options));
        const auto receipt = core.inbound().receive_email(*message, options.recipient);
        std::cout << "transmission " << receipt.transmission_id << std::endl;
        return exit_ok;
    } catch (const Error& e) {
        std::cerr << "ictcore-server mail-in: " << e.what() << " (" << to_string(e.code()) << ")\n";
        return exit_code_of(e.code());
    } catch (const std::exception& e) {
        std::cerr << "ictcore-server mail-in: " << e.what() << "\n";
        return exit_tempfail;
    }
}

}  // namespace ictcore::server

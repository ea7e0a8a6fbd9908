// `ictcore-server mail-in`: delivers one e-mail from an MTA's pipe transport (Postfix `pipe`,
// Exim `pipe`) to the Inbound service, answering with the sysexits code the MTA acts on.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <istream>
#include <string>

namespace ictcore::server {

struct MailInOptions {
    std::string data_dir = "./data";
    std::string recipient;                            // the envelope recipient; empty: To, then Cc
    std::uint64_t max_message = 50ull * 1024 * 1024;  // bytes read from stdin at most
    std::uint64_t max_media = 20ull * 1024 * 1024;    // largest attachment kept
};

// Sysexits codes, as MTAs read them: 67 and 65 bounce the message, 75 makes the MTA retry.
inline constexpr int exit_ok = 0;
inline constexpr int exit_dataerr = 65;   // EX_DATAERR: the message cannot be used
inline constexpr int exit_nouser = 67;    // EX_NOUSER: no account or program for the recipient
inline constexpr int exit_tempfail = 75;  // EX_TEMPFAIL: store busy, I/O error: try again later

// Adds the `mail-in` subcommand to `app`, filling `options`; returns it so main can ask whether
// it was given.
CLI::App* add_mail_in_command(CLI::App& app, MailInOptions& options);

// Reads one message from `in`, records it, prints the inbound transmission id on stdout and
// returns an exit code (messages go to stderr). Never creates a database.
int run_mail_in(const MailInOptions& options, std::istream& in);

}  // namespace ictcore::server

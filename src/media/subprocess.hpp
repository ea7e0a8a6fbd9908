// Running a helper program (Ghostscript, tiff2pdf) as a separate process: an argument vector,
// never a shell string, with a time limit, so a hostile or broken input cannot run commands,
// hang a request thread or take the library down with it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace ictcore::media {

// Runs argv[0] (looked up in PATH) with `argv` as its arguments, stdin and stdout on
// /dev/null, in its own process group, and waits for it. Returns its exit status (0-255), or
// 128 + the signal number when a signal ended it. When `stderr_text` is not null it receives
// the first 16 KiB of what the program wrote to stderr (the rest is read and dropped, so the
// program never blocks on a full pipe).
//
// Throws Error(Errc::failed, "... timed out ...") when the program runs longer than `limit`
// (its whole process group is killed with SIGKILL first), Error(Errc::internal, "... is not
// installed") when argv[0] is not found, Error(Errc::internal) when it cannot be started.
int run_program(const std::vector<std::string>& argv, std::chrono::seconds limit, std::string* stderr_text);

}  // namespace ictcore::media

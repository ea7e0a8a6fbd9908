// `ictcore-server mail-in` against a running server on the same data directory: a message piped
// in as an MTA would is recorded and visible through the REST API with its results; unknown
// recipients exit 67 (EX_NOUSER) and create nothing; a directory without a database is refused.
#include "helpers.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <map>

#include <chrono>
#include <csignal>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

using namespace http_test_helpers;

struct MailInResult {
    int exit_code = -1;  // -1: did not exit normally in time
    std::string out;
    std::string err;
};

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Runs `ictcore-server mail-in <args>` with `message` on its stdin, as a pipe transport does.
MailInResult run_mail_in(const std::vector<std::string>& args, const std::string& message) {
    TempDir scratch("ictcore-mail-in");
    const auto out_path = scratch.path() / "out";
    const auto err_path = scratch.path() / "err";
    int in_pipe[2];
    REQUIRE(::pipe(in_pipe) == 0);
    const std::string binary = server_binary().string();
    std::vector<std::string> argv_s{binary, "mail-in"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(in_pipe[0], 0);
        ::close(in_pipe[0]);
        ::close(in_pipe[1]);
        const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::execv(binary.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    std::size_t done = 0;
    ::signal(SIGPIPE, SIG_IGN);  // the child may refuse the message before reading it all
    while (done < message.size()) {
        const ssize_t n = ::write(in_pipe[1], message.data() + done, message.size() - done);
        if (n <= 0) break;
        done += static_cast<std::size_t>(n);
    }
    ::close(in_pipe[1]);
    MailInResult result;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (true) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            if (WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
            break;
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    result.out = slurp(out_path);
    result.err = slurp(err_path);
    return result;
}

std::string describe(const MailInResult& r) {
    return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

std::string message_to(const std::string& to) {
    return "From: Sender Name <sender@outside.example>\r\n"
           "To: " +
           to +
           "\r\n"
           "Subject: =?UTF-8?B?SGVsbG8g4oKs?=\r\n"
           "MIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
           "--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nThe body text.\r\n"
           "--b1\r\nContent-Type: application/octet-stream\r\n"
           "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
           "Content-Transfer-Encoding: base64\r\n\r\nAAECA/8=\r\n--b1--\r\n";
}

}  // namespace

TEST_CASE("mail-in: a piped message becomes an inbound transmission visible through the API") {
    ServerProcess server;
    Client admin = admin_client(server);
    create_user(admin, "mailbob", "Mailbob-Pass-1", json::object{{"email", "bob@mail.example"}});
    Client bob = client_as(server, "mailbob", "Mailbob-Pass-1");
    const auto program = created_id(bob.post("/programs/receiveemail", json::object{{"name", "inbox"}}), "program_id");

    const auto ok = run_mail_in({"--data", server.data_dir().string(), "--recipient", "BOB@mail.example"},
                                message_to("someone-else@mail.example"));
    REQUIRE_MESSAGE(ok.exit_code == 0, describe(ok));
    CHECK_MESSAGE(ok.out.find("transmission ") == 0, describe(ok));

    Response list = bob.get("/transmissions");
    REQUIRE_STATUS(list, 200);
    const auto rows = as_array(list);
    REQUIRE(rows.size() == 1);
    const auto& t = rows[0].as_object();
    const auto id = int_field(t, "transmission_id");
    CHECK(ok.out == "transmission " + std::to_string(id) + "\n");
    CHECK(str_field(t, "direction") == "inbound");
    CHECK(str_field(t, "status") == "completed");
    CHECK(int_field(t, "program_id") == program);
    CHECK(int_field(t, "service_flag") == 8);

    Response detail = bob.get("/transmissions/" + std::to_string(id) + "/detail");
    REQUIRE_STATUS(detail, 200);
    const auto spools = as_array(detail);
    REQUIRE(spools.size() == 1);
    const auto spool_id = int_field(spools[0].as_object(), "spool_id");
    Response results = bob.get("/spools/" + std::to_string(spool_id) + "/result");
    REQUIRE_STATUS(results, 200);
    std::map<std::string, std::string> email, attachments;
    for (const auto& v : as_array(results)) {
        const auto& r = v.as_object();
        (str_field(r, "type") == "attachment" ? attachments : email)[str_field(r, "name")] = str_field(r, "data");
    }
    CHECK(email["subject"] == "Hello \xE2\x82\xAC");
    CHECK(email["from"] == "sender@outside.example");
    CHECK(email["text"] == "The body text.");
    REQUIRE(attachments.count("data.bin") == 1);
    CHECK(slurp(server.data_dir() / "media" / attachments["data.bin"]) == std::string("\x00\x01\x02\x03\xff", 5));

    // The sender is now one of bob's contacts.
    Response contacts = bob.get("/contacts?email=sender@outside.example");
    REQUIRE_STATUS(contacts, 200);
    CHECK(as_array(contacts).size() == 1);

    // Unknown recipient: EX_NOUSER, nothing created. Garbage: EX_DATAERR.
    const auto unknown = run_mail_in({"--data", server.data_dir().string()}, message_to("nobody@mail.example"));
    CHECK_MESSAGE(unknown.exit_code == 67, describe(unknown));
    CHECK_MESSAGE(unknown.err.find("nobody@mail.example") != std::string::npos, describe(unknown));
    CHECK(unknown.out.empty());
    const auto no_sender = run_mail_in({"--data", server.data_dir().string()}, "To: bob@mail.example\r\n\r\nx\r\n");
    CHECK_MESSAGE(no_sender.exit_code == 65, describe(no_sender));
    CHECK(as_array(bob.get("/transmissions")).size() == 1);
    CHECK(as_array(bob.get("/contacts")).size() == 1);
}

TEST_CASE("mail-in: refuses a data directory without a database and an oversized message") {
    TempDir empty("ictcore-mail-in-empty");
    const auto missing = run_mail_in({"--data", (empty.path() / "data").string()}, message_to("a@b.example"));
    CHECK_MESSAGE(missing.exit_code == 75, describe(missing));
    CHECK_MESSAGE(missing.err.find("no ictcore database") != std::string::npos, describe(missing));
    CHECK_FALSE(std::filesystem::exists(empty.path() / "data" / "ictcore.db"));

    ServerProcess server;
    const auto big = run_mail_in({"--data", server.data_dir().string(), "--max-message", "1000"},
                                 message_to("a@b.example") + std::string(2000, 'x'));
    CHECK_MESSAGE(big.exit_code == 65, describe(big));
}

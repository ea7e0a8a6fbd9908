// doctest main of ictcore-http-tests. SIGPIPE is ignored so that a server closing a connection
// mid-write fails a check instead of killing the test process (the server child gets the
// default disposition back before exec).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    return context.run();
}

// REGISTER against a real registrar (SIPp, tests/rigs/sipp/uas_register.xml): a provider with
// `register` binds through a digest challenge, refreshes the short binding the registrar grants,
// and removes it (Contact expires=0) when the provider is deactivated; refused credentials
// leave the registrar's scenario failed.
#include "core_options.hpp"
#include "sipp_rig.hpp"
#include "temp_dir.hpp"

#include <ictcore/ictcore.hpp>
#include <ictcore/service_flag.hpp>

#include <doctest/doctest.h>

#include <thread>

namespace {

using namespace ictcore;
using namespace std::chrono_literals;

struct Registering {
    test::TempDir dir;
    test::SippRig registrar{dir.path() / "sipp", "uas_register", {.calls = 1, .timeout = 20s}};
    std::unique_ptr<Core> core;
    Principal admin;
    std::int64_t provider_id = 0;

    explicit Registering(const std::string& password) {
        auto o = test::core_options(dir);
        o.seed_loopback_providers = false;
        core = std::make_unique<Core>(o);
        admin = core->auth().from_password("admin", *o.admin_password);
        Provider p;
        p.name = "registrar";
        p.type = "sip";
        p.service_flag = service::voice;
        p.username = "ictcore";
        p.password = password;
        p.host = "127.0.0.1";
        p.port = registrar.port();
        p.register_ = 1;
        p.settings = R"({"listen": "127.0.0.1:0"})";
        provider_id = core->providers().create(admin, p);
    }
};

}  // namespace

TEST_CASE("sip register: binds with digest auth, refreshes, and unbinds when the provider goes") {
    Registering r("secret");
    // The registrar grants 2 s: by now it has seen the authenticated REGISTER and a refresh.
    std::this_thread::sleep_for(4500ms);
    CHECK(r.registrar.wait_exit(0ms) == -1);  // still expecting the removal
    r.core->providers().update(r.admin, r.provider_id, [](Provider& p) { p.active = 0; });
    const int exit = r.registrar.wait_exit(10s);
    INFO(r.registrar.messages_log());
    CHECK(exit == 0);
}

TEST_CASE("sip register: refused credentials fail the registrar's scenario") {
    Registering r("wrong");
    const int exit = r.registrar.wait_exit(15s);
    INFO(r.registrar.messages_log());
    CHECK(exit != 0);
    CHECK(exit != -1);
}

// ReLoop (src/sip/re_loop.*): work posted from any thread runs on the one libre thread, in the
// order each thread posted it; libre timers fire there; the loop stops with its last holder and
// a new one starts afterwards.
#include "sip/re_loop.hpp"

#include <doctest/doctest.h>
#include <re.h>

#include <chrono>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

using ictcore::sip::ReLoop;

namespace {

struct TimerProbe {
    struct tmr timer;
    std::promise<std::thread::id> fired;
};

void on_timer(void* arg) {
    auto* probe = static_cast<TimerProbe*>(arg);
    probe->fired.set_value(std::this_thread::get_id());
}

}  // namespace

TEST_CASE("re loop: posted work and libre timers run on the loop thread, in order per posting thread") {
    auto loop = ReLoop::acquire();
    CHECK(ReLoop::acquire() == loop);  // one loop per process
    CHECK_FALSE(loop->on_loop_thread());

    TimerProbe probe;
    auto fired = probe.fired.get_future();
    const auto start = std::chrono::steady_clock::now();
    loop->post([&probe] {
        tmr_init(&probe.timer);
        tmr_start(&probe.timer, 50, on_timer, &probe);
    });
    REQUIRE(fired.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const auto loop_thread = fired.get();
    CHECK(loop_thread != std::this_thread::get_id());
    CHECK(elapsed >= std::chrono::milliseconds(45));

    std::mutex mutex;
    std::map<int, std::vector<int>> seen;  // posting thread → the sequence numbers it saw run
    bool all_on_loop = true;
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t) {
        posters.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                loop->post([&, t, i] {
                    std::lock_guard lock(mutex);
                    all_on_loop = all_on_loop && loop->on_loop_thread();
                    seen[t].push_back(i);
                });
            }
        });
    }
    for (auto& p : posters) p.join();
    std::promise<void> drained;
    loop->post([&drained] { drained.set_value(); });
    REQUIRE(drained.get_future().wait_for(std::chrono::seconds(5)) == std::future_status::ready);
    std::lock_guard lock(mutex);
    CHECK(all_on_loop);
    for (int t = 0; t < 4; ++t) {
        REQUIRE(seen[t].size() == 500);
        for (int i = 0; i < 500; ++i) CHECK(seen[t][static_cast<std::size_t>(i)] == i);
    }
    loop->post([&probe] { tmr_cancel(&probe.timer); });
}

TEST_CASE("re loop: it stops with its last holder (joining its thread), and a new one starts after it") {
    for (int round = 0; round < 3; ++round) {
        auto loop = ReLoop::acquire();
        std::promise<bool> ran;
        loop->post([&ran, &loop] { ran.set_value(loop->on_loop_thread()); });
        auto future = ran.get_future();
        REQUIRE(future.wait_for(std::chrono::seconds(5)) == std::future_status::ready);
        CHECK(future.get());
        CHECK(loop.use_count() == 1);
        // Releasing it stops libre and joins the thread (a stop that failed would hang here);
        // the next round's acquire() needs libre initialised again.
    }
}

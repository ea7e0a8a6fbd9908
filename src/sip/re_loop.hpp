// ReLoop: the process's one libre event loop, on a thread of its own. libre keeps its loop state
// per thread and its objects are not thread-safe, so every libre call the library makes runs on
// this thread: other threads hand it work with post(). The first user starts it and the last
// one stops it, so Cores created one after another each get a working loop.
#pragma once

#include <functional>
#include <memory>
#include <thread>

namespace ictcore::sip {

class ReLoop {
public:
    // The running loop, started when nobody holds it.
    static std::shared_ptr<ReLoop> acquire();
    ~ReLoop();  // stops the loop and joins its thread
    ReLoop(const ReLoop&) = delete;
    ReLoop& operator=(const ReLoop&) = delete;

    // Runs `work` on the loop thread, after the work posted before it. Any thread.
    void post(std::function<void()> work);
    bool on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

    struct Queue;

private:
    ReLoop();
    std::unique_ptr<Queue> queue_;
    std::thread thread_;
};

}  // namespace ictcore::sip

// ReLoop (see re_loop.hpp): libre_init, an mqueue the other threads push work into, re_main;
// the last release pushes a stop that ends re_main on the loop's own thread (re_cancel acts on
// the calling thread's loop), then libre is closed there.
#include "sip/re_loop.hpp"

#include <ictcore/error.hpp>

#include <re.h>

#include <future>
#include <mutex>

namespace ictcore::sip {

struct ReLoop::Queue {
    struct mqueue* mq = nullptr;
};

namespace {

std::mutex instance_mutex;
std::weak_ptr<ReLoop> instance;

constexpr int run_work = 1;
constexpr int stop_loop = 2;

void on_message(int id, void* data, void*) {
    if (id == stop_loop) {
        re_cancel();
        return;
    }
    std::unique_ptr<std::function<void()>> work(static_cast<std::function<void()>*>(data));
    (*work)();
}

}  // namespace

std::shared_ptr<ReLoop> ReLoop::acquire() {
    std::lock_guard lock(instance_mutex);
    if (auto running = instance.lock()) return running;
    std::shared_ptr<ReLoop> loop(new ReLoop());
    instance = loop;
    return loop;
}

ReLoop::ReLoop() : queue_(std::make_unique<Queue>()) {
    std::promise<int> started;
    auto ready = started.get_future();
    thread_ = std::thread([this, &started] {
        int err = libre_init();
        if (err == 0) err = mqueue_alloc(&queue_->mq, on_message, nullptr);
        started.set_value(err);
        if (err != 0) {
            libre_close();
            return;
        }
        re_main(nullptr);
        queue_->mq = static_cast<struct mqueue*>(mem_deref(queue_->mq));
        libre_close();
    });
    if (const int err = ready.get(); err != 0) {
        thread_.join();
        throw Error(Errc::internal, "libre: cannot start the SIP event loop (error " + std::to_string(err) + ")");
    }
}

ReLoop::~ReLoop() {
    mqueue_push(queue_->mq, stop_loop, nullptr);
    thread_.join();
}

void ReLoop::post(std::function<void()> work) {
    auto* held = new std::function<void()>(std::move(work));
    if (const int err = mqueue_push(queue_->mq, run_work, held); err != 0) {
        delete held;
        throw Error(Errc::internal,
                    "libre: cannot hand work to the SIP event loop (error " + std::to_string(err) + ")");
    }
}

}  // namespace ictcore::sip

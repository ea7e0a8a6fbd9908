// ServerContext: what the listener and every HttpSession share — options, the router, the
// worker pool, the stopping flag and the registry of live sessions used for graceful shutdown
// and the connection limit.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "router.hpp"
#include "server_options.hpp"

namespace ictcore::server {

class Session;  // http_session.hpp: an HttpSession over plain TCP or TLS

class ServerContext {
public:
    ServerContext(const ServerOptions& options, const Router& router, boost::asio::thread_pool& workers)
        : options_(options), router_(router), workers_(workers) {}

    const ServerOptions& options() const noexcept { return options_; }
    const Router& router() const noexcept { return router_; }
    boost::asio::thread_pool& workers() noexcept { return workers_; }

    bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
    void set_stopping() noexcept { stopping_.store(true, std::memory_order_release); }

    void add_session(Session* session, std::weak_ptr<Session> handle) {
        std::lock_guard lock(mutex_);
        sessions_.emplace(session, std::move(handle));
    }
    void remove_session(Session* session) {
        std::lock_guard lock(mutex_);
        sessions_.erase(session);
        if (sessions_.empty()) all_closed_.notify_all();
    }
    std::size_t session_count() {
        std::lock_guard lock(mutex_);
        return sessions_.size();
    }
    std::vector<std::shared_ptr<Session>> live_sessions() {
        std::lock_guard lock(mutex_);
        std::vector<std::shared_ptr<Session>> live;
        for (auto& [raw, weak] : sessions_) {
            if (auto session = weak.lock()) live.push_back(std::move(session));
        }
        return live;
    }
    // True when every session ended within `timeout`.
    bool wait_all_closed(std::chrono::steady_clock::duration timeout) {
        std::unique_lock lock(mutex_);
        return all_closed_.wait_for(lock, timeout, [this] { return sessions_.empty(); });
    }

private:
    const ServerOptions& options_;
    const Router& router_;
    boost::asio::thread_pool& workers_;
    std::atomic<bool> stopping_{false};
    std::mutex mutex_;
    std::condition_variable all_closed_;
    std::unordered_map<Session*, std::weak_ptr<Session>> sessions_;
};

}  // namespace ictcore::server

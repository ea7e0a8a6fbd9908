// Store: the database. Writes run on one writer thread that commits every job queued
// meanwhile in one transaction (group commit), each job in its own savepoint so one
// failure does not undo its neighbours; the caller returns only after the commit.
// Reads use a pool of read-only connections and never wait for the writer (WAL).
#pragma once

#include "store/connection.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace ictcore::store {

class Store;

// A read connection borrowed from the pool; returned when the lease is destroyed.
class ReadLease {
public:
    ReadLease(Store& store, std::unique_ptr<Connection> connection);
    ReadLease(ReadLease&&) noexcept = default;
    ReadLease& operator=(ReadLease&&) = delete;
    ~ReadLease();
    Connection& operator*() { return *connection_; }
    Connection* operator->() { return connection_.get(); }

private:
    Store* store_;
    std::unique_ptr<Connection> connection_;
};

class Store {
public:
    // Opens (creating if needed) the database file and migrates it to the latest schema.
    explicit Store(std::filesystem::path file);
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Runs `f(Connection&)` in a write transaction and returns its result once committed.
    // Exceptions from `f` roll back only its own changes and are rethrown here.
    template <class F>
    auto write(F&& f) -> std::invoke_result_t<F&, Connection&> {
        using R = std::invoke_result_t<F&, Connection&>;
        if constexpr (std::is_void_v<R>) {
            run_write([&](Connection& c) { f(c); });
        } else {
            std::optional<R> result;
            run_write([&](Connection& c) { result.emplace(f(c)); });
            return std::move(*result);
        }
    }

    template <class F>
    auto read(F&& f) -> std::invoke_result_t<F&, Connection&> {
        ReadLease lease = borrow();
        return f(*lease);
    }

    // Queues `job` for the writer and returns at once; `done` runs on the writer thread after
    // the commit (with the job's exception, or null) and must only hand off (post) work.
    // This is how the engine batches thousands of state changes into one commit without a
    // thread waiting on each.
    void write_async(std::function<void(Connection&)> job, std::function<void(std::exception_ptr)> done);

    ReadLease borrow();
    const std::filesystem::path& file() const { return file_; }

private:
    friend class ReadLease;
    struct Job {
        std::function<void(Connection&)> owned;  // async jobs own their function
        const std::function<void(Connection&)>* run = nullptr;
        std::function<void(std::exception_ptr)> done;
    };
    void enqueue(Job* job);

    void run_write(const std::function<void(Connection&)>& job);
    void writer_loop();
    void commit_batch(std::vector<Job*>& batch);
    void give_back(std::unique_ptr<Connection> connection);

    std::filesystem::path file_;
    std::unique_ptr<Connection> writer_;

    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::deque<Job*> queue_;
    bool stopping_ = false;
    std::thread writer_thread_;

    std::mutex pool_mutex_;
    std::vector<std::unique_ptr<Connection>> idle_readers_;
};

}  // namespace ictcore::store

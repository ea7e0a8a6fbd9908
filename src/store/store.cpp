// Group-commit writer and reader pool (see store.hpp for why).
#include "store/store.hpp"

#include "store/migrations.hpp"

#include <ictcore/error.hpp>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

namespace ictcore::store {

namespace {
constexpr std::size_t max_batch = 4096;
constexpr std::size_t max_idle_readers = 32;

bool disk_full(const std::exception& e) {
    const auto* sqlite = dynamic_cast<const SQLite::Exception*>(&e);
    return sqlite && sqlite->getErrorCode() == SQLITE_FULL;
}

// A full disk is named as such (507), not passed on as SQLite's text, which would read as a
// fault of ours (500): the request was sound and succeeds once space is freed.
std::exception_ptr disk_full_error() {
    return std::make_exception_ptr(Error(Errc::insufficient_storage, "the disk is full: nothing was stored"));
}
}  // namespace

ReadLease::ReadLease(Store& store, std::unique_ptr<Connection> connection)
    : store_(&store), connection_(std::move(connection)) {}

ReadLease::~ReadLease() {
    if (!connection_) return;
    connection_->reset_all();
    store_->give_back(std::move(connection_));
}

Store::Store(std::filesystem::path file) : file_(std::move(file)) {
    writer_ = std::make_unique<Connection>(file_, Connection::Mode::read_write);
    migrate(writer_->db());
    writer_thread_ = std::thread([this] { writer_loop(); });
}

Store::~Store() {
    {
        std::lock_guard lock(queue_mutex_);
        stopping_ = true;
    }
    queue_cv_.notify_all();
    writer_thread_.join();
    idle_readers_.clear();
    // Fold the WAL back into the main file so a closed database is a single file.
    try {
        writer_->db().exec("PRAGMA wal_checkpoint(TRUNCATE)");
    } catch (const std::exception& e) {
        spdlog::warn("checkpoint on close failed: {}", e.what());
    }
}

ReadLease Store::borrow() {
    {
        std::lock_guard lock(pool_mutex_);
        if (!idle_readers_.empty()) {
            auto c = std::move(idle_readers_.back());
            idle_readers_.pop_back();
            return ReadLease(*this, std::move(c));
        }
    }
    return ReadLease(*this, std::make_unique<Connection>(file_, Connection::Mode::read_only));
}

void Store::give_back(std::unique_ptr<Connection> connection) {
    std::lock_guard lock(pool_mutex_);
    if (idle_readers_.size() < max_idle_readers) idle_readers_.push_back(std::move(connection));
}

void Store::run_write(const std::function<void(Connection&)>& run) {
    // A write issued from inside a write job joins that job's transaction.
    if (std::this_thread::get_id() == writer_thread_.get_id()) {
        run(*writer_);
        return;
    }
    std::promise<void> promise;
    Job job;
    job.run = &run;
    job.done = [&promise](std::exception_ptr error) {
        if (error)
            promise.set_exception(error);
        else
            promise.set_value();
    };
    auto done = promise.get_future();
    enqueue(&job);
    done.get();
}

void Store::write_async(std::function<void(Connection&)> job, std::function<void(std::exception_ptr)> done) {
    auto* owned = new Job;
    owned->owned = std::move(job);
    owned->run = &owned->owned;
    owned->done = [owned, done = std::move(done)](std::exception_ptr error) {
        std::unique_ptr<Job> release(owned);
        done(error);
    };
    try {
        enqueue(owned);
    } catch (...) {
        delete owned;
        throw;
    }
}

void Store::enqueue(Job* job) {
    {
        std::lock_guard lock(queue_mutex_);
        if (stopping_) throw Error(Errc::internal, "the store is closing");
        queue_.push_back(job);
    }
    queue_cv_.notify_one();
}

void Store::writer_loop() {
    std::vector<Job*> batch;
    for (;;) {
        {
            std::unique_lock lock(queue_mutex_);
            queue_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping and drained
            while (!queue_.empty() && batch.size() < max_batch) {
                batch.push_back(queue_.front());
                queue_.pop_front();
            }
        }
        commit_batch(batch);
        batch.clear();
    }
}

void Store::commit_batch(std::vector<Job*>& batch) {
    auto& db = writer_->db();
    std::vector<std::exception_ptr> errors(batch.size());
    std::exception_ptr commit_error;
    std::size_t broke = batch.size();  // the job whose failure ended the transaction, if any
    try {
        db.exec("BEGIN IMMEDIATE");
        // Savepoint statements are prepared once: a batch may hold thousands of small jobs.
        auto step = [this](const char* sql) { writer_->cached(sql).exec(); };
        for (std::size_t i = 0; i < batch.size(); ++i) {
            step("SAVEPOINT job");
            bool full = false;
            try {
                (*batch[i]->run)(*writer_);
                writer_->reset_all();
                step("RELEASE job");
                continue;
            } catch (const std::exception& e) {
                full = disk_full(e);
                errors[i] = full ? disk_full_error() : std::current_exception();
            } catch (...) {
                errors[i] = std::current_exception();
            }
            writer_->reset_all();
            // On a full disk (and some I/O errors) SQLite rolls the whole transaction back,
            // savepoints included: the jobs before this one are undone too, so they fail as well
            // (and not with "no such savepoint").
            if (sqlite3_get_autocommit(db.getHandle())) {
                spdlog::error("database write rolled back by SQLite: {} queued writes failed", batch.size());
                broke = i;
                commit_error = full ? errors[i]
                                    : std::make_exception_ptr(Error(
                                          Errc::internal, "database write failed: the transaction was rolled back"));
                break;
            }
            step("ROLLBACK TO job");
            step("RELEASE job");
        }
        if (!commit_error) db.exec("COMMIT");
    } catch (const std::exception& e) {
        spdlog::error("database commit failed: {}", e.what());
        commit_error =
            disk_full(e)
                ? disk_full_error()
                : std::make_exception_ptr(Error(Errc::internal, std::string("database write failed: ") + e.what()));
        try {
            db.exec("ROLLBACK");
        } catch (...) {
        }
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
        // `done` may free the job (async jobs own themselves): move it out, call it last.
        auto done = std::move(batch[i]->done);
        done(commit_error && i != broke ? commit_error : errors[i]);
    }
}

}  // namespace ictcore::store

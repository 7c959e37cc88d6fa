#include "engine/capture/read_pool.h"

#include <pthread.h>

#include <algorithm>

namespace snap::engine::capture {

ReadPool::ReadPool(Repository* repo, repo::PackSink* sink, EncodePool* pool,
                   const chunk::ChunkerParams& params, int threads) {
  for (int i = 0; i < std::max(1, threads); ++i)
    streams_.push_back(std::make_unique<ChunkStream>(repo, sink, pool, params));
  for (size_t i = 0; i < streams_.size(); ++i)
    threads_.emplace_back([this, i] {
      pthread_setname_np(pthread_self(), "snap-read");
      Work(i);
    });
}

ReadPool::~ReadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

ReadPool::Client::Client(ReadPool* pool, ReadFn read) : pool_(pool), read_(std::move(read)) {
  std::lock_guard<std::mutex> lock(pool_->mu_);
  // A client that comes late starts level with the least served one, not
  // at 0: else it would have the readers to itself until it caught up.
  for (size_t i = 0; i < pool_->clients_.size(); ++i) {
    uint64_t b = pool_->clients_[i]->started_bytes_;
    started_bytes_ = i == 0 ? b : std::min(started_bytes_, b);
  }
  pool_->clients_.push_back(this);
}

ReadPool::Client::~Client() {
  std::unique_lock<std::mutex> lock(pool_->mu_);
  queue_.clear();
  closing_ = true;
  done_cv_.wait(lock, [&] { return running_ == 0; });
  std::erase(pool_->clients_, this);
}

void ReadPool::Client::Submit(std::vector<std::unique_ptr<FileRead>> reads) {
  if (reads.empty()) return;
  in_flight_ += reads.size();
  {
    std::lock_guard<std::mutex> lock(pool_->mu_);
    for (std::unique_ptr<FileRead>& r : reads) queue_.push_back(std::move(r));
  }
  if (reads.size() == 1) pool_->work_cv_.notify_one();
  else pool_->work_cv_.notify_all();
}

std::vector<std::unique_ptr<FileRead>> ReadPool::Client::Collect(bool wait) {
  std::vector<std::unique_ptr<FileRead>> out;
  std::unique_lock<std::mutex> lock(pool_->mu_);
  if (wait && in_flight_ > 0) {
    wanted_ = std::min(in_flight_, kCollectBatch);
    done_cv_.wait(lock, [&] { return done_.size() >= wanted_; });
    wanted_ = 0;
  }
  out.swap(done_);
  in_flight_ -= out.size();
  return out;
}

ReadPool::Client* ReadPool::Next() const {
  Client* next = nullptr;
  for (Client* c : clients_)
    if (!c->queue_.empty() && (!next || c->started_bytes_ < next->started_bytes_)) next = c;
  return next;
}

void ReadPool::Work(size_t stream) {
  ChunkStream& s = *streams_[stream];
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    Client* client = nullptr;
    work_cv_.wait(lock, [&] { return stop_ || (client = Next()) != nullptr; });
    if (stop_) return;
    std::unique_ptr<FileRead> r = std::move(client->queue_.front());
    client->queue_.pop_front();
    // An empty file costs its system calls: never nothing.
    client->started_bytes_ += std::max(r->size, kMinReadCost);
    client->running_++;
    lock.unlock();
    uint64_t chunks = s.new_chunks(), bytes = s.new_bytes();
    client->read_(r.get(), s);
    r->new_chunks = s.new_chunks() - chunks;
    r->new_bytes = s.new_bytes() - bytes;
    lock.lock();
    client->running_--;
    client->done_.push_back(std::move(r));
    // Collect once its batch is in; the destructor once nothing runs.
    if ((client->wanted_ > 0 && client->done_.size() >= client->wanted_) ||
        (client->closing_ && client->running_ == 0))
      client->done_cv_.notify_all();
  }
}

}  // namespace snap::engine::capture

#include "engine/capture/read_pool.h"

#include <pthread.h>

namespace snap::engine::capture {

ReadPool::ReadPool(Repository* repo, repo::PackSink* sink, EncodePool* pool,
                   const chunk::ChunkerParams& params, int threads, ReadFn read)
    : read_(std::move(read)) {
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
    queue_.clear();
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ReadPool::Submit(std::vector<std::unique_ptr<FileRead>> reads) {
  if (reads.empty()) return;
  in_flight_ += reads.size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (std::unique_ptr<FileRead>& r : reads) queue_.push_back(std::move(r));
  }
  if (reads.size() == 1) work_cv_.notify_one();
  else work_cv_.notify_all();
}

std::vector<std::unique_ptr<FileRead>> ReadPool::Collect(bool wait) {
  std::vector<std::unique_ptr<FileRead>> out;
  std::unique_lock<std::mutex> lock(mu_);
  if (wait && in_flight_ > 0) done_cv_.wait(lock, [&] { return !done_.empty(); });
  out.swap(done_);
  in_flight_ -= out.size();
  return out;
}

void ReadPool::Work(size_t stream) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    std::unique_ptr<FileRead> r = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    read_(r.get(), *streams_[stream]);
    lock.lock();
    bool first = done_.empty();
    done_.push_back(std::move(r));
    if (first) done_cv_.notify_one();
  }
}

uint64_t ReadPool::new_chunks() const {
  uint64_t n = 0;
  for (const auto& s : streams_) n += s->new_chunks();
  return n;
}

uint64_t ReadPool::new_bytes() const {
  uint64_t n = 0;
  for (const auto& s : streams_) n += s->new_bytes();
  return n;
}

}  // namespace snap::engine::capture

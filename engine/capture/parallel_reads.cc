#include "engine/capture/parallel_reads.h"

namespace snap::engine::capture {

ParallelReads::ParallelReads(Repository* repo, repo::PackSink* sink, EncodePool* pool,
                             const chunk::ChunkerParams& params, int threads) {
  for (int i = 0; i < std::max(1, threads); ++i)
    streams_.push_back(std::make_unique<ChunkStream>(repo, sink, pool, params));
  for (size_t i = 1; i < streams_.size(); ++i) threads_.emplace_back([this, i] { Work(i); });
}

ParallelReads::~ParallelReads() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ParallelReads::ForEach(size_t n, const std::function<void(size_t, ChunkStream&)>& fn) {
  if (n == 0) return;
  if (n == 1 || threads_.empty()) {  // not worth waking anyone
    for (size_t i = 0; i < n; ++i) fn(i, *streams_[0]);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    n_ = n;
    fn_ = &fn;
    next_.store(0);
    running_ = static_cast<int>(threads_.size());
    ++round_;
  }
  start_cv_.notify_all();
  RunShare(0);
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return running_ == 0; });
  fn_ = nullptr;
}

void ParallelReads::RunShare(size_t stream) {
  for (size_t i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) (*fn_)(i, *streams_[stream]);
}

void ParallelReads::Work(size_t stream) {
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    start_cv_.wait(lock, [&] { return stop_ || round_ != seen; });
    if (stop_) return;
    seen = round_;
    lock.unlock();
    RunShare(stream);
    lock.lock();
    if (--running_ == 0) done_cv_.notify_one();
  }
}

uint64_t ParallelReads::new_chunks() const {
  uint64_t n = 0;
  for (const auto& s : streams_) n += s->new_chunks();
  return n;
}

uint64_t ParallelReads::new_bytes() const {
  uint64_t n = 0;
  for (const auto& s : streams_) n += s->new_bytes();
  return n;
}

}  // namespace snap::engine::capture

#include "engine/restore/job_pool.h"

namespace snap::engine::restore {

JobPool::JobPool(int threads, size_t max_queued) : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

JobPool::~JobPool() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return jobs_.empty() && busy_ == 0; });
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

Status JobPool::Submit(std::function<Status()> job) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !error_.ok() || jobs_.size() < max_queued_; });
  if (!error_.ok()) return error_;
  jobs_.push_back(std::move(job));
  cv_.notify_all();
  return Status::OK();
}

Status JobPool::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return jobs_.empty() && busy_ == 0; });
  return error_;
}

void JobPool::Work() {
  for (;;) {
    std::function<Status()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      ++busy_;
    }
    cv_.notify_all();
    // After an error, drain without running: the restore is failing anyway.
    Status s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s = error_;
    }
    if (s.ok()) s = job();
    {
      std::lock_guard<std::mutex> lock(mu_);
      --busy_;
      if (!s.ok() && error_.ok()) error_ = s;
    }
    cv_.notify_all();
  }
}

}  // namespace snap::engine::restore

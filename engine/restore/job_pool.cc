#include "engine/restore/job_pool.h"

namespace snap::engine::restore {

JobPool::JobPool(int threads, size_t max_queued) : max_queued_(max_queued) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

JobPool::~JobPool() {
  (void)WaitIdle();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

Status JobPool::Submit(std::function<Status()> job) {
  std::unique_lock<std::mutex> lock(mu_);
  while (error_.ok() && jobs_.size() >= max_queued_) {
    submit_waits_ = true;
    space_cv_.wait(lock);
  }
  submit_waits_ = false;
  if (!error_.ok()) return error_;
  jobs_.push_back(std::move(job));
  bool wake = sleeping_workers_ > 0;
  lock.unlock();
  if (wake) work_cv_.notify_one();
  return Status::OK();
}

Status JobPool::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!jobs_.empty() || busy_ > 0) {
    idle_waits_ = true;
    idle_cv_.wait(lock);
  }
  idle_waits_ = false;
  return error_;
}

void JobPool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    while (!stop_ && jobs_.empty()) {
      ++sleeping_workers_;
      work_cv_.wait(lock);
      --sleeping_workers_;
    }
    if (jobs_.empty()) return;
    std::function<Status()> job = std::move(jobs_.front());
    jobs_.pop_front();
    ++busy_;
    if (submit_waits_) space_cv_.notify_one();
    lock.unlock();
    Status s = job();
    job = nullptr;  // what it captured goes before the pool reports idle
    lock.lock();
    --busy_;
    if (!s.ok() && error_.ok()) {
      error_ = s;
      space_cv_.notify_all();
    }
    if (idle_waits_ && busy_ == 0 && jobs_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace snap::engine::restore

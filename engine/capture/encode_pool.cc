#include "engine/capture/encode_pool.h"

#include "engine/repository.h"

namespace snap::engine::capture {

EncodePool::EncodePool(const Repository* repo, repo::PackSink* sink, int threads,
                       size_t max_queued_bytes)
    : repo_(repo), sink_(sink), max_queued_bytes_(max_queued_bytes) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

EncodePool::~EncodePool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

Status EncodePool::Submit(pack::EntryHeader header, Buffer plain, std::optional<Buffer> delta_base) {
  std::unique_lock<std::mutex> lock(mu_);
  // Always admit one job into an empty queue, however large.
  cv_.wait(lock, [&] {
    return !error_.ok() || jobs_.empty() || queued_bytes_ + plain.size() <= max_queued_bytes_;
  });
  if (!error_.ok()) return error_;
  queued_bytes_ += plain.size();
  jobs_.push_back({std::move(header), std::move(plain), std::move(delta_base)});
  cv_.notify_all();
  return Status::OK();
}

Status EncodePool::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return jobs_.empty() && busy_ == 0; });
  return error_;
}

void EncodePool::Work() {
  Buffer payload;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      queued_bytes_ -= job.plain.size();
      ++busy_;
    }
    cv_.notify_all();
    repo_->EncodePayload(job.plain, &job.header, &payload, job.base ? &*job.base : nullptr);
    Status s = sink_->Add(job.header, payload);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --busy_;
      if (!s.ok() && error_.ok()) error_ = s;
    }
    cv_.notify_all();
  }
}

}  // namespace snap::engine::capture

// JobPool: worker threads that restore files while the tree walk goes on.
// The queue is bounded so a walk of millions of files holds few jobs.
// Submit and WaitIdle are called from one thread (the walk).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/status.h"

namespace snap::engine::restore {

class JobPool {
 public:
  JobPool(int threads, size_t max_queued);
  ~JobPool();  // waits for queued jobs, then joins

  // Queues `job`; blocks while the queue is full. Returns the first error
  // any job returned so far (the job is then not queued). Every queued job
  // runs, even after another failed: it may hold what must be released.
  Status Submit(std::function<Status()> job);
  // Waits until every queued job has finished; the first error, if any.
  Status WaitIdle();

 private:
  void Work();

  size_t max_queued_;
  std::mutex mu_;
  // Each waits for its own event, and is woken only when someone waits on
  // it: a restore of many small files runs a job per file, and broadcast
  // wake-ups per job cost more than the files.
  std::condition_variable work_cv_;   // workers: a job or stop
  std::condition_variable space_cv_;  // Submit: room in the queue or an error
  std::condition_variable idle_cv_;   // WaitIdle and the destructor: all done
  std::deque<std::function<Status()>> jobs_;  // guarded by mu_
  int busy_ = 0;                              // guarded by mu_
  int sleeping_workers_ = 0;                  // guarded by mu_
  bool submit_waits_ = false;                 // guarded by mu_
  bool idle_waits_ = false;                   // guarded by mu_
  bool stop_ = false;                         // guarded by mu_
  Status error_;                              // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace snap::engine::restore

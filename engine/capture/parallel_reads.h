// ParallelReads: reads the changed files of one directory on several
// threads at once, each through its own ChunkStream (reading, cutting and
// hashing are the capture's serial part; the EncodePool behind the streams
// is shared). The caller's thread takes part, so `threads` is the total.
// ForEach is called from one thread at a time.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/capture/chunk_stream.h"

namespace snap::engine::capture {

class ParallelReads {
 public:
  ParallelReads(Repository* repo, repo::PackSink* sink, EncodePool* pool,
                const chunk::ChunkerParams& params, int threads);
  ~ParallelReads();

  // Calls fn(i, stream) once for every i in [0, n), spread over the
  // threads; returns when every call has returned.
  void ForEach(size_t n, const std::function<void(size_t, ChunkStream&)>& fn);

  uint64_t new_chunks() const;
  uint64_t new_bytes() const;

 private:
  void Work(size_t stream);
  void RunShare(size_t stream);

  std::vector<std::unique_ptr<ChunkStream>> streams_;  // [0] is the caller's
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_cv_, done_cv_;
  uint64_t round_ = 0;   // guarded by mu_; bumped by each ForEach
  int running_ = 0;      // helpers inside the current round, guarded by mu_
  bool stop_ = false;    // guarded by mu_
  size_t n_ = 0;
  const std::function<void(size_t, ChunkStream&)>* fn_ = nullptr;
  std::atomic<size_t> next_{0};
};

}  // namespace snap::engine::capture

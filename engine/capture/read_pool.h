// ReadPool: threads that read files through their own ChunkStreams (read,
// cut, hash: the capture's per-byte serial part; the EncodePool behind the
// streams is shared), one read after the other, whatever directory it
// belongs to, while the walk goes on. The walk submits reads and collects
// the finished ones; both from one thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/capture/chunk_stream.h"
#include "engine/capture/dir_work.h"

namespace snap::engine::capture {

class ReadPool {
 public:
  using ReadFn = std::function<void(FileRead*, ChunkStream&)>;

  // `read` runs on the pool's threads: it must touch nothing but the read
  // and the stream.
  ReadPool(Repository* repo, repo::PackSink* sink, EncodePool* pool,
           const chunk::ChunkerParams& params, int threads, ReadFn read);
  ~ReadPool();  // lets the running reads end; drops the queued ones

  // Queues the reads, in order (one wake-up for a directory's files).
  void Submit(std::vector<std::unique_ptr<FileRead>> reads);
  // The reads finished since the last call, in no particular order. With
  // `wait`, waits for one unless none is in flight.
  std::vector<std::unique_ptr<FileRead>> Collect(bool wait);
  // Submitted and not yet collected.
  size_t in_flight() const { return in_flight_; }

  uint64_t new_chunks() const;
  uint64_t new_bytes() const;

 private:
  void Work(size_t stream);

  ReadFn read_;
  std::vector<std::unique_ptr<ChunkStream>> streams_;
  size_t in_flight_ = 0;  // the caller's
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<std::unique_ptr<FileRead>> queue_;  // guarded by mu_
  std::vector<std::unique_ptr<FileRead>> done_;  // guarded by mu_
  bool stop_ = false;                            // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace snap::engine::capture

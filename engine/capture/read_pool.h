// ReadPool: threads that read files through their own ChunkStreams (read,
// cut, hash: the capture's per-byte serial part; the EncodePool behind the
// streams is shared), one read after the other, whatever directory it
// belongs to, while the walks go on. Each walk submits its reads and
// collects the finished ones through its own Client, from one thread.
//
// Sources share the readers by bytes: the next read is the oldest of the
// client that has started the fewest bytes so far (a client that comes
// late starts level with the least served one). Without that, a source
// of a few large files (media) queued all at once is read first while the
// other source's walk is still listing; its chunks, cheap to encode, then
// wait on the pack writer's disk with both cores half idle, and the small
// files' compression runs alone afterwards. Shared by bytes, the disk
// writes of one source overlap the compression of the other.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "engine/capture/chunk_stream.h"
#include "engine/capture/dir_work.h"

namespace snap::engine::capture {

class ReadPool {
 public:
  // Runs on the pool's threads: must touch nothing but the read and the
  // stream.
  using ReadFn = std::function<void(FileRead*, ChunkStream&)>;

  class Client {
   public:
    Client(ReadPool* pool, ReadFn read);
    ~Client();  // drops its queued reads, waits for its running ones

    // Queues the reads, in order (one wake-up for a directory's files).
    void Submit(std::vector<std::unique_ptr<FileRead>> reads);
    // The reads finished since the last call, in no particular order. With
    // `wait`, waits for some unless none is in flight: for kCollectBatch of
    // them, or all in flight when fewer (one wake-up per batch, not per read).
    std::vector<std::unique_ptr<FileRead>> Collect(bool wait);
    static constexpr size_t kCollectBatch = 32;
    // Submitted and not yet collected.
    size_t in_flight() const { return in_flight_; }

   private:
    friend class ReadPool;
    ReadPool* pool_;
    ReadFn read_;
    size_t in_flight_ = 0;                         // the owner's
    std::deque<std::unique_ptr<FileRead>> queue_;  // guarded by pool_->mu_
    uint64_t started_bytes_ = 0;                   // guarded by pool_->mu_
    std::vector<std::unique_ptr<FileRead>> done_;  // guarded by pool_->mu_
    int running_ = 0;                              // guarded by pool_->mu_
    size_t wanted_ = 0;  // reads Collect waits for (0: none), guarded by pool_->mu_
    bool closing_ = false;  // the destructor waits, guarded by pool_->mu_
    std::condition_variable done_cv_;
  };

  ReadPool(Repository* repo, repo::PackSink* sink, EncodePool* pool,
           const chunk::ChunkerParams& params, int threads);
  ~ReadPool();  // REQUIRES: every Client is gone

 private:
  void Work(size_t stream);
  // What a read counts for at least in the sharing by bytes.
  static constexpr uint64_t kMinReadCost = 4096;
  // The client whose oldest read goes next (see above), or null. REQUIRES: mu_.
  Client* Next() const;

  std::vector<std::unique_ptr<ChunkStream>> streams_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::vector<Client*> clients_;  // guarded by mu_
  bool stop_ = false;             // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace snap::engine::capture

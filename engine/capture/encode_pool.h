// EncodePool: worker threads that compress, seal and pack new chunks while
// the capture thread reads, cuts and hashes the next ones. The queue is
// bounded, so memory stays bounded whatever the data set's size.
//
// Small data chunks (a source tree's files) are not compressed one by one:
// zstd spends ~10 us on each frame whatever its size, more than the
// compression of a 1 KiB file itself. Workers gather them into bundles of
// ~256 KiB, stored as one chunk compressed as a whole, and store each small
// chunk as a slice of its bundle (FORMAT.md "Slices").
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/bytes.h"
#include "engine/pack/bundle_table.h"
#include "engine/pack/pack_format.h"
#include "engine/repo/pack_sink.h"
#include "engine/status.h"

namespace snap::engine {
class Repository;
}

namespace snap::engine::capture {

class EncodePool {
 public:
  // Starts `threads` workers; at most `max_queued_bytes` of plaintext wait.
  EncodePool(const Repository* repo, repo::PackSink* sink, int threads, size_t max_queued_bytes);
  ~EncodePool();  // drains and joins

  // Queues a claimed chunk; blocks while the queue is full. Returns the
  // first error a worker met (the chunk is then dropped).
  // With `delta_base`, the chunk is stored as a zstd delta against it
  // (header.refs[0] must name the base). With `stored`, the payload's size
  // is added to it once the chunk is in the sink (a source's stored bytes).
  Status Submit(pack::EntryHeader header, Buffer plain, std::optional<Buffer> delta_base = {},
                std::atomic<uint64_t>* stored = nullptr);
  // Waits until every queued chunk is in the sink (bundles not yet full
  // included); the first error, if any.
  Status Drain();

  // A data chunk smaller than this goes into a bundle.
  static constexpr size_t kMaxBundleMember = 64u << 10;
  // A bundle is stored once it holds this much.
  static constexpr size_t kBundleBytes = 256u << 10;
  static_assert(kBundleBytes + kMaxBundleMember + pack::kMaxBundleTableBytes <= pack::kMaxBundleLength);
  // A copy of `data` to Submit, in a buffer a worker is done with when one
  // is large enough: a fresh allocation of a media chunk's size (MiBs, so
  // mmapped) costs a page fault per 4 KiB it is filled with.
  Buffer Copy(ByteSpan data);

 private:
  struct Job {
    pack::EntryHeader header;
    Buffer plain;
    std::optional<Buffer> base;
    std::atomic<uint64_t>* stored;
  };
  // Small chunks gathered to be stored as one (see above); a worker holds
  // one while it adds to it.
  struct Member {
    pack::EntryHeader header;
    uint32_t offset;  // in the bundle's plaintext
    std::atomic<uint64_t>* stored;
  };
  struct Bundle {
    Buffer plain;
    std::vector<Member> members;
  };
  static bool Bundleable(const Job& job);
  void Work();
  // Stores the bundle and its members' slices; leaves it empty.
  Status StoreBundle(Bundle* bundle, Buffer* scratch);

  const Repository* repo_;
  repo::PackSink* sink_;
  size_t max_queued_bytes_;
  std::mutex mu_;
  std::condition_variable work_cv_;   // workers wait for jobs
  std::condition_variable space_cv_;  // Submit waits for room
  std::condition_variable idle_cv_;   // Drain waits for idleness
  void Recycle(Buffer plain);  // REQUIRES: mu_ held

  std::deque<Job> jobs_;      // guarded by mu_
  std::vector<Bundle> open_bundles_;  // not full, no worker's; guarded by mu_
  std::vector<Buffer> spare_;  // encoded chunks' buffers, guarded by mu_
  size_t spare_bytes_ = 0;     // their capacity, guarded by mu_
  size_t queued_bytes_ = 0;   // guarded by mu_
  int busy_ = 0;              // guarded by mu_
  int idle_ = 0;              // workers waiting on work_cv_, guarded by mu_
  int waiters_ = 0;           // threads waiting on space_cv_, guarded by mu_
  int drainers_ = 0;          // threads waiting on idle_cv_, guarded by mu_
  bool stop_ = false;         // guarded by mu_
  Status error_;              // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace snap::engine::capture

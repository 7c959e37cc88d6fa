// PackSink: where new chunks go. Collects encoded entries into packs of the
// repository's target size and writes each full pack in DESIGN.md's order:
// the pack object (temp, fsync, rename, fsync dir), then its entries into
// the index in one batch. Until Flush() returns, entries added may exist
// only in memory.
//
// Thread-safe: several capture workers add concurrently.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "engine/chunk_id.h"
#include "engine/pack/pack_format.h"
#include "engine/result.h"

namespace snap::engine {
class Repository;
}

namespace snap::engine::repo {

struct SinkStats {
  uint64_t new_chunks = 0, new_bytes = 0, stored_bytes = 0, packs = 0;
};

class PackSink {
 public:
  explicit PackSink(Repository* repo);  // repo must outlive this
  ~PackSink();

  // Claims `id` for storing: true when neither the index nor this sink has
  // it yet, in which case the caller must Add it (or the chunk is lost from
  // this run's dedup view). False when it is already stored or claimed.
  Result<bool> Claim(const ChunkId& id);
  // Adds an encoded entry (see Repository::EncodePayload). Writes a pack
  // when the current one reaches the target size.
  Status Add(const pack::EntryHeader& header, ByteSpan payload);
  // Encodes and adds `plain` as an entry of `kind` if it is new.
  // Returns its ID.
  Result<ChunkId> Put(pack::EntryKind kind, ByteSpan plain, std::vector<ChunkId> refs = {});
  // Writes the pending pack, if any. After OK, everything added is durable
  // and indexed.
  Status Flush();

  SinkStats stats() const;

 private:
  Status WritePack(std::unique_ptr<pack::PackWriter> writer);
  Buffer SpareBuffer();

  Repository* repo_;
  std::mutex mu_;
  std::unique_ptr<pack::PackWriter> writer_;            // guarded by mu_
  std::unordered_set<ChunkId, ChunkIdHash> claimed_;    // guarded by mu_
  std::vector<Buffer> spare_;  // written packs' buffers for the next ones, guarded by mu_
  std::mutex write_mu_;  // one pack write at a time, in order
  std::atomic<uint64_t> new_chunks_{0}, new_bytes_{0}, stored_bytes_{0}, packs_{0};
};

}  // namespace snap::engine::repo

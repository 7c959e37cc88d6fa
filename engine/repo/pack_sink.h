// PackSink: where new chunks go. Collects encoded entries into packs of the
// repository's target size and writes each pack in DESIGN.md's order: the
// pack object (temp, fsync, rename, fsync dir), then its entries into the
// index in one batch. A pack goes to its temp file in pieces of ~4 MiB as
// it fills, so that no pack is ever whole in memory and writing overlaps
// encoding. Until Flush() returns, entries added may exist only in memory.
//
// Thread-safe: several capture workers add concurrently.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_set>

#include "engine/chunk_id.h"
#include "engine/codec/crypto.h"
#include "engine/pack/pack_format.h"
#include "engine/result.h"
#include "engine/store/object_store.h"

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
  // Bytes of a pack, queued in order for the writer; a pack's last piece
  // carries its footer and its entries.
  struct Piece {
    Buffer bytes;
    bool last = false;
    std::vector<pack::PackEntry> entries;
  };

  // REQUIRES: mu_ held.
  void QueuePiece(Piece piece);
  void QueueLastPiece(std::unique_ptr<pack::PackWriter> writer);
  Buffer SpareBuffer();
  // Writes queued pieces until none is left. Without `wait`, returns at
  // once when another thread is writing (it takes what was queued).
  Status Drain(bool wait);
  Status WritePiece(Piece piece);  // REQUIRES: write_mu_ held

  Repository* repo_;
  std::mutex mu_;
  std::unique_ptr<pack::PackWriter> writer_;            // guarded by mu_
  std::unordered_set<ChunkId, ChunkIdHash> claimed_;    // guarded by mu_
  std::deque<Piece> queue_;                             // guarded by mu_
  size_t queued_bytes_ = 0;                             // guarded by mu_
  std::vector<Buffer> spare_;  // written pieces' buffers for the next ones, guarded by mu_
  Status failed_;              // the first failed write; guarded by mu_

  std::mutex write_mu_;  // one writer at a time, in queue order
  std::unique_ptr<store::ObjectUpload> upload_;  // the pack being written; guarded by write_mu_
  std::optional<codec::Sha256Stream> pack_hash_;  // of its bytes so far; guarded by write_mu_
  std::atomic<uint64_t> new_chunks_{0}, new_bytes_{0}, stored_bytes_{0}, packs_{0};
};

}  // namespace snap::engine::repo

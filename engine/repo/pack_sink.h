// PackSink: where new chunks go. Collects encoded entries into packs of the
// repository's target size and writes each pack in DESIGN.md's order: the
// pack object (temp, fsync, rename, fsync dir), then its entries into the
// index in one batch. A pack goes to its temp file in pieces of ~4 MiB as
// it fills, written by the sink's own thread: no pack is ever whole in
// memory, and the threads that encode never wait on the disk (unless more
// than two pieces are waiting). A written pack is committed (synced,
// published, indexed) by a second thread while the writer goes on with the
// next one. Until Flush() returns, entries added may exist only in memory.
//
// Thread-safe: several capture workers add concurrently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_set>

#include "engine/chunk_id.h"
#include "engine/codec/crypto.h"
#include "engine/index/chunk_index.h"
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
  // Adds entries into one pack, in order: a bundle with its slices, so that
  // no slice is committed before what it is cut from.
  struct Entry {
    const pack::EntryHeader* header;
    ByteSpan payload;
  };
  Status Add(std::span<const Entry> group);
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

  // A pack written whole, to be synced, published and indexed.
  struct WrittenPack {
    std::unique_ptr<store::ObjectUpload> upload;
    index::PackId id;
    std::vector<pack::PackEntry> entries;
  };

  // REQUIRES: mu_ held.
  void QueuePiece(Piece piece);
  void QueueLastPiece(std::unique_ptr<pack::PackWriter> writer);
  Buffer SpareBuffer();
  // The writer thread: writes queued pieces in order until stopped.
  void WriteQueued();
  Status WritePiece(Piece piece);  // on the writer thread only
  // The commit thread: commits written packs in order until stopped.
  void CommitWritten();
  Status CommitPack(WrittenPack pack);

  Repository* repo_;
  std::mutex claim_mu_;
  std::unordered_set<ChunkId, ChunkIdHash> claimed_;  // guarded by claim_mu_

  std::mutex mu_;
  std::condition_variable queued_cv_;  // the writer waits for pieces
  // Adders wait on it for room, the writer for a commit slot, Flush for the end.
  std::condition_variable written_cv_;
  std::condition_variable commit_cv_;   // the commit thread waits for packs
  std::unique_ptr<pack::PackWriter> writer_;  // guarded by mu_
  std::deque<Piece> queue_;                   // guarded by mu_
  size_t queued_bytes_ = 0;                   // guarded by mu_
  bool writing_ = false;  // a piece is being written; guarded by mu_
  std::deque<WrittenPack> written_;  // guarded by mu_
  bool committing_ = false;          // a pack is being committed; guarded by mu_
  bool stop_ = false;     // guarded by mu_
  std::vector<Buffer> spare_;  // written pieces' buffers for the next ones, guarded by mu_
  Status failed_;              // the first failed write; guarded by mu_

  // The writer thread's own: the pack being written and the hash of its
  // bytes so far.
  std::unique_ptr<store::ObjectUpload> upload_;
  std::optional<codec::Sha256Stream> pack_hash_;
  std::atomic<uint64_t> new_chunks_{0}, new_bytes_{0}, stored_bytes_{0}, packs_{0};
  // Last: they start once everything above exists.
  std::thread writer_thread_, commit_thread_;
};

}  // namespace snap::engine::repo

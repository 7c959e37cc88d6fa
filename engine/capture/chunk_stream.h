// ChunkStream: reads a file or pipe to its end, cuts it with the chunker,
// hashes each chunk on this thread and hands the new ones to an EncodePool.
// Shared by directory and dump capture. Not thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/capture/delta_bases.h"
#include "engine/capture/encode_pool.h"
#include "engine/chunk/chunker.h"
#include "engine/repo/pack_sink.h"

namespace snap::engine {
class Repository;
}

namespace snap::engine::capture {

class ChunkStream {
 public:
  ChunkStream(Repository* repo, repo::PackSink* sink, EncodePool* pool,
              const chunk::ChunkerParams& params);

  // Reads `fd` to EOF, or with `size` until that many bytes were read (the
  // caller compares stamps to see a file that grew); appends the chunk IDs
  // to *ids and the byte count to *bytes; calls on_read(n) after each read.
  // `what` names the input in errors.
  Status Consume(int fd, const std::string& what, std::vector<ChunkId>* ids, uint64_t* bytes,
                 const std::function<void(uint64_t)>& on_read = {},
                 std::optional<uint64_t> size = {});
  // Stores one chunk (if new) and returns its ID.
  Status Store(ByteSpan data, ChunkId* id, uint64_t offset = 0);
  // Stores `plain` as an entry of `kind` through the pool, if new.
  Result<ChunkId> StoreEntry(pack::EntryKind kind, ByteSpan plain, std::vector<ChunkId> refs);

  // New chunks are then stored as deltas against the chunk at the same
  // stream offset in `bases` (dump streams). `bases` must outlive this.
  void set_delta_bases(DeltaBases* bases) { bases_ = bases; }
  // The stored size of the chunks Store adds from now on goes to *stored
  // (once encoded: read it after the pool drained); null counts nowhere.
  void count_stored_in(std::atomic<uint64_t>* stored) { stored_ = stored; }

  uint64_t new_chunks() const { return new_chunks_; }
  uint64_t delta_chunks() const { return delta_chunks_; }
  uint64_t new_bytes() const { return new_bytes_; }
  // The first bytes of the last input consumed (to sniff compressed dumps).
  const Buffer& head() const { return head_; }

 private:
  Repository* repo_;
  repo::PackSink* sink_;
  EncodePool* pool_;
  chunk::Chunker chunker_;
  std::unique_ptr<std::byte[]> buf_;  // read buffer, grown once
  size_t buf_size_ = 0;
  Buffer head_;
  DeltaBases* bases_ = nullptr;
  std::atomic<uint64_t>* stored_ = nullptr;
  uint64_t new_chunks_ = 0, new_bytes_ = 0, delta_chunks_ = 0;
};

}  // namespace snap::engine::capture

// ContentBatch: the content of a group of new files, restored in the order
// of the packs that hold it rather than file by file. The batch's chunks are
// located with one index look-up (MultiGet); each chunk is read and decoded
// once, however many files (or places in one file) hold it, and written to
// each; each pack's frames are read front to back in requests of up to a
// few MiB that span the small gaps between them.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/fs/fs.h"
#include "engine/index/chunk_index.h"
#include "engine/snapshot/tree.h"
#include "engine/status.h"

namespace snap::engine::restore {

struct DirCtx;

// A place a chunk's bytes go: a file of the batch and an offset in it.
struct ChunkTarget {
  uint32_t file = 0;
  uint64_t offset = 0;
};

// A file of the batch. Whichever thread writes its first chunk creates it;
// whichever writes its last applies its metadata and closes it.
struct BatchFile {
  DirCtx* dir = nullptr;               // holds a reference until the file is finished
  const snapshot::Node* node = nullptr;  // in dir->tree
  std::string display;
  std::mutex mu;
  fs::Fd fd;               // guarded by mu: open from the first chunk to the last
  bool created = false;    // guarded by mu
  int remaining = 0;       // guarded by mu: targets not yet visited
  Status lost;             // guarded by mu: why its content cannot be restored
};

struct BatchChunk {
  ChunkId id;
  std::optional<index::ChunkLocation> loc;
  std::vector<ChunkTarget> targets;
};

// One read request: consecutive frames of one pack.
struct PackRead {
  index::PackId pack{};
  uint64_t offset = 0, length = 0;
  uint32_t first = 0, end = 0;  // Batch::order[first, end)
};

struct Batch {
  std::deque<BatchFile> files;  // a deque: BatchFile holds a mutex and never moves
  std::vector<BatchChunk> chunks;
  std::unordered_map<ChunkId, uint32_t, ChunkIdHash> chunk_of;
  size_t targets = 0;   // chunk references of all files
  size_t dirs = 0;      // directories the files are in (each holds a descriptor open)
  size_t multi = 0;     // files of more than one chunk (each may hold a descriptor open)
  const DirCtx* last_dir = nullptr;
  std::vector<uint32_t> order;  // located chunks, in read order
  std::vector<PackRead> reads;
  std::atomic<size_t> jobs_left{0};
};

// Orders the located chunks of `b` by pack (packs in the order the batch
// first uses them, which is the order a capture of the same tree wrote
// them) and by offset, and cuts `b->reads`: a read ends at another pack, at
// a gap of more than `max_gap` bytes, or before it would pass `max_read`
// bytes (a frame larger than that is a read of its own).
void PlanReads(Batch* b, uint64_t max_read, uint64_t max_gap);

}  // namespace snap::engine::restore

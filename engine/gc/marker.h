// Marker: the mark phase of gc. From the snapshots' source roots, follows
// every frame's clear refs (a tree's children, a stream list's chunks, a
// delta's bases, and any refs a plain data frame carries) and marks each
// chunk reached in the ScratchIndex. Reads frame headers from the packs; no
// key is needed and no payload is opened.
//
// Memory: the pending stack holds the refs of the frames on the current
// path (depth-first), not the repository's chunks; marks live in the
// scratch index.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "engine/gc/scratch.h"
#include "engine/store/object_store.h"

namespace snap::engine::gc {

class Marker {
 public:
  // Both must outlive the marker.
  Marker(const store::ObjectStore* store, ScratchIndex* scratch)
      : store_(store), scratch_(scratch) {}

  // Marks everything reachable from `roots`. Corruption when a referenced
  // chunk is in no pack, or a frame on the way does not verify: the mark
  // would be incomplete, so gc must delete nothing.
  Status Run(const std::vector<ChunkId>& roots);

  uint64_t marked() const { return marked_; }
  // Called every few thousand chunks with the count marked so far.
  std::function<void(uint64_t marked)> progress;

 private:
  Status Visit(const ChunkId& id);
  Status Expand(const ChunkId& id);
  Result<std::vector<ChunkId>> RefsOf(const ChunkCopy& copy) const;

  const store::ObjectStore* store_;
  ScratchIndex* scratch_;
  std::vector<ChunkId> pending_;
  uint64_t marked_ = 0;
};

}  // namespace snap::engine::gc

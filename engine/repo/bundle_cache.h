// BundleCache: the last few bundles decoded, by ID, so that reading the
// small chunks a bundle holds (FORMAT.md "Slices") one after another
// decodes the bundle once, not once per chunk. What goes in is decoded
// (and, sealed, authenticated), not hashed: each slice cut from it is
// (Repository::ReadBundle). Thread-safe; bounded by entry count (a bundle
// is at most pack::kMaxBundleLength).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "engine/bytes.h"
#include "engine/chunk_id.h"

namespace snap::engine::repo {

class BundleCache {
 public:
  explicit BundleCache(size_t capacity = 16) : capacity_(capacity) {}

  // The bundle's plaintext, or null.
  std::shared_ptr<const Buffer> Get(const ChunkId& id) const;
  // Keeps `plain` as the most recent entry (the oldest goes when full);
  // returns it.
  std::shared_ptr<const Buffer> Put(const ChunkId& id, Buffer plain);

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  // Most recent last; a handful of entries, so a scan beats a map.
  mutable std::vector<std::pair<ChunkId, std::shared_ptr<const Buffer>>> entries_;
};

}  // namespace snap::engine::repo

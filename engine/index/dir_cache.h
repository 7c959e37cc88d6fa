// DirCache: (source, directory path) -> the tree stored for that directory
// and a digest of what its entries' lstat said then, so that an unchanged
// directory costs the lstat of its entries and nothing more: no xattr
// reads, no files-cache look-ups, no tree encoding (keyspace 'd', FORMAT.md
// "Index keys").
//
// An entry is only a claim that the tree and every chunk below it were
// indexed and visible to writers when `gc` was the newest gc record the
// index had applied; the capture checks both the digest and `gc` before
// reusing the tree. Thread-safe like its KvStore.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/chunk_id.h"
#include "engine/index/kv_store.h"

namespace snap::engine::index {

struct CachedDir {
  std::string gc;  // GcState::Applied() when written
  ChunkId digest;  // keyed hash of the entries' stat tuples (FORMAT.md)
  ChunkId tree;
  bool operator==(const CachedDir&) const = default;
};

// Directory path (relative to the source root, "" for the root) -> entry.
using CachedDirs = std::unordered_map<std::string, CachedDir>;

class DirCache {
 public:
  explicit DirCache(KvStore* kv) : kv_(kv) {}  // kv must outlive this

  // Every entry of `source` (one prefix scan). Corrupt values are left out:
  // their directories are simply captured in full again.
  Status Load(std::string_view source, CachedDirs* out) const;
  // Adds to `batch` what turns the stored entries of `source`, `before`
  // (as Load returned them), into `after`: puts of new or changed entries,
  // deletes of the paths `after` lacks.
  static void Update(std::string_view source, const CachedDirs& before, const CachedDirs& after,
                     WriteBatch* batch);
  // Drops every entry of every source (the index was rebuilt).
  Status Clear();

 private:
  KvStore* kv_;
};

}  // namespace snap::engine::index

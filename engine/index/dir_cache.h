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
#include <vector>

#include "engine/bytes.h"
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
  // Drops every entry of every source (the index was rebuilt).
  Status Clear();

 private:
  KvStore* kv_;
};

// Changes to the directory cache that a capture collects until its
// snapshot is committed: one buffer of about 100 bytes per changed
// directory, not a map and a batch of strings, so that a tree of a million
// directories does not hold hundreds of MB until the end.
class DirCacheUpdate {
 public:
  void Put(std::string_view source, std::string_view path, const CachedDir& dir);
  void Delete(std::string_view source, std::string_view path);
  // Takes `other`'s changes, to apply after these (another source's),
  // without copying them: a source's log is ~200 bytes per directory.
  void Append(DirCacheUpdate&& other);
  bool empty() const { return changes_ == 0; }
  size_t size() const { return changes_; }
  // Applies the changes in order, a few thousand per batch. Each entry
  // stands on its own once the snapshot is committed, so a crash between
  // batches leaves some entries old, none wrong.
  Status WriteTo(KvStore* kv) const;

 private:
  Buffer& Log();
  // Per change: u8 1 put / 0 delete | string key | put: string value. One
  // log per source appended, in order.
  std::vector<Buffer> logs_;
  size_t changes_ = 0;
};

}  // namespace snap::engine::index

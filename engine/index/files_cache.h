// FilesCache: (source, path) -> the stamp a file had when last read and the
// chunk IDs its content was cut into, so that an unchanged file costs one
// lstat and one look-up (keyspace 'f', FORMAT.md "Index keys").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/index/kv_store.h"

namespace snap::engine::index {

// What must all match for a file to count as unchanged.
struct FileStamp {
  uint64_t dev = 0, ino = 0, size = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

struct CachedFile {
  FileStamp stamp;
  std::vector<ChunkId> chunks;
};

class FilesCache {
 public:
  explicit FilesCache(KvStore* kv) : kv_(kv) {}  // kv must outlive this

  // One answer per path, batched. Corrupt values read as absent.
  Status Lookup(std::string_view source, const std::vector<std::string>& paths,
                std::vector<std::optional<CachedFile>>* out) const;
  // Whether any file of `source` is cached (a first snapshot of a source
  // then skips the look-ups: none could hit).
  Result<bool> HasEntries(std::string_view source) const;
  // Adds the put to `batch`; the caller writes batches in groups.
  static void Put(std::string_view source, std::string_view path, const CachedFile& f,
                  WriteBatch* batch);
  Status Clear();

 private:
  KvStore* kv_;
};

}  // namespace snap::engine::index

// Catalog: the snapshots a repository holds, ordered by time, over a
// KvStore (keyspace 's', FORMAT.md "Index keys"). A cache of the sealed
// records under snapshots/: rebuilt from them when lost.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "engine/chunk_id.h"
#include "engine/index/kv_store.h"

namespace snap::engine::index {

struct CatalogEntry {
  int64_t time_ns = 0;   // snapshot time, ns since the Unix epoch
  ChunkId id;
  std::string record;    // the encoded SnapshotRecord (plaintext)
};

class Catalog {
 public:
  explicit Catalog(KvStore* kv) : kv_(kv) {}  // kv must outlive this

  Status Put(const CatalogEntry& e);
  Status Delete(int64_t time_ns, const ChunkId& id);
  // In ascending time order (ties by ID) until fn returns false.
  Status ForEach(const std::function<bool(const CatalogEntry&)>& fn) const;
  Status Clear();

 private:
  KvStore* kv_;
};

}  // namespace snap::engine::index

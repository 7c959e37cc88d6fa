// KvStore: the ordered key-value seam under the repository index. RocksDB
// implements it (rocks_kv.cc, the one home of RocksDB); MemKv backs tests.
//
// The index is a cache of what packs and snapshot records say (FORMAT.md
// "Index keys"): losing it loses nothing but caches. Keys are byte strings
// whose first byte names a keyspace. Implementations are thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/result.h"

namespace snap::engine::index {

// A batch of puts and deletes applied atomically by KvStore::Write.
class WriteBatch {
 public:
  void Put(std::string_view key, std::string_view value) {
    ops_.push_back({std::string(key), std::string(value), false});
  }
  void Delete(std::string_view key) { ops_.push_back({std::string(key), {}, true}); }
  bool empty() const { return ops_.empty(); }
  size_t size() const { return ops_.size(); }

  struct Op {
    std::string key, value;
    bool is_delete;
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  std::vector<Op> ops_;
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // The value, std::nullopt when absent, or an error.
  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;
  // One answer per key, in order (RocksDB MultiGet).
  virtual Status MultiGet(const std::vector<std::string>& keys,
                          std::vector<std::optional<std::string>>* values) const = 0;
  // Applies every op or none. `sync` makes it durable before returning.
  virtual Status Write(const WriteBatch& batch, bool sync = false) = 0;
  // Calls fn(key, value) for each key with `prefix`, in key order, until fn
  // returns false.
  virtual Status Scan(std::string_view prefix,
                      const std::function<bool(std::string_view key, std::string_view value)>& fn)
      const = 0;
  // Removes every key with `prefix` (e.g. to rebuild a keyspace).
  virtual Status DeletePrefix(std::string_view prefix) = 0;
  // Reads everything stored and verifies its checksums: Corruption naming
  // the damaged file, OK for a store with nothing to verify.
  virtual Status Verify() const { return Status::OK(); }
};

// Options for the RocksDB store; defaults bound memory (block cache size)
// whatever the repository's size.
struct RocksOptions {
  size_t block_cache_bytes = 8u << 20;
  bool create_if_missing = true;
  // Opens without taking the database's lock, so readers can work while a
  // writer (a running snapshot) holds it. Writes then fail with
  // NotSupported. Sees the database as of the open.
  bool read_only = false;
  // Appended to the message of every Corruption error, e.g. how to rebuild
  // this database when it is a cache.
  std::string corruption_advice;
};

// Opens (creating if asked) a RocksDB database in `dir`. IOError naming the
// directory and RocksDB's reason on failure; Unavailable when another
// process holds it.
Result<std::unique_ptr<KvStore>> OpenRocksKv(const std::string& dir, const RocksOptions& opts = {});

std::unique_ptr<KvStore> NewMemKv();

}  // namespace snap::engine::index

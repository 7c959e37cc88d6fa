// GcState: keyspace 'g', what this index has applied of the gc records
// under gc/ (FORMAT.md "Garbage collection", "Index keys"). Derived from
// those records and the chunk index: cleared with the chunk index, then
// rebuilt by applying every record again.
//
//   'g' 'a'             -> key of the newest gc record applied ("gc/...")
//   'g' 'h' | pack[32]  -> empty: a pack a record condemned or replaced and
//                          no later record resolved; a writer never reuses
//                          its chunks
//
// Thread-safe like its KvStore.
#pragma once

#include <string>
#include <vector>

#include "engine/index/chunk_index.h"
#include "engine/index/kv_store.h"

namespace snap::engine::index {

class GcState {
 public:
  explicit GcState(KvStore* kv) : kv_(kv) {}  // kv must outlive this

  // "" when no record has been applied.
  Result<std::string> Applied() const;
  Result<std::vector<PackId>> HiddenPacks() const;

  // Batch builders: the caller writes the batch (records are applied one
  // batch each, the applied key last).
  static void Hide(WriteBatch* b, const PackId& pack);
  static void Unhide(WriteBatch* b, const PackId& pack);
  static void SetApplied(WriteBatch* b, std::string_view record_key);

  Status Clear();

 private:
  KvStore* kv_;
};

}  // namespace snap::engine::index

// Repacker: copies the live frames of sparse packs, byte for byte, into new
// packs of the repository's target size (FORMAT.md "Garbage collection").
// A frame verifies on its own and moves unopened, so no key is needed. A
// chunk is copied once per run, whichever pack held it.
#pragma once

#include <memory>
#include <vector>

#include "engine/gc/scratch.h"
#include "engine/store/object_store.h"

namespace snap::engine::gc {

class Repacker {
 public:
  // All must outlive the repacker.
  Repacker(store::ObjectStore* store, ScratchIndex* scratch, uint64_t target_size)
      : store_(store), scratch_(scratch), target_size_(target_size) {}

  // Copies the marked frames of `pack`. False (and nothing of it copied)
  // when one of them does not verify: the pack is then kept as it is.
  Result<bool> Add(const PackId& pack);
  // Writes the last, partly filled pack.
  Status Finish();

  const std::vector<PackId>& written() const { return written_; }
  uint64_t written_bytes() const { return written_bytes_; }

 private:
  Status Write();

  store::ObjectStore* store_;
  ScratchIndex* scratch_;
  uint64_t target_size_;
  std::unique_ptr<pack::PackWriter> writer_;
  std::vector<PackId> written_;
  uint64_t written_bytes_ = 0;
};

}  // namespace snap::engine::gc

// DeltaBases: the parent snapshot's stream of a dump, by byte offset, so
// that a changed dump chunk can be stored as a zstd delta against the chunk
// at the same place in the parent stream (DESIGN.md "Delta entry"). Scattered
// row updates change every few KiB of a dump, which no chunk size survives;
// a delta against the old chunk stores only the changed rows.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/result.h"

namespace snap::engine {
class Repository;
}

namespace snap::engine::capture {

class DeltaBases {
 public:
  // Loads the chunk list of the stream whose top list is `root`.
  static Result<DeltaBases> Load(const Repository& repo, const ChunkId& root);

  // The parent chunk covering stream offset `offset` and its plaintext,
  // unless its own delta chain leaves no room for one more link.
  std::optional<std::pair<ChunkId, Buffer>> At(uint64_t offset) const;

 private:
  explicit DeltaBases(const Repository* repo) : repo_(repo) {}
  Status AddList(const ChunkId& list, int depth);

  const Repository* repo_;
  std::vector<ChunkId> ids_;
  std::vector<uint64_t> starts_;  // stream offset of each chunk
  uint64_t end_ = 0;
};

}  // namespace snap::engine::capture

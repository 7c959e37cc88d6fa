// DeltaBases: the parent snapshot's stream of a dump, by byte offset, so
// that a changed dump chunk can be stored as a zstd delta against the chunk
// at the same place in the parent stream (DESIGN.md "Delta entry"). Scattered
// row updates change every few KiB of a dump, which no chunk size survives;
// a delta against the old chunk stores only the changed rows.
#pragma once

#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "engine/bytes.h"
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

  struct Base {
    std::vector<ChunkId> ids;  // concatenated in this order
    Buffer plain;
  };
  // A base for the new chunk `data` found at stream offset `offset`: the
  // parent chunk holding the new chunk's first bytes (searched near where
  // the last match was, since rows removed or added shift everything after
  // them) plus the one after it; else the parent chunk at the same offset.
  // Nothing when the chains leave no room for one more link.
  std::optional<Base> For(ByteSpan data, uint64_t offset);

 private:
  explicit DeltaBases(const Repository* repo) : repo_(repo) {}
  Status AddList(const ChunkId& list, int depth);

  // Plaintext of parent chunk i (a few recent ones are kept), or nullptr
  // when unreadable or its chain is too long to extend.
  const Buffer* Plain(size_t i);
  std::optional<size_t> FindPrefix(ByteSpan prefix);
  std::optional<Base> Make(size_t i);

  const Repository* repo_;
  size_t next_ = 0;  // where the last match ended
  std::map<size_t, std::optional<Buffer>> cache_;
  std::vector<ChunkId> ids_;
  std::vector<uint64_t> starts_;  // stream offset of each chunk
  uint64_t end_ = 0;
};

}  // namespace snap::engine::capture

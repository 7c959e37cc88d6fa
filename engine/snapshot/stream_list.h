// StreamList: a dump stream's chunk IDs in order, stored as entries of kind
// kStream (FORMAT.md "Stream list"). Level 0 lists name data chunks; a
// level 1 list names level 0 lists, so a stream of any length is stored in
// entries of bounded size.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/result.h"

namespace snap::engine::snapshot {

inline constexpr uint32_t kStreamListVersion = 1;       // On disk.
inline constexpr size_t kMaxStreamListIds = 1u << 16;   // per entry

struct StreamList {
  uint8_t level = 0;  // 0: data chunks; 1: level-0 lists
  std::vector<ChunkId> ids;

  void EncodeTo(Buffer* out) const;
  // Corruption on a bad version, level > 1, too many IDs or trailing bytes.
  static Result<StreamList> Decode(ByteSpan in);
};

}  // namespace snap::engine::snapshot

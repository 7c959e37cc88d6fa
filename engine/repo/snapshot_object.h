// The object stored under snapshots/<id>: a snapshot record, sealed when
// the repository is encrypted, with its source roots in clear so a replica
// can check completeness (FORMAT.md "Snapshot object").
//
//   "SNAPSNAP" | version varint | flags u8 | ref count varint | refs[32]* |
//   payload (varint length + bytes) | xxh3 u64 of everything before it
#pragma once

#include <vector>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/result.h"

namespace snap::engine::repo {

inline constexpr uint32_t kSnapshotObjectVersion = 1;  // On disk.
inline constexpr uint8_t kSnapshotObjectSealed = 1 << 1;  // On disk.

struct SnapshotObject {
  uint8_t flags = 0;
  std::vector<ChunkId> refs;
  Buffer payload;

  void EncodeTo(Buffer* out) const;
  static Result<SnapshotObject> Decode(ByteSpan in);
};

}  // namespace snap::engine::repo

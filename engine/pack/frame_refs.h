// The clear refs of one stored frame, read from its header and refs alone:
// no payload is read, so a caller that only follows refs (gc's mark, check
// without --read-data) pays a small read however large the chunk.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/result.h"
#include "engine/store/object_store.h"

namespace snap::engine::pack {

// The refs of the frame at `offset` of the object `key`, whose whole length
// the footer or index gives as `length`; Corruption when its header is
// implausible or gives another length, or it has more than `max_refs`.
Result<std::vector<ChunkId>> ReadFrameRefs(const store::ObjectStore& store, const std::string& key,
                                           uint64_t offset, uint32_t length,
                                           uint32_t max_refs = UINT32_MAX);

}  // namespace snap::engine::pack

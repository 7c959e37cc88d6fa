// Chunk IDs for tests that need distinct, recognisable ones.
#pragma once

#include <cstdint>

#include "engine/chunk_id.h"

namespace snap::test {

// The ID whose 32 bytes are all `b`.
inline engine::ChunkId FilledId(uint8_t b) {
  engine::ChunkId id;
  id.bytes.fill(std::byte{b});
  return id;
}

}  // namespace snap::test

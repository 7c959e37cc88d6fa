// XXH3-64 checksums of frames and pack entries (never identity: see
// chunk_id.h). The one home of xxHash in the engine.
#pragma once

#include <cstdint>

#include "engine/bytes.h"

namespace snap::engine::codec {

uint64_t Xxh3(ByteSpan data);

// Incremental XXH3-64 over several spans; same result as Xxh3 over their
// concatenation.
class Xxh3Stream {
 public:
  Xxh3Stream();
  ~Xxh3Stream();
  Xxh3Stream(const Xxh3Stream&) = delete;
  Xxh3Stream& operator=(const Xxh3Stream&) = delete;
  void Update(ByteSpan data);
  uint64_t Digest() const;

 private:
  void* state_;  // XXH3_state_t*
};

}  // namespace snap::engine::codec

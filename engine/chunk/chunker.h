// FastCDC content-defined chunking with normalized chunking (Xia et al.,
// "FastCDC", USENIX ATC 2016) over a gear table seeded from the
// repository's secret, so chunk boundaries do not leak content to someone
// without the key.
//
// The chunker is a pure function over a span: the boundary of the next chunk
// depends only on the bytes from the chunk's start, never on how the input
// was split into read buffers. Immutable after construction; thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "engine/bytes.h"
#include "engine/status.h"

namespace snap::engine::chunk {

// Per-repository (and per source kind) chunk size bounds, in bytes.
// On disk (config): see FORMAT.md "Config".
struct ChunkerParams {
  uint32_t min_size = 512 * 1024;
  uint32_t avg_size = 1024 * 1024;
  uint32_t max_size = 8 * 1024 * 1024;

  // InvalidArgument unless 64 <= min < avg < max <= 64 MiB and avg is a
  // power of two.
  Status Validate() const;
};

using GearTable = std::array<uint64_t, 256>;

// Derives the 256 gear values from a 32-byte secret seed (deterministic).
GearTable MakeGearTable(ByteSpan seed);

class Chunker {
 public:
  // REQUIRES: params.Validate().ok().
  Chunker(const ChunkerParams& params, const GearTable& gear);

  // Returns the length of the chunk that starts at data[0]:
  //  - a cut point found in data, or data.size() capped at max_size when
  //    data holds max_size bytes or more;
  //  - data.size() when `at_eof` (the final chunk, possibly short);
  //  - 0 when more input is needed to decide (!at_eof and no cut found in
  //    fewer than max_size bytes). Call again with the same start and more
  //    bytes appended.
  size_t NextBoundary(ByteSpan data, bool at_eof) const;

  const ChunkerParams& params() const { return params_; }

 private:
  ChunkerParams params_;
  GearTable gear_;
  uint64_t mask_small_;  // stricter mask before the normal size
  uint64_t mask_large_;  // looser mask after it
};

}  // namespace snap::engine::chunk

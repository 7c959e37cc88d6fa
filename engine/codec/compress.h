// zstd compression of chunk payloads. The one home of zstd in the engine.
//
// Thread-safe: each call uses its own thread-local context.
#pragma once

#include <cstdint>

#include "engine/bytes.h"
#include "engine/result.h"

namespace snap::engine::codec {

// zstd level used for chunk payloads unless the config says otherwise.
inline constexpr int kDefaultZstdLevel = 3;

// Compresses `in` at `level` into *out (replacing its contents). Returns false,
// leaving *out unspecified, when the compressed form would not be smaller
// than `in`: the caller then stores the chunk raw.
bool Compress(ByteSpan in, int level, Buffer* out);

// Decompresses `in`, which must expand to exactly `raw_size` bytes.
// Corruption when the frame is malformed or its size differs. raw_size is
// bounded by the caller (a chunk's maximum size) so hostile input cannot
// make us allocate without limit.
Result<Buffer> Decompress(ByteSpan in, size_t raw_size);

// Delta compression against a base (ZSTD_CCtx_refPrefix), for dump chunks
// stored relative to the chunk at the same place in the parent snapshot.
bool CompressDelta(ByteSpan in, ByteSpan base, int level, Buffer* out);
Result<Buffer> DecompressDelta(ByteSpan in, ByteSpan base, size_t raw_size);

}  // namespace snap::engine::codec

// zstd compression of chunk payloads. The one home of zstd in the engine.
//
// Thread-safe: each call uses its own thread-local context.
#pragma once

#include <optional>

#include <cstdint>

#include "engine/bytes.h"
#include "engine/result.h"

namespace snap::engine::codec {

// zstd level used for chunk payloads unless the config says otherwise.
inline constexpr int kDefaultZstdLevel = 3;

// Compresses `in` at `level` into *out (replacing its contents). Returns false,
// leaving *out unspecified, when the compressed form would not be smaller
// than `in`, or when `in` is 128 KiB or more and none of eight 4 KiB samples
// spread over it shrinks by 1/32 (media): the caller then stores the chunk raw.
bool Compress(ByteSpan in, int level, Buffer* out);
// The same into the first bytes of *scratch (see Grow): those bytes, or
// nullopt when they would not be fewer than in's.
std::optional<ByteSpan> CompressInto(ByteSpan in, int level, Buffer* scratch);

// Decompresses `in`, which must expand to exactly `raw_size` bytes.
// Corruption when the frame is malformed or its size differs. raw_size is
// bounded by the caller (a chunk's maximum size) so hostile input cannot
// make us allocate without limit.
Result<Buffer> Decompress(ByteSpan in, size_t raw_size);
// The same into the first raw_size bytes of *scratch (see Grow), returned.
Result<ByteSpan> DecompressInto(ByteSpan in, size_t raw_size, Buffer* scratch);

// Delta compression against a base (ZSTD_CCtx_refPrefix), for dump chunks
// stored relative to the chunk at the same place in the parent snapshot.
bool CompressDelta(ByteSpan in, ByteSpan base, int level, Buffer* out);
std::optional<ByteSpan> CompressDeltaInto(ByteSpan in, ByteSpan base, int level, Buffer* scratch);
Result<Buffer> DecompressDelta(ByteSpan in, ByteSpan base, size_t raw_size);

}  // namespace snap::engine::codec

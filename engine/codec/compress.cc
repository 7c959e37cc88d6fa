#include "engine/codec/compress.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace snap::engine::codec {

namespace {

// Decoders allocate raw_size up front, so it is bounded here whatever the
// caller passes: no stored chunk is larger (ChunkerParams caps max at 64 MiB).
constexpr size_t kMaxRawSize = size_t{64} << 20;

// zstd's own bounds for the window (ZSTD_WINDOWLOG_MIN is static-only API).
// 27 is also zstd's default decoder limit, so every frame we write stays
// readable by a stock decoder: base (<= 64 MiB) + input (<= 64 MiB) fit.
constexpr int kMinWindowLog = 10;
constexpr int kMaxWindowLog = 27;

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Contexts are kept per thread: they are large (about 1 MiB at level 3)
// and reallocating per chunk would dominate small payloads. And per size
// class of the input (up to 16 KiB, up to 128 KiB, larger), because zstd
// frees a workspace after 128 calls that use less than a third of it: one
// context for small files and large chunks alike would be shrunk and grown
// again all the time, and every page of a new workspace costs a fault
// (18 us each on a virtual machine here).
ZSTD_CCtx* ThreadCCtx(size_t input_size) {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctxs[3];
  std::unique_ptr<ZSTD_CCtx, CCtxDeleter>& ctx =
      ctxs[input_size <= (16u << 10) ? 0 : input_size <= (128u << 10) ? 1 : 2];
  if (!ctx) ctx.reset(ZSTD_createCCtx());
  if (!ctx) std::abort();  // out of memory
  // Parameters and prefixes from the previous call must not leak into this one.
  ZSTD_CCtx_reset(ctx.get(), ZSTD_reset_session_and_parameters);
  return ctx.get();
}

ZSTD_DCtx* ThreadDCtx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  if (!ctx) std::abort();  // out of memory
  ZSTD_DCtx_reset(ctx.get(), ZSTD_reset_session_and_parameters);
  return ctx.get();
}

int WindowLogFor(size_t bytes) {
  int log = bytes <= 1 ? 0 : std::bit_width(bytes - 1);
  return std::clamp(log, kMinWindowLog, kMaxWindowLog);
}

// A chunk this large is first tried in samples spread over it: media
// (video, images, archives) does not compress, and zstd takes nearly as long
// to find that out as to compress text. Compressed whole as soon as one
// sample shrinks by 1/32; stored raw when none does.
constexpr size_t kSampledFrom = 128u << 10;
constexpr size_t kSamples = 8;
constexpr size_t kSampleBytes = 4u << 10;

bool SamplesShrink(ByteSpan in, int level) {
  ZSTD_CCtx* cctx = ThreadCCtx(kSampleBytes);
  if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))) return true;
  std::byte out[kSampleBytes];
  const size_t room = kSampleBytes - kSampleBytes / 32;
  for (size_t i = 0; i < kSamples; ++i) {
    size_t offset = (in.size() - kSampleBytes) / (kSamples - 1) * i;
    size_t n = ZSTD_compress2(cctx, out, room, in.data() + offset, kSampleBytes);
    if (!ZSTD_isError(n)) return true;
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only);
  }
  return false;
}

Status ZstdError(std::string_view step, size_t code) {
  return Status::Corruption("zstd " + std::string(step) + ": " + ZSTD_getErrorName(code));
}

// Compresses with whatever parameters the caller set on cctx. The output
// capacity is in.size() - 1, so "does not shrink" surfaces as
// dstSize_tooSmall without a second pass or a bound-sized allocation.
std::optional<ByteSpan> CompressWith(ZSTD_CCtx* cctx, ByteSpan in, Buffer* scratch) {
  if (in.size() < 2) return std::nullopt;
  MutableByteSpan out = Grow(scratch, in.size() - 1);
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) return std::nullopt;
  return ByteSpan(out.first(n));
}

// Compress and CompressDelta: *out holds exactly the compressed bytes.
bool Exactly(std::optional<ByteSpan> got, Buffer* out) {
  if (!got) return false;
  out->resize(got->size());
  return true;
}

// Checks that `in` is exactly one frame that does not declare a size other
// than raw_size, before anything is allocated.
Status CheckFrame(ByteSpan in, size_t raw_size) {
  if (raw_size > kMaxRawSize) {
    return Status::Corruption("zstd frame: raw size " + std::to_string(raw_size) +
                              " exceeds the 64 MiB limit");
  }
  size_t frame = ZSTD_findFrameCompressedSize(in.data(), in.size());
  if (ZSTD_isError(frame)) return ZstdError("frame", frame);
  if (frame != in.size()) return Status::Corruption("zstd frame: trailing bytes after the frame");
  unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return Status::Corruption("zstd frame: bad header");
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != raw_size) {
    return Status::Corruption("zstd frame: declares " + std::to_string(declared) +
                              " bytes, expected " + std::to_string(raw_size));
  }
  return Status::OK();
}

// One-shot decompression writes straight into a raw_size buffer, so a frame
// that claims a bigger window cannot make us allocate more than raw_size.
Result<ByteSpan> DecompressWith(ZSTD_DCtx* dctx, ByteSpan in, size_t raw_size, Buffer* scratch) {
  MutableByteSpan out = Grow(scratch, raw_size);
  size_t n = ZSTD_decompressDCtx(dctx, out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) return ZstdError("decompress", n);
  if (n != raw_size) {
    return Status::Corruption("zstd decompress: got " + std::to_string(n) + " bytes, expected " +
                              std::to_string(raw_size));
  }
  return ByteSpan(out);
}

bool Overlap(ByteSpan a, ByteSpan b) {
  auto lo = [](ByteSpan s) { return reinterpret_cast<uintptr_t>(s.data()); };
  return !a.empty() && !b.empty() && lo(a) < lo(b) + b.size() && lo(b) < lo(a) + a.size();
}

}  // namespace

bool Compress(ByteSpan in, int level, Buffer* out) {
  return Exactly(CompressInto(in, level, out), out);
}

std::optional<ByteSpan> CompressInto(ByteSpan in, int level, Buffer* scratch) {
  if (in.size() >= kSampledFrom && !SamplesShrink(in, level)) return std::nullopt;
  ZSTD_CCtx* cctx = ThreadCCtx(in.size());
  if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))) return std::nullopt;
  return CompressWith(cctx, in, scratch);
}

Result<Buffer> Decompress(ByteSpan in, size_t raw_size) {
  Buffer out;
  SNAP_RETURN_IF_ERROR(DecompressInto(in, raw_size, &out).status());
  return out;
}

Result<ByteSpan> DecompressInto(ByteSpan in, size_t raw_size, Buffer* scratch) {
  SNAP_RETURN_IF_ERROR(CheckFrame(in, raw_size));
  return DecompressWith(ThreadDCtx(), in, raw_size, scratch);
}

bool CompressDelta(ByteSpan in, ByteSpan base, int level, Buffer* out) {
  return Exactly(CompressDeltaInto(in, base, level, out), out);
}

std::optional<ByteSpan> CompressDeltaInto(ByteSpan in, ByteSpan base, int level, Buffer* scratch) {
  // zstd silently drops a prefix that overlaps the input (the bytes cannot
  // be both history and source), which would turn the delta into a plain
  // frame; give it a private copy instead.
  Buffer base_copy;
  if (Overlap(in, base)) {
    base_copy.assign(base.begin(), base.end());
    base = base_copy;
  }
  ZSTD_CCtx* cctx = ThreadCCtx(base.size() + in.size());
  // The window must reach from the end of the input back to the start of
  // the base, or matches against the base's head would be out of range.
  int window_log = WindowLogFor(base.size() + in.size());
  if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window_log)) ||
      ZSTD_isError(ZSTD_CCtx_refPrefix(cctx, base.data(), base.size()))) {
    return std::nullopt;
  }
  return CompressWith(cctx, in, scratch);
}

Result<Buffer> DecompressDelta(ByteSpan in, ByteSpan base, size_t raw_size) {
  SNAP_RETURN_IF_ERROR(CheckFrame(in, raw_size));
  ZSTD_DCtx* dctx = ThreadDCtx();
  size_t rc = ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, kMaxWindowLog);
  if (ZSTD_isError(rc)) return ZstdError("window limit", rc);
  rc = ZSTD_DCtx_refPrefix(dctx, base.data(), base.size());
  if (ZSTD_isError(rc)) return ZstdError("prefix", rc);
  Buffer out;
  SNAP_RETURN_IF_ERROR(DecompressWith(dctx, in, raw_size, &out).status());
  return out;
}

}  // namespace snap::engine::codec

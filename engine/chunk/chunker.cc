#include "engine/chunk/chunker.h"

#include <algorithm>
#include <bit>
#include <string>
#include <string_view>

#include "engine/codec/crypto.h"
#include "engine/codec/varint.h"

namespace snap::engine::chunk {

namespace {

// On disk (the table decides every boundary): never change.
constexpr std::string_view kGearLabel = "snapctl-gear-v1";
constexpr uint32_t kMaxChunkSize = 64u << 20;

// The gear hash shifts left once per byte, so a byte's contribution leaves
// the 64-bit state after 64 more bytes: the hash at a position is a function
// of the 64-byte window ending there.
constexpr size_t kWindow = 64;

// Cut tests look at the top bits: they mix the whole window, while bit k
// only sees the last k + 1 bytes.
uint64_t TopBitsMask(int bits) { return ~uint64_t{0} << (64 - bits); }

// HMAC zero-pads keys shorter than its block, so a seed of up to 32 bytes
// padded with zeros keys HMAC exactly as the seed itself would. Longer seeds
// are reduced with SHA-256 first (FORMAT.md "Chunker").
codec::Key256 GearKey(ByteSpan seed) {
  if (seed.size() > sizeof(codec::Key256)) return codec::Sha256(seed);
  codec::Key256 key{};
  std::copy(seed.begin(), seed.end(), key.begin());
  return key;
}

uint64_t LoadLE64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint64_t>(p[i]);
  return v;
}

// Rolls the gear hash over p[i, end). Returns the chunk length ending at the
// first byte whose hash has none of `mask`'s bits set, or 0 if none does.
// Hot loop: one cycle per byte, bound by the latency of the shift-add chain
// (a single lea); unrolling measured no faster, so it stays plain.
inline size_t Scan(const uint8_t* p, size_t i, size_t end, uint64_t mask, const uint64_t* gear,
                   uint64_t* h) {
  uint64_t x = *h;
  for (; i < end; ++i) {
    x = (x << 1) + gear[p[i]];
    if ((x & mask) == 0) return i + 1;
  }
  *h = x;
  return 0;
}

}  // namespace

Status ChunkerParams::Validate() const {
  auto fail = [this](std::string_view why) {
    return Status::InvalidArgument("chunker params " + std::to_string(min_size) + "/" +
                                   std::to_string(avg_size) + "/" + std::to_string(max_size) +
                                   ": " + std::string(why));
  };
  if (min_size < kWindow) return fail("min must be at least 64");
  if (min_size >= avg_size) return fail("min must be below avg");
  if (avg_size >= max_size) return fail("avg must be below max");
  if (max_size > kMaxChunkSize) return fail("max must be at most 64 MiB");
  if (!std::has_single_bit(avg_size)) return fail("avg must be a power of two");
  return Status::OK();
}

GearTable MakeGearTable(ByteSpan seed) {
  const codec::KeyedHasher hmac(GearKey(seed));
  GearTable table;
  constexpr size_t kPerBlock = 32 / sizeof(uint64_t);
  for (uint32_t block = 0; block < table.size() / kPerBlock; ++block) {
    Buffer counter;
    codec::Encoder(&counter).PutFixed32(block);
    codec::Key256 bytes = hmac.Derive(kGearLabel, counter);
    for (size_t j = 0; j < kPerBlock; ++j) {
      table[block * kPerBlock + j] = LoadLE64(bytes.data() + 8 * j);
    }
  }
  return table;
}

Chunker::Chunker(const ChunkerParams& params, const GearTable& gear)
    : params_(params), gear_(gear) {
  // Normalized chunking, level 2 (FastCDC section 3.4): four times less
  // likely to cut than 1/avg before avg, four times more likely after it.
  int avg_bits = std::countr_zero(params.avg_size);
  mask_small_ = TopBitsMask(avg_bits + 2);
  mask_large_ = TopBitsMask(avg_bits - 2);
}

size_t Chunker::NextBoundary(ByteSpan data, bool at_eof) const {
  const size_t min = params_.min_size;
  const size_t limit = std::min<size_t>(data.size(), params_.max_size);
  if (limit >= min) {
    const auto* p = reinterpret_cast<const uint8_t*>(data.data());
    // The first candidate is a chunk of exactly min bytes; warm the hash on
    // the 63 bytes before that candidate's last byte (earlier bytes would
    // have shifted out anyway), so no cut falls before min.
    uint64_t h = 0;
    size_t i = min - kWindow;
    for (; i < min - 1; ++i) h = (h << 1) + gear_[p[i]];
    const size_t normal = std::clamp<size_t>(params_.avg_size - 1, i, limit);
    if (size_t cut = Scan(p, i, normal, mask_small_, gear_.data(), &h)) return cut;
    if (size_t cut = Scan(p, normal, limit, mask_large_, gear_.data(), &h)) return cut;
  }
  if (data.size() >= params_.max_size) return params_.max_size;
  return at_eof ? data.size() : 0;
}

}  // namespace snap::engine::chunk

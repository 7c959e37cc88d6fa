// Feeds a hostile whole pack to the trailer and footer decoders and to
// ScanFrames. Each input is also tried with the footer checksum in its
// trailer repaired, so the fuzzer reaches the entry checks behind it.
#include <cstddef>
#include <cstdint>

#include "engine/codec/checksum.h"
#include "engine/pack/pack_format.h"

namespace {

using namespace snap::engine;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

// Every entry a decoded footer lists lies in the frame area, ascending.
void VerifyEntries(const std::vector<pack::PackEntry>& entries, uint64_t frames_end) {
  uint64_t next = pack::kPackHeaderSize;
  for (const pack::PackEntry& e : entries) {
    Check(e.offset >= next && e.offset + e.length <= frames_end);
    next = e.offset + e.length;
  }
}

void DecodeAndVerify(ByteSpan pack) {
  Result<uint32_t> fl = pack::DecodeTrailer(pack);
  if (fl.ok()) {
    Result<std::vector<pack::PackEntry>> entries = pack::DecodeFooter(pack, pack.size());
    if (entries.ok()) VerifyEntries(*entries, pack.size() - *fl - pack::kTrailerSize);
  }
  (void)pack::ScanFrames(pack, [&](const pack::PackEntry& e, const pack::DecodedFrame& f) {
    Check(e.offset >= pack::kPackHeaderSize && e.offset + e.length <= pack.size());
    Check(f.payload.data() >= pack.data() &&
          f.payload.data() + f.payload.size() <= pack.data() + pack.size());
  });
}

void RepairFooterChecksum(Buffer* b) {
  Result<uint32_t> fl = pack::DecodeTrailer(*b);
  if (!fl.ok() || *fl > b->size() - pack::kTrailerSize) return;
  size_t trailer = b->size() - pack::kTrailerSize;
  uint64_t sum = codec::Xxh3(ByteSpan(*b).subspan(trailer - *fl, *fl));
  for (size_t i = 0; i < 8; ++i) (*b)[trailer + 4 + i] = static_cast<std::byte>(sum >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  DecodeAndVerify(in);
  Buffer repaired(in.begin(), in.end());
  RepairFooterChecksum(&repaired);
  DecodeAndVerify(repaired);
  return 0;
}

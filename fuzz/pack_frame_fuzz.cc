// Feeds hostile bytes to the frame decoder. Random bytes rarely carry a
// matching XXH3, so each input is also tried with its checksum repaired,
// which lets the fuzzer reach the header and refs parsing behind it.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "engine/codec/checksum.h"
#include "engine/pack/pack_format.h"

namespace {

using namespace snap::engine;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void DecodeAndVerify(ByteSpan data) {
  Result<size_t> size = pack::FrameSize(data);
  Result<pack::DecodedFrame> frame = pack::DecodeFrame(data);
  if (!frame.ok()) return;
  // A frame that decodes states its own size and re-encodes to its bytes.
  Check(size.ok() && *size == data.size());
  Buffer again;
  pack::EncodeFrame(frame->header, frame->payload, &again);
  Check(again.size() == data.size() && std::memcmp(again.data(), data.data(), data.size()) == 0);
}

void RepairChecksum(Buffer* b) {
  if (b->size() < pack::kFrameChecksumSize) return;
  size_t body = b->size() - pack::kFrameChecksumSize;
  uint64_t sum = codec::Xxh3(ByteSpan(*b).first(body));
  for (size_t i = 0; i < 8; ++i) (*b)[body + i] = static_cast<std::byte>(sum >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  DecodeAndVerify(in);
  Buffer repaired(in.begin(), in.end());
  RepairChecksum(&repaired);
  DecodeAndVerify(repaired);
  return 0;
}

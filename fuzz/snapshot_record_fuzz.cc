// libFuzzer target for SnapshotRecord::Decode: hostile bytes must fail
// cleanly, and whatever decodes must survive a re-encode unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/snapshot/snapshot_record.h"

using snap::engine::Buffer;
using snap::engine::ByteSpan;
using snap::engine::snapshot::SnapshotRecord;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = ByteSpan(reinterpret_cast<const std::byte*>(data), size);
  auto record = SnapshotRecord::Decode(in);
  if (!record.ok()) return 0;
  Buffer encoded;
  record->EncodeTo(&encoded);
  auto again = SnapshotRecord::Decode(encoded);
  if (!again.ok() || *again != *record) abort();
  // The encoding is canonical: re-encoding a decoded canonical record is stable.
  Buffer twice;
  again->EncodeTo(&twice);
  if (twice != encoded) abort();
  return 0;
}

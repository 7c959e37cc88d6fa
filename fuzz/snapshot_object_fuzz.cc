// libFuzzer target for SnapshotObject::Decode (the object stored under
// snapshots/<id>). Each input is also tried with its trailing XXH3 repaired
// so the fuzzer reaches the refs and payload behind the checksum. Whatever
// decodes must re-encode to bytes that decode equal.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "engine/codec/checksum.h"
#include "engine/repo/snapshot_object.h"

namespace {

using namespace snap::engine;
using repo::SnapshotObject;

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "snapshot_object_fuzz: %s\n", what);
  __builtin_trap();
}

bool Same(const SnapshotObject& a, const SnapshotObject& b) {
  return a.flags == b.flags && a.refs == b.refs && a.payload == b.payload;
}

void DecodeAndVerify(ByteSpan in) {
  Result<SnapshotObject> o = SnapshotObject::Decode(in);
  if (!o.ok()) return;
  Check((o->flags & ~repo::kSnapshotObjectSealed) == 0, "decoded object has unknown flags");
  Buffer encoded;
  o->EncodeTo(&encoded);
  Result<SnapshotObject> again = SnapshotObject::Decode(encoded);
  Check(again.ok() && Same(*again, *o), "re-encoded snapshot object does not decode equal");
  Buffer twice;
  again->EncodeTo(&twice);
  Check(twice == encoded, "snapshot object encoding is not stable");
}

void RepairChecksum(Buffer* b) {
  if (b->size() < 16) return;
  size_t body = b->size() - 8;
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

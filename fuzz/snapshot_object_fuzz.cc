// libFuzzer target for SnapshotObject::Decode (the object stored under
// snapshots/<id>). Each input is also tried with its trailing XXH3 repaired
// so the fuzzer reaches the refs and payload behind the checksum. Whatever
// decodes must re-encode to bytes that decode equal.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "fuzz/fuzz_support.h"
#include "engine/repo/snapshot_object.h"

namespace {

using namespace snap::engine;
namespace fuzz = snap::fuzz;
using repo::SnapshotObject;

void Check(bool ok, const char* what) { fuzz::Check(ok, "snapshot_object_fuzz", what); }

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  snap::fuzz::WithRepairedChecksum(in, DecodeAndVerify);
  return 0;
}

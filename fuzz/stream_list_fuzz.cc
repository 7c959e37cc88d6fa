// libFuzzer target for StreamList::Decode (a dump stream's chunk IDs):
// hostile bytes must fail cleanly, and whatever decodes must re-encode to
// bytes that decode equal.
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "engine/snapshot/stream_list.h"

namespace {

using namespace snap::engine;
using snapshot::StreamList;

void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "stream_list_fuzz: %s\n", what);
  __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  Result<StreamList> s = StreamList::Decode(in);
  if (!s.ok()) return 0;
  Check(s->level <= 1 && s->ids.size() <= snapshot::kMaxStreamListIds,
        "decoded stream list breaks its limits");
  Buffer encoded;
  s->EncodeTo(&encoded);
  Result<StreamList> again = StreamList::Decode(encoded);
  Check(again.ok() && again->level == s->level && again->ids == s->ids,
        "re-encoded stream list does not decode equal");
  Buffer twice;
  again->EncodeTo(&twice);
  Check(twice == encoded, "stream list encoding is not stable");
  return 0;
}

// Feeds hostile bytes to the bundle member table parser (a bundle's
// plaintext, after its AEAD tag, is only as trusted as the writer that
// sealed it). A table that parses must describe exactly the bytes before
// it and re-encode to the same table.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "engine/pack/bundle_table.h"

namespace {

using namespace snap::engine;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ByteSpan in(reinterpret_cast<const std::byte*>(data), size);
  Result<pack::BundleLayout> layout = pack::ParseBundleTable(in);
  if (!layout.ok()) return 0;
  Check(layout->lengths.size() >= 2 && layout->lengths.size() <= pack::kMaxBundleMembers);
  uint64_t sum = 0;
  for (uint32_t n : layout->lengths) sum += n;
  Check(sum == layout->members_bytes);
  Buffer again(in.begin(), in.begin() + static_cast<std::ptrdiff_t>(layout->members_bytes));
  pack::AppendBundleTable(layout->lengths, &again);
  Check(again.size() == size && std::memcmp(again.data(), data, size) == 0);
  return 0;
}

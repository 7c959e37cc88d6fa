// libFuzzer target for Tree::Decode: hostile bytes must fail cleanly, and
// whatever decodes must survive a re-encode unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/snapshot/tree.h"

using snap::engine::Buffer;
using snap::engine::ByteSpan;
using snap::engine::snapshot::Tree;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto in = ByteSpan(reinterpret_cast<const std::byte*>(data), size);
  auto tree = Tree::Decode(in);
  if (!tree.ok()) return 0;
  Buffer encoded;
  tree->EncodeTo(&encoded);
  auto again = Tree::Decode(encoded);
  if (!again.ok() || again->nodes != tree->nodes) abort();
  // The encoding is canonical: re-encoding a decoded canonical tree is stable.
  Buffer twice;
  again->EncodeTo(&twice);
  if (twice != encoded) abort();
  return 0;
}

// Byte views and buffers used across the engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace snap::engine {

using ByteSpan = std::span<const std::byte>;
using MutableByteSpan = std::span<std::byte>;
using Buffer = std::vector<std::byte>;

inline ByteSpan AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteSpan b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Buffer ToBuffer(std::string_view s) {
  auto b = AsBytes(s);
  return Buffer(b.begin(), b.end());
}
inline void Append(Buffer* out, ByteSpan b) { out->insert(out->end(), b.begin(), b.end()); }
// The first `n` bytes of *scratch, growing it when shorter. It never
// shrinks, so a buffer reused for pieces of varying sizes allocates and
// zero-fills only when a piece is larger than any before.
inline MutableByteSpan Grow(Buffer* scratch, size_t n) {
  if (scratch->size() < n) scratch->resize(n);
  return {scratch->data(), n};
}

// Lower-case hex of `b`.
std::string ToHex(ByteSpan b);
// Parses lower- or upper-case hex; false on odd length or a non-hex digit.
bool FromHex(std::string_view hex, Buffer* out);

}  // namespace snap::engine

// Helpers shared by the fuzz targets of checksummed objects (config, key
// file, snapshot object): a trap that names the broken invariant, and a run
// that also tries each input with its trailing XXH3 repaired, since random
// bytes rarely carry a matching checksum and the fuzzer would otherwise
// never reach the fields behind it.
#pragma once

#include <cstdio>

#include "engine/bytes.h"
#include "engine/codec/checksum.h"

namespace snap::fuzz {

inline void Check(bool ok, const char* target, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "%s: %s\n", target, what);
  __builtin_trap();
}

// Calls decode(in), then decode(in with its last 8 bytes set to the XXH3 of
// the rest).
template <typename Fn>
void WithRepairedChecksum(engine::ByteSpan in, Fn decode) {
  decode(in);
  if (in.size() < 16) return;
  engine::Buffer b(in.begin(), in.end());
  size_t body = b.size() - 8;
  uint64_t sum = engine::codec::Xxh3(engine::ByteSpan(b).first(body));
  for (size_t i = 0; i < 8; ++i) b[body + i] = static_cast<std::byte>(sum >> (8 * i));
  decode(engine::ByteSpan(b));
}

}  // namespace snap::fuzz

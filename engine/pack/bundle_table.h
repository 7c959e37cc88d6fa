// The member table that ends a bundle's plaintext (FORMAT.md "Slices"):
//
//   plaintext = member* | length varint * count | table_length fixed32
//
// Members lie back to back from offset 0, each `length` bytes (u32, at
// least 1, shortest-form varints); `table_length` is the byte length of the
// varints. A bundle's ID is the keyed hash of its members' IDs, so a writer
// names a bundle from IDs it already holds instead of hashing its plaintext
// a second time, and a reader verifies it by hashing each member.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/bytes.h"
#include "engine/result.h"

namespace snap::engine::pack {

// The most members one bundle holds: bounds what verifying one costs (a
// keyed hash per member) whatever its members' sizes.
inline constexpr size_t kMaxBundleMembers = 8192;
// The most bytes such a table takes (a u32 varint is at most 5 bytes).
inline constexpr size_t kMaxBundleTableBytes = kMaxBundleMembers * 5 + 4;

// Appends the table of members of these lengths to *plain (which holds them).
void AppendBundleTable(std::span<const uint32_t> lengths, Buffer* plain);

struct BundleLayout {
  size_t members_bytes = 0;       // the members, from offset 0
  std::vector<uint32_t> lengths;  // each member's, in order
};
// The layout a bundle's plaintext declares; Corruption unless its table is
// well formed, holds 2 to kMaxBundleMembers members of at least one byte,
// and their lengths add up to exactly the bytes before the table.
Result<BundleLayout> ParseBundleTable(ByteSpan plain);

}  // namespace snap::engine::pack

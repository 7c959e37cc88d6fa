// Reading a pack's list of entries from the object store, for gc and for
// applying gc records (no index involved).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/index/chunk_index.h"
#include "engine/pack/pack_format.h"
#include "engine/result.h"
#include "engine/store/object_store.h"

namespace snap::engine::gc {

struct PackEntries {
  std::vector<pack::PackEntry> entries;
  // False when the footer did not decode and a scan of the frames stopped
  // at a damaged one: frames after it may exist that `entries` lacks.
  bool complete = true;
};

// The footer's entries (two small reads from the end of a pack of `size`
// bytes); when the footer does not decode, the frames found by scanning
// the whole pack. NotFound when the pack is absent.
Result<PackEntries> ReadPackEntries(const store::ObjectStore& store, const std::string& key,
                                    uint64_t size);
// As above, asking the store for the size first.
Result<PackEntries> ReadPackEntries(const store::ObjectStore& store, const std::string& key);

// The pack named by a key "packs/ab/<64 hex digits>", or nullopt.
std::optional<index::PackId> PackIdOfKey(std::string_view key);

}  // namespace snap::engine::gc

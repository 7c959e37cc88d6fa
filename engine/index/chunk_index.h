// ChunkIndex: chunk ID -> where its frame lives, over a KvStore.
// Keyspace 'c' (FORMAT.md "Index keys"). Thread-safe like its KvStore.
//
// A snapshot writer hides the packs gc condemned or replaced (FORMAT.md
// "Garbage collection"): Get and MultiGet then answer "absent" for chunks
// located in them, so the writer stores such chunks again instead of
// reusing them, while Locate still finds them for reading.
#pragma once

#include <array>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <unordered_set>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/index/kv_store.h"
#include "engine/pack/pack_format.h"

namespace snap::engine::index {

using PackId = std::array<std::byte, 32>;  // SHA-256 of the pack file

struct PackIdHash {
  size_t operator()(const PackId& p) const {
    size_t h;
    std::memcpy(&h, p.data(), sizeof h);  // a SHA-256: already uniform
    return h;
  }
};
using PackSet = std::unordered_set<PackId, PackIdHash>;

struct ChunkLocation {
  PackId pack{};
  pack::PackEntry entry;  // offset, length, kind, flags, raw_length
  bool operator==(const ChunkLocation&) const = default;
};

class ChunkIndex {
 public:
  explicit ChunkIndex(KvStore* kv) : kv_(kv) {}  // kv must outlive this

  // Where the chunk is, for reuse: std::nullopt when unindexed or located
  // in a hidden pack.
  Result<std::optional<ChunkLocation>> Get(const ChunkId& id) const;
  // One answer per id, batched (MultiGet), as Get.
  Status MultiGet(std::span<const ChunkId> ids,
                  std::vector<std::optional<ChunkLocation>>* out) const;
  // Where the chunk is, for reading: hidden packs included.
  Result<std::optional<ChunkLocation>> Locate(const ChunkId& id) const;
  // Makes Get and MultiGet skip chunks located in `packs`.
  // REQUIRES: no lookup runs concurrently (set before a capture starts).
  void set_hidden_packs(PackSet packs) {
    hidden_ = packs.empty() ? nullptr : std::make_shared<const PackSet>(std::move(packs));
  }
  // Removes every location pointing into one of `packs` (packs gc deleted);
  // one scan of the keyspace, deletes in bounded batches.
  Status DropPacks(const PackSet& packs);
  // Removes the locations of `ids` (absent IDs are skipped) in one atomic,
  // synced batch; their frames stay in their packs.
  Status Remove(std::span<const ChunkId> ids);
  // Adds every entry of a pack in one atomic, synced batch. An ID already
  // indexed is pointed at this pack instead (both copies are valid).
  Status AddPack(const PackId& pack, std::span<const pack::PackEntry> entries);
  // Calls fn for every indexed chunk, in ID order, until it returns false.
  Status ForEach(const std::function<bool(const ChunkId&, const ChunkLocation&)>& fn) const;
  // Drops every chunk location (before a rebuild), and the gc state derived
  // from them (keyspace 'g'), so the gc records are applied again.
  Status Clear();

 private:
  bool Hidden(const ChunkLocation& loc) const { return hidden_ && hidden_->count(loc.pack); }

  KvStore* kv_;
  std::shared_ptr<const PackSet> hidden_;
};

}  // namespace snap::engine::index

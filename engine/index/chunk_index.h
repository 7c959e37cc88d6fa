// ChunkIndex: chunk ID -> where its frame lives, over a KvStore.
// Keyspace 'c' (FORMAT.md "Index keys"). Thread-safe like its KvStore.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/index/kv_store.h"
#include "engine/pack/pack_format.h"

namespace snap::engine::index {

using PackId = std::array<std::byte, 32>;  // SHA-256 of the pack file

struct ChunkLocation {
  PackId pack{};
  pack::PackEntry entry;  // offset, length, kind, flags, raw_length
  bool operator==(const ChunkLocation&) const = default;
};

class ChunkIndex {
 public:
  explicit ChunkIndex(KvStore* kv) : kv_(kv) {}  // kv must outlive this

  Result<std::optional<ChunkLocation>> Get(const ChunkId& id) const;
  // One answer per id, batched (MultiGet).
  Status MultiGet(std::span<const ChunkId> ids,
                  std::vector<std::optional<ChunkLocation>>* out) const;
  // Adds every entry of a pack in one atomic, synced batch. An ID already
  // indexed is pointed at this pack instead (both copies are valid).
  Status AddPack(const PackId& pack, std::span<const pack::PackEntry> entries);
  // Calls fn for every indexed chunk, in ID order, until it returns false.
  Status ForEach(const std::function<bool(const ChunkId&, const ChunkLocation&)>& fn) const;
  // Drops every chunk location (before a rebuild).
  Status Clear();

 private:
  KvStore* kv_;
};

}  // namespace snap::engine::index

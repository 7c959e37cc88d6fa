// ScratchIndex: what one gc run knows about the packs and the chunks it
// marked, in a KvStore of its own (a RocksDB in a temp dir), so that the
// run's memory stays bounded whatever the repository's size. Thrown away
// when the run ends; never shared, never a format.
//
//   'p' pack                  -> size varint | complete u8
//   'e' pack offset[8, BE]    -> id kind u8 flags u8 length varint   (a pack's entries)
//   'l' id pack               -> offset varint length varint kind u8 flags u8  (a chunk's copies)
//   'm' id                    -> marked: reachable from a snapshot
//   'n' id                    -> copied by this run's repack
//
// Thread-compatible.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/index/chunk_index.h"
#include "engine/index/kv_store.h"
#include "engine/pack/pack_format.h"

namespace snap::engine::gc {

using index::PackId;

struct ChunkCopy {
  PackId pack{};
  pack::PackEntry entry;
};

struct PackSummary {
  PackId pack{};
  uint64_t size = 0;
  bool complete = true;  // every frame is listed (see PackEntries)
};

class ScratchIndex {
 public:
  explicit ScratchIndex(std::unique_ptr<index::KvStore> kv) : kv_(std::move(kv)) {}

  Status AddPack(const PackId& pack, uint64_t size, bool complete,
                 const std::vector<pack::PackEntry>& entries);
  // Every pack added, in pack ID order, until fn returns false.
  Status ForEachPack(const std::function<bool(const PackSummary&)>& fn) const;
  Result<std::vector<pack::PackEntry>> EntriesOf(const PackId& pack) const;
  Result<std::vector<ChunkCopy>> CopiesOf(const ChunkId& id) const;
  Result<bool> HasPack(const PackId& pack) const;

  // Marks `id`; true when it was not marked before.
  Result<bool> Mark(const ChunkId& id);
  Result<bool> IsMarked(const ChunkId& id) const;
  // Records that this run copied `id` into a new pack; true when it had not.
  Result<bool> MarkCopied(const ChunkId& id);

 private:
  std::unique_ptr<index::KvStore> kv_;
};

// A RocksDB for a ScratchIndex in a fresh directory under `parent` ($TMPDIR
// when empty), removed with everything in it when the object is destroyed.
class ScratchDir {
 public:
  static Result<std::unique_ptr<ScratchDir>> Create(const std::string& parent);
  ~ScratchDir();
  const std::string& path() const { return path_; }
  Result<std::unique_ptr<index::KvStore>> OpenKv() const;

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace snap::engine::gc

// The frame-level half of `replicad check` (replica_check.h): a compact
// copy of a replica repository's chunk index, taken once so the rest of a
// long check reads only packs, and the checks of one frame against its
// index record: by header (48 bytes), or whole with every pack read
// (--read-data). Internal to replicator/server/.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "replicator/server/replica_repo.h"

namespace snap::replicator::server {

// One 'c' record, compact: a replica may index millions of chunks.
struct Where {
  uint64_t offset = 0;
  uint32_t length = 0;
  uint32_t pack = 0;  // number in IndexCopy's pack table
  uint8_t kind = 0, flags = 0;
};

// Frames of other kinds than data, and deltas (refs[0] is the base), have
// refs; a data frame may too (the format allows it), which its header tells.
bool MayHaveRefs(const Where& w);
const char* KindName(uint8_t kind);  // "data", "tree", "stream"

class IndexCopy {
 public:
  // Copies every 'c' record of `repo`. Status error when the index cannot
  // be read or holds a bad record.
  Status Load(const ReplicaRepo& repo);
  const Where* Find(const ChunkId& id) const;
  void ForEach(const std::function<void(const ChunkId&, const Where&)>& fn) const;
  engine::index::ChunkLocation Location(const ChunkId& id, const Where& w) const;
  std::string PackKey(const Where& w) const;  // packs/ab/ab12…
  std::optional<uint32_t> PackNumber(const engine::index::PackId& pack) const;
  size_t pack_count() const { return packs_.size(); }
  const engine::index::PackId& pack(uint32_t n) const { return packs_[n]; }

 private:
  std::vector<engine::index::PackId> packs_;
  std::unordered_map<engine::index::PackId, uint32_t, engine::index::PackIdHash> numbers_;
  std::unordered_map<ChunkId, Where, engine::ChunkIdHash> where_;
};

// What the pack passes found: the problem of every indexed chunk whose
// frame is not sound, keyed by chunk. After VerifyPacks, an indexed chunk
// absent from `damaged` has a sound frame.
struct PackVerdicts {
  std::unordered_map<ChunkId, std::string, engine::ChunkIdHash> damaged;
  std::unordered_set<ChunkId, engine::ChunkIdHash> with_refs;  // sound frames with refs
  std::vector<std::string> notes;
  uint64_t packs_read = 0, bytes_read = 0;
};

// Every chunk indexed in a pack that `packs` (the listing of packs/: key,
// size) lacks is damaged: "pack … is missing". One listing, no reads.
void MarkMissingPacks(const IndexCopy& index,
                      const std::vector<std::pair<std::string, uint64_t>>& packs,
                      PackVerdicts* out);
// Reads each of `packs` whole and verifies every frame the index locates
// in it (checksum, bounds, ID, kind, flags, length) and its footer (a
// damaged footer damages every chunk indexed in the pack: an index rebuild
// would lose them); frames the footer lists but the index does not read
// are verified too and, when damaged, noted.
void VerifyPacks(const ReplicaRepo& repo, const IndexCopy& index,
                 const std::vector<std::pair<std::string, uint64_t>>& packs, PackVerdicts* out);

// Reads the 48-byte header of the frame at `w`; its problem, if any, else
// its ref count in *ref_count.
std::optional<std::string> VerifyHeader(const ReplicaRepo& repo, const IndexCopy& index,
                                        const ChunkId& id, const Where& w, uint32_t* ref_count);
// How a frame whose ID matched disagrees with its index record, if it does.
std::optional<std::string> IndexDisagrees(const engine::pack::EntryHeader& h, const Where& w);
// The problem text of a failed read of pack `key`.
std::string ReadProblem(const Status& s, const std::string& key);

}  // namespace snap::replicator::server

// Repository: what writers and readers do about gc records (FORMAT.md
// "Garbage collection"). Writers bring their index up to date with the
// records and never reuse a chunk of a condemned or replaced pack; readers
// whose index predates a repack find moved chunks through the records.
#include <unordered_map>

#include "engine/gc/gc_record.h"
#include "engine/gc/lock.h"
#include "engine/gc/pack_footer.h"
#include "engine/index/gc_state.h"
#include "engine/repository.h"

namespace snap::engine {

struct Repository::MovedChunks {
  std::string last_key;  // the newest record whose added packs are loaded
  std::unordered_map<ChunkId, index::ChunkLocation, ChunkIdHash> where;
};

Status Repository::IndexAddedPack(const index::PackId& pack) {
  std::string key = PackKey(pack);
  Result<gc::PackEntries> e = gc::ReadPackEntries(*store_, key);
  // Gone: a later record deleted it, and says so.
  if (e.status().IsNotFound()) return Status::OK();
  if (!e.ok()) return e.status().WithContext(key);
  return chunk_index_->AddPack(pack, e->entries).WithContext(key);
}

Status Repository::ApplyGcRecords() {
  if (index_read_only_) return Status::OK();
  index::GcState state(kv_.get());
  SNAP_ASSIGN_OR_RETURN(std::string applied, state.Applied());
  SNAP_ASSIGN_OR_RETURN(std::vector<gc::NamedGcRecord> records,
                        gc::ReadGcRecords(*store_, applied));
  if (records.empty()) return Status::OK();
  index::PackSet deleted;
  for (const gc::NamedGcRecord& r : records) {
    // New packs first: a replaced pack's live chunks then point at their copy.
    for (const index::PackId& p : r.record.added) SNAP_RETURN_IF_ERROR(IndexAddedPack(p));
    index::WriteBatch b;
    for (const index::PackId& p : r.record.condemned) index::GcState::Hide(&b, p);
    for (const index::PackId& p : r.record.replaced) index::GcState::Hide(&b, p);
    for (const index::PackId& p : r.record.restored) index::GcState::Unhide(&b, p);
    for (const index::PackId& p : r.record.deleted) {
      index::GcState::Unhide(&b, p);
      deleted.insert(p);
    }
    SNAP_RETURN_IF_ERROR(kv_->Write(b, /*sync=*/true));
  }
  // Only dead chunks point into deleted packs (a replaced pack's live ones
  // were re-pointed above): drop them so nothing is deduplicated against them.
  SNAP_RETURN_IF_ERROR(chunk_index_->DropPacks(deleted));
  index::WriteBatch done;
  index::GcState::SetApplied(&done, records.back().key);
  return kv_->Write(done, /*sync=*/true);
}

Result<std::unique_ptr<gc::HeldLock>> Repository::BeginWriting() {
  if (index_read_only_)
    return Status::Unavailable("index " + dir_ + "/index is locked by another snapctl process");
  SNAP_ASSIGN_OR_RETURN(std::unique_ptr<gc::HeldLock> lock,
                        gc::HeldLock::AcquireWriter(store_.get()));
  // Read the records only now that the (starting) lock is visible: a gc
  // run that misses this lock started after this listing, so any record it
  // could delete packs of is among those applied here.
  SNAP_RETURN_IF_ERROR(ApplyGcRecords());
  index::GcState state(kv_.get());
  SNAP_ASSIGN_OR_RETURN(std::vector<index::PackId> hidden, state.HiddenPacks());
  chunk_index_->set_hidden_packs(index::PackSet(hidden.begin(), hidden.end()));
  SNAP_ASSIGN_OR_RETURN(std::string seen, state.Applied());
  // With no record applied, the starting lock already says all there is
  // (it holds back every record), and costs no second write.
  if (!seen.empty()) SNAP_RETURN_IF_ERROR(lock->MarkRunning(seen));
  return lock;
}

Result<std::optional<index::ChunkLocation>> Repository::FindMovedChunk(const ChunkId& id) const {
  std::lock_guard<std::mutex> guard(moved_mu_);
  if (!moved_) {
    moved_ = std::make_shared<MovedChunks>();
    // The index already points at the packs of the records it applied.
    SNAP_ASSIGN_OR_RETURN(moved_->last_key, index::GcState(kv_.get()).Applied());
  }
  auto it = moved_->where.find(id);
  if (it != moved_->where.end()) return std::optional<index::ChunkLocation>(it->second);
  // Not among the packs known so far: read the records written since.
  SNAP_ASSIGN_OR_RETURN(std::vector<gc::NamedGcRecord> records,
                        gc::ReadGcRecords(*store_, moved_->last_key));
  for (const gc::NamedGcRecord& r : records) {
    for (const index::PackId& p : r.record.added) {
      Result<gc::PackEntries> e = gc::ReadPackEntries(*store_, PackKey(p));
      if (e.status().IsNotFound()) continue;  // repacked again since: a later record has it
      if (!e.ok()) return e.status().WithContext(PackKey(p));
      for (const pack::PackEntry& entry : e->entries) moved_->where[entry.id] = {p, entry};
    }
    moved_->last_key = r.key;
  }
  it = moved_->where.find(id);
  if (it == moved_->where.end()) return std::optional<index::ChunkLocation>();
  return std::optional<index::ChunkLocation>(it->second);
}

}  // namespace snap::engine

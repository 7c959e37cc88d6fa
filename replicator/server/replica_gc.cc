// CollectReplicaGarbage: one gc run on a replica repository (replica_gc.h).
#include "replicator/server/replica_gc.h"

#include <algorithm>
#include <limits>

#include "engine/gc/marker.h"
#include "engine/gc/pack_footer.h"
#include "engine/gc/plan.h"
#include "engine/gc/repacker.h"
#include "engine/gc/scratch.h"
#include "engine/repo/snapshot_object.h"
#include "engine/repository.h"

namespace snap::replicator::server {
namespace {

namespace gc = engine::gc;
using engine::index::PackId;

// As a push session's pending pack: what a repack holds in memory.
constexpr uint64_t kMaxRepackTarget = 32u << 20;

class ReplicaCollector {
 public:
  ReplicaCollector(ReplicaRepo& repo, const ReplicaGcOptions& opts) : repo_(repo), opts_(opts) {}

  Result<ReplicaGcReport> Run() {
    SNAP_ASSIGN_OR_RETURN(scratch_dir_, gc::ScratchDir::Create(opts_.scratch_dir));
    SNAP_ASSIGN_OR_RETURN(std::unique_ptr<engine::index::KvStore> kv, scratch_dir_->OpenKv());
    scratch_ = std::make_unique<gc::ScratchIndex>(std::move(kv));
    SNAP_RETURN_IF_ERROR(RemoveUnlisted());
    SNAP_ASSIGN_OR_RETURN(std::vector<ChunkId> roots, Roots());
    SNAP_RETURN_IF_ERROR(Inventory());
    gc::Marker marker(&repo_.objects(), scratch_.get());
    marker.progress = [&](uint64_t n) { Progress("marking", n, 0); };
    Status marked = marker.Run(roots);
    if (!marked.ok())
      return marked.WithContext(repo_.dir() + ": gc stopped before touching any pack");
    report_.live_chunks = marker.marked();
    gc::PlanInputs in;
    in.scratch = scratch_.get();
    in.max_repack_ratio = opts_.max_repack_ratio;
    SNAP_ASSIGN_OR_RETURN(gc::GcPlan plan, gc::MakePlan(in));
    Summarize(plan);
    if (!opts_.dry_run) SNAP_RETURN_IF_ERROR(Execute(plan));
    scratch_.reset();  // before its directory goes
    return report_;
  }

 private:
  void Progress(const std::string& step, uint64_t done, uint64_t total) {
    if (opts_.progress) opts_.progress(step, done, total);
  }

  // Objects a forget cut short (or a commit cut before its record, which
  // its client commits again): not listed, so not roots; removed first so
  // that no object outlives the chunks it names.
  Status RemoveUnlisted() {
    SNAP_ASSIGN_OR_RETURN(std::vector<ChunkId> unlisted, repo_.UnlistedSnapshots());
    report_.unlisted_snapshots = unlisted.size();
    if (opts_.dry_run) return Status::OK();
    for (const ChunkId& id : unlisted) SNAP_RETURN_IF_ERROR(repo_.ForgetSnapshot(id));
    return Status::OK();
  }

  // The clear refs of every snapshot with an `r` record. One awaiting
  // re-send after a repair ("Check and repair") counts with what of it the
  // index still holds (its incomplete part is unindexed, its object maybe
  // deleted): its client sends the rest again.
  Result<std::vector<ChunkId>> Roots() {
    SNAP_ASSIGN_OR_RETURN(std::vector<protocol::SnapshotList::Entry> listed, repo_.ListSnapshots());
    SNAP_ASSIGN_OR_RETURN(std::vector<ChunkId> resend, repo_.AwaitingResend());
    std::vector<ChunkId> roots;
    for (const protocol::SnapshotList::Entry& s : listed) {
      bool repaired = std::binary_search(resend.begin(), resend.end(), s.id);
      std::string what = "snapshot " + s.id.ToHex();
      SNAP_ASSIGN_OR_RETURN(std::optional<Buffer> bytes, repo_.GetSnapshot(s.id));
      if (!bytes && repaired) continue;
      if (!bytes)
        return Status::Corruption(what +
                                  " is listed but its object is missing; gc stopped "
                                  "before touching any pack (run `replicad check`)");
      Result<engine::repo::SnapshotObject> obj = engine::repo::SnapshotObject::Decode(*bytes);
      if (!obj.ok())
        return obj.status().WithContext(what +
                                        " (its chunks cannot be told apart; gc stopped "
                                        "before touching any pack; run `replicad check`)");
      if (repaired) {
        SNAP_ASSIGN_OR_RETURN(obj->refs, HeldOnly(obj->refs));
      }
      roots.insert(roots.end(), obj->refs.begin(), obj->refs.end());
    }
    report_.snapshots = listed.size();
    return roots;
  }

  Result<std::vector<ChunkId>> HeldOnly(const std::vector<ChunkId>& ids) {
    std::vector<std::optional<engine::index::ChunkLocation>> locs;
    SNAP_RETURN_IF_ERROR(repo_.Locate(ids, &locs));
    std::vector<ChunkId> out;
    for (size_t i = 0; i < ids.size(); ++i)
      if (locs[i]) out.push_back(ids[i]);
    return out;
  }

  // Every pack's entries into the scratch index, keeping only the frames
  // the index points at: the copies sessions read and HAVE answers for.
  Status Inventory() {
    uint64_t done = 0;
    return repo_.objects().List("packs/", [&](std::string_view key, uint64_t size) -> Status {
      std::optional<PackId> id = gc::PackIdOfKey(key);
      if (!id) return Status::OK();  // not a pack's name: not ours to judge
      Progress("reading packs", ++done, 0);
      Result<gc::PackEntries> e = gc::ReadPackEntries(repo_.objects(), std::string(key), size);
      if (e.status().IsNotFound()) return Status::OK();
      if (!e.ok()) {
        report_.notes.push_back(std::string(key) + ": unreadable (" + e.status().message() + ")");
        e = gc::PackEntries{{}, false};
      }
      SNAP_ASSIGN_OR_RETURN(std::vector<engine::pack::PackEntry> indexed, Indexed(*id, e->entries));
      report_.stray_frames += e->entries.size() - indexed.size();
      return scratch_->AddPack(*id, size, e->complete, indexed);
    });
  }

  Result<std::vector<engine::pack::PackEntry>> Indexed(
      const PackId& pack, const std::vector<engine::pack::PackEntry>& entries) {
    std::vector<ChunkId> ids;
    ids.reserve(entries.size());
    for (const engine::pack::PackEntry& e : entries) ids.push_back(e.id);
    std::vector<std::optional<engine::index::ChunkLocation>> locs;
    SNAP_RETURN_IF_ERROR(repo_.Locate(ids, &locs));
    std::vector<engine::pack::PackEntry> out;
    for (size_t i = 0; i < entries.size(); ++i)
      if (locs[i] && locs[i]->pack == pack && locs[i]->entry.offset == entries[i].offset)
        out.push_back(entries[i]);
    return out;
  }

  void Summarize(const gc::GcPlan& plan) {
    report_.packs = plan.packs;
    report_.pack_bytes = plan.pack_bytes;
    report_.live_bytes = plan.live_bytes;
    for (const gc::PlannedPack& p : plan.condemn) {
      report_.deleted_packs++;
      report_.deleted_bytes += p.size;
    }
    for (const gc::PlannedPack& p : plan.repack) {
      report_.repacked_packs++;
      report_.repacked_bytes += p.size;
      report_.new_bytes += p.live_bytes;  // an estimate until written
    }
    report_.damaged_packs = plan.incomplete.size();
    for (const gc::PlannedPack& p : plan.incomplete)
      report_.notes.push_back(engine::Repository::PackKey(p.pack) +
                              ": damaged, left alone (run `replicad check`)");
  }

  Status Execute(const gc::GcPlan& plan) {
    std::vector<PackId> replaced, written;
    SNAP_RETURN_IF_ERROR(Repack(plan, &replaced, &written));
    // The new copies are indexed before anything goes, so the index never
    // points into a pack about to be deleted.
    engine::index::PackSet doomed;
    for (const gc::PlannedPack& p : plan.condemn) doomed.insert(p.pack);
    for (const PackId& p : replaced) doomed.insert(p);
    // A pack a cut run wrote and this one wrote again (same bytes, same
    // name) was stray before; now it holds the copies.
    for (const PackId& p : written) doomed.erase(p);
    SNAP_RETURN_IF_ERROR(repo_.DropPacks(doomed));
    uint64_t done = 0;
    for (const PackId& p : doomed) {
      Progress("deleting packs", ++done, doomed.size());
      SNAP_RETURN_IF_ERROR(repo_.DeletePack(p));
    }
    RemoveTempFiles();
    return Status::OK();
  }

  // Temp files of pushes, repacks or repairs that crashed (a pack upload is
  // one `packs/upload.tmp-…` of up to the pack target size). Every writer of
  // this repository holds its lock, and this run holds it now: all of them
  // are garbage, whatever their age. The collection is done by now: a
  // failure here is a note.
  void RemoveTempFiles() {
    for (const char* prefix : {"packs/", "snapshots/"}) {
      Result<uint64_t> n =
          repo_.objects().RemoveTempFiles(prefix, std::numeric_limits<int64_t>::max());
      if (!n.ok()) {
        report_.notes.push_back(std::string(prefix) + ": temp files not removed (" +
                                n.status().message() + ")");
        continue;
      }
      report_.temp_files_removed += *n;
    }
  }

  Status Repack(const gc::GcPlan& plan, std::vector<PackId>* replaced,
                std::vector<PackId>* written) {
    uint64_t target = std::min<uint64_t>(repo_.config().pack_target_size, kMaxRepackTarget);
    gc::Repacker repacker(&repo_.objects(), scratch_.get(), target);
    report_.repacked_packs = report_.repacked_bytes = 0;
    uint64_t done = 0;
    for (const gc::PlannedPack& p : plan.repack) {
      Progress("repacking", ++done, plan.repack.size());
      SNAP_ASSIGN_OR_RETURN(bool copied, repacker.Add(p.pack));
      if (!copied) {
        report_.notes.push_back(engine::Repository::PackKey(p.pack) +
                                ": a live frame does not verify; not repacked (run `replicad "
                                "check`)");
        continue;
      }
      replaced->push_back(p.pack);
      report_.repacked_packs++;
      report_.repacked_bytes += p.size;
    }
    SNAP_RETURN_IF_ERROR(repacker.Finish());
    *written = repacker.written();
    for (const PackId& id : *written) {
      std::string key = engine::Repository::PackKey(id);
      SNAP_ASSIGN_OR_RETURN(gc::PackEntries e, gc::ReadPackEntries(repo_.objects(), key));
      SNAP_RETURN_IF_ERROR(repo_.IndexPack(id, e.entries));
    }
    report_.new_packs = written->size();
    report_.new_bytes = repacker.written_bytes();
    return Status::OK();
  }

  ReplicaRepo& repo_;
  const ReplicaGcOptions& opts_;
  ReplicaGcReport report_;
  std::unique_ptr<gc::ScratchDir> scratch_dir_;
  std::unique_ptr<gc::ScratchIndex> scratch_;
};

}  // namespace

Result<ReplicaGcReport> CollectReplicaGarbage(ReplicaRepo& repo, const ReplicaGcOptions& opts) {
  if (!(opts.max_repack_ratio >= 0 && opts.max_repack_ratio <= 1))
    return Status::InvalidArgument("--max-repack-ratio must be from 0 to 1");
  return ReplicaCollector(repo, opts).Run();
}

}  // namespace snap::replicator::server

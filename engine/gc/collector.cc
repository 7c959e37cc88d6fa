// CollectGarbage: one gc run (engine/gc.h; FORMAT.md "Garbage collection").
//
// Order matters for safety: the writer locks are listed before the
// snapshots, so a writer either still shows its lock (and holds back what
// it may have reused) or has committed a snapshot this run marks. Packs are
// listed after the snapshots, so every chunk a listed snapshot needs is in a
// listed pack.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>

#include "engine/codec/crypto.h"
#include "engine/gc.h"
#include "engine/gc/gc_record.h"
#include "engine/gc/lock.h"
#include "engine/gc/marker.h"
#include "engine/gc/pack_footer.h"
#include "engine/gc/plan.h"
#include "engine/gc/repacker.h"
#include "engine/repo/config.h"
#include "engine/repo/snapshot_object.h"

namespace snap::engine {
namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

uint32_t RandomU32() {
  uint32_t v = 0;
  codec::RandomBytes(MutableByteSpan(reinterpret_cast<std::byte*>(&v), sizeof v));
  return v;
}

std::vector<index::PackId> PacksOf(const std::vector<gc::PlannedPack>& list) {
  std::vector<index::PackId> out;
  for (const gc::PlannedPack& p : list) out.push_back(p.pack);
  return out;
}

uint64_t BytesOf(const std::vector<gc::PlannedPack>& list) {
  uint64_t n = 0;
  for (const gc::PlannedPack& p : list) n += p.size;
  return n;
}

class Collector {
 public:
  Collector(store::ObjectStore& store, const GcOptions& opts, uint64_t target_size)
      : store_(store), opts_(opts), target_size_(target_size) {}

  Result<GcReport> Run() {
    if (!opts_.dry_run) {
      SNAP_ASSIGN_OR_RETURN(gc_lock_, gc::HeldLock::AcquireGc(&store_));
    }
    SNAP_ASSIGN_OR_RETURN(scratch_dir_, gc::ScratchDir::Create(opts_.scratch_dir));
    SNAP_ASSIGN_OR_RETURN(std::unique_ptr<index::KvStore> kv, scratch_dir_->OpenKv());
    scratch_ = std::make_unique<gc::ScratchIndex>(std::move(kv));
    SNAP_ASSIGN_OR_RETURN(std::vector<gc::NamedGcRecord> records, gc::ReadGcRecords(store_));
    SNAP_RETURN_IF_ERROR(LoadLocks());
    LoadPending(records);
    SNAP_ASSIGN_OR_RETURN(std::vector<ChunkId> roots, SnapshotRoots());
    SNAP_RETURN_IF_ERROR(Inventory());
    gc::Marker marker(&store_, scratch_.get());
    marker.progress = [&](uint64_t n) { Progress("marking", n, 0); };
    SNAP_RETURN_IF_ERROR(marker.Run(roots));
    report_.live_chunks = marker.marked();
    in_.scratch = scratch_.get();
    in_.max_repack_ratio = opts_.max_repack_ratio;
    SNAP_ASSIGN_OR_RETURN(gc::GcPlan plan, gc::MakePlan(in_));
    Summarize(plan);
    if (!opts_.dry_run) SNAP_RETURN_IF_ERROR(Execute(plan));
    scratch_.reset();  // before its directory goes
    return report_;
  }

 private:
  void Progress(const std::string& step, uint64_t done, uint64_t total) {
    if (opts_.progress) opts_.progress(step, done, total);
  }

  Status LoadLocks() {
    now_ = NowNs();
    SNAP_ASSIGN_OR_RETURN(std::vector<gc::FoundLock> locks, gc::ListLocks(store_, now_));
    for (const gc::FoundLock& l : locks) {
      if (l.readable && l.info.kind == gc::LockKind::kGc) continue;  // ours: runs are serialized
      if (l.stale) {
        report_.notes.push_back(l.key + ": stale lock ignored (" + l.why_stale + ")");
      } else if (!l.readable) {
        // Who knows what it protects: hold every deletion back.
        unreadable_lock_ = true;
        report_.notes.push_back(l.key + ": unreadable lock (" + l.why_stale +
                                "); nothing is deleted until it is removed");
      } else {
        writers_.push_back(l.info);
      }
    }
    return Status::OK();
  }

  // A record's packs may go once the grace period is over and every live
  // writer has applied the record (so hides its packs from reuse).
  bool Eligible(const gc::NamedGcRecord& r, std::string* why) const {
    if (r.record.time_ns + opts_.grace_ns > now_) {
      *why = "the grace period";
      return false;
    }
    if (unreadable_lock_) {
      *why = "an unreadable lock";
      return false;
    }
    for (const gc::LockInfo& w : writers_) {
      if (w.HasSeen(r.key)) continue;
      *why = std::string(w.state == gc::LockState::kStarting ? "a snapshot that is starting"
                                                              : "a snapshot that started before it") +
             " (pid " + std::to_string(w.pid) + " on " + w.host + ")";
      return false;
    }
    return true;
  }

  void LoadPending(const std::vector<gc::NamedGcRecord>& records) {
    for (const gc::NamedGcRecord& r : records) {
      std::string why;
      bool eligible = Eligible(r, &why);
      newest_record_ns_ = std::max(newest_record_ns_, r.record.time_ns);
      for (const index::PackId& p : r.record.condemned)
        in_.pending[p] = {gc::PendingKind::kCondemned, r.key, eligible};
      for (const index::PackId& p : r.record.replaced)
        in_.pending[p] = {gc::PendingKind::kReplaced, r.key, eligible};
      for (const index::PackId& p : r.record.deleted) in_.pending.erase(p);
      for (const index::PackId& p : r.record.restored) in_.pending.erase(p);
      for (const index::PackId& p : r.record.added) in_.added.insert(p);
      if (!eligible) waiting_why_[r.key] = why;
    }
  }

  Result<std::vector<ChunkId>> SnapshotRoots() {
    std::vector<std::string> keys;
    SNAP_RETURN_IF_ERROR(store_.List("snapshots/", [&](std::string_view key, uint64_t) {
      keys.emplace_back(key);
      return Status::OK();
    }));
    std::vector<ChunkId> roots;
    for (const std::string& key : keys) {
      Result<Buffer> bytes = store_.Get(key);
      if (bytes.status().IsNotFound()) continue;  // forgotten meanwhile
      if (!bytes.ok()) return bytes.status();
      Result<repo::SnapshotObject> obj = repo::SnapshotObject::Decode(*bytes);
      if (!obj.ok())
        return obj.status().WithContext(key + " (its chunks cannot be told apart; gc stops; "
                                              "run `snapctl check`)");
      roots.insert(roots.end(), obj->refs.begin(), obj->refs.end());
      report_.snapshots++;
    }
    return roots;
  }

  Status Inventory() {
    uint64_t done = 0;
    return store_.List("packs/", [&](std::string_view key, uint64_t size) -> Status {
      std::optional<index::PackId> id = gc::PackIdOfKey(key);
      if (!id) return Status::OK();  // not a pack's name: not ours to judge
      Result<gc::PackEntries> e = gc::ReadPackEntries(store_, std::string(key), size);
      if (e.status().IsNotFound()) return Status::OK();
      if (!e.ok()) {
        report_.notes.push_back(std::string(key) + ": unreadable (" + e.status().message() + ")");
        e = gc::PackEntries{{}, false};
      }
      Progress("reading packs", ++done, 0);
      return scratch_->AddPack(*id, size, e->complete, e->entries);
    });
  }

  void Summarize(const gc::GcPlan& plan) {
    report_.packs = plan.packs;
    report_.pack_bytes = plan.pack_bytes;
    report_.live_bytes = plan.live_bytes;
    report_.condemned_packs = plan.condemn.size();
    report_.condemned_bytes = BytesOf(plan.condemn);
    report_.deleted_packs = plan.remove.size();
    report_.deleted_bytes = BytesOf(plan.remove);
    report_.repacked_packs = plan.repack.size();
    report_.repacked_bytes = BytesOf(plan.repack);
    for (const gc::PlannedPack& p : plan.repack) report_.new_bytes += p.live_bytes;  // estimate
    report_.restored_packs = plan.restore.size();
    report_.waiting_packs = plan.waiting.size();
    report_.waiting_bytes = BytesOf(plan.waiting);
    report_.incomplete_packs = plan.incomplete.size();
    std::map<std::string, int> waiting;
    for (const gc::PlannedPack& p : plan.waiting) waiting[in_.pending.at(p.pack).record]++;
    for (const auto& [record, n] : waiting)
      report_.notes.push_back(std::to_string(n) + " packs of " + record + " wait for " +
                              waiting_why_[record]);
    for (const gc::PlannedPack& p : plan.incomplete)
      report_.notes.push_back(Repository::PackKey(p.pack) +
                              ": damaged, left alone (run `snapctl check --read-data`)");
  }

  Status Execute(const gc::GcPlan& plan) {
    gc::GcRecord record;
    record.condemned = PacksOf(plan.condemn);
    record.restored = PacksOf(plan.restore);
    record.deleted = PacksOf(plan.remove);
    record.deleted.insert(record.deleted.end(), plan.vanished.begin(), plan.vanished.end());
    SNAP_RETURN_IF_ERROR(Repack(plan, &record));
    if (!record.Empty()) SNAP_RETURN_IF_ERROR(WriteRecord(&record));
    // Only after the record: a writer opening from now on learns of it.
    uint64_t done = 0;
    for (const gc::PlannedPack& p : plan.remove) {
      Progress("deleting", ++done, plan.remove.size());
      SNAP_RETURN_IF_ERROR(store_.Delete(Repository::PackKey(p.pack)));
    }
    return RemoveTempFiles();
  }

  // Temp files that writers which crashed left behind (FORMAT.md "Object
  // store layout"). A snapshot writer creates its temp files after it took
  // its lock, and an upload's file is modified with every piece; writers
  // without a lock (a repair, a lock's own temp file) are covered by the
  // grace period. The margin covers coarse file times and other hosts'
  // clocks. The collection is done by now: a failure here is a note.
  Status RemoveTempFiles() {
    if (unreadable_lock_) return Status::OK();
    constexpr int64_t kClockMarginNs = int64_t{10} * 1000000000;
    int64_t before = now_ - opts_.grace_ns - kClockMarginNs;
    for (const gc::LockInfo& w : writers_)
      before = std::min(before, w.start_ns - opts_.grace_ns - kClockMarginNs);
    for (const char* prefix : {"packs/", "snapshots/", "gc/", "keys/", "locks/"}) {
      Result<uint64_t> n = store_.RemoveTempFiles(prefix, before);
      if (!n.ok()) {
        report_.notes.push_back(std::string(prefix) + ": temp files not removed (" +
                                n.status().message() + ")");
        continue;
      }
      report_.temp_files_removed += *n;
    }
    return Status::OK();
  }

  Status Repack(const gc::GcPlan& plan, gc::GcRecord* record) {
    gc::Repacker repacker(&store_, scratch_.get(), target_size_);
    report_.repacked_packs = report_.repacked_bytes = 0;
    uint64_t done = 0;
    for (const gc::PlannedPack& p : plan.repack) {
      Progress("repacking", ++done, plan.repack.size());
      SNAP_ASSIGN_OR_RETURN(bool copied, repacker.Add(p.pack));
      if (!copied) {
        report_.notes.push_back(Repository::PackKey(p.pack) +
                                ": a live frame does not verify; not repacked (run `snapctl "
                                "check --read-data`)");
        continue;
      }
      record->replaced.push_back(p.pack);
      report_.repacked_packs++;
      report_.repacked_bytes += p.size;
    }
    SNAP_RETURN_IF_ERROR(repacker.Finish());
    record->added = repacker.written();
    report_.new_packs = record->added.size();
    report_.new_bytes = repacker.written_bytes();
    return Status::OK();
  }

  Status WriteRecord(gc::GcRecord* record) {
    // Keys must grow from run to run even if the clock steps back: a writer
    // that has seen a key has seen every record before it.
    record->time_ns = std::max(NowNs(), newest_record_ns_ + 1);
    std::string key = gc::GcRecordKey(record->time_ns, RandomU32());
    Buffer bytes;
    record->EncodeTo(&bytes);
    SNAP_RETURN_IF_ERROR(store_.PutIfAbsent(key, bytes).status());
    report_.record = key;
    return Status::OK();
  }

  store::ObjectStore& store_;
  const GcOptions& opts_;
  const uint64_t target_size_;
  GcReport report_;
  std::unique_ptr<gc::HeldLock> gc_lock_;
  std::unique_ptr<gc::ScratchDir> scratch_dir_;
  std::unique_ptr<gc::ScratchIndex> scratch_;
  gc::PlanInputs in_;
  int64_t now_ = 0;
  int64_t newest_record_ns_ = 0;
  bool unreadable_lock_ = false;
  std::vector<gc::LockInfo> writers_;
  std::map<std::string, std::string> waiting_why_;
};

}  // namespace

Result<GcReport> CollectGarbage(store::ObjectStore& store, const GcOptions& opts) {
  Result<Buffer> config_bytes = store.Get("config");
  if (!config_bytes.ok())
    return config_bytes.status().WithContext("not a snapctl repository (no config)");
  SNAP_ASSIGN_OR_RETURN(repo::Config config, repo::Config::Decode(*config_bytes));
  return Collector(store, opts, config.pack_target_size).Run();
}

Result<GcReport> CollectGarbage(const std::string& dir, const GcOptions& opts) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    return Status::NotFound(dir + ": no such repository");
  SNAP_ASSIGN_OR_RETURN(std::unique_ptr<store::ObjectStore> store, store::OpenLocalStore(dir));
  return CollectGarbage(*store, opts);
}

}  // namespace snap::engine

#include "replicator/server/replica_check.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "engine/repo/snapshot_object.h"
#include "engine/repository.h"
#include "replicator/server/replica_check_frames.h"

namespace snap::replicator::server {
namespace {

namespace pack = engine::pack;

// As the client's push walk: deeper refs are corrupt (or loop).
constexpr int kMaxWalkDepth = 4096;

class Checker {
 public:
  Checker(ReplicaRepo& repo, const ReplicaCheckOptions& opts, ReplicaCheckReport* report)
      : repo_(repo), opts_(opts), report_(report) {}

  Status Run() {
    SNAP_RETURN_IF_ERROR(index_.Load(repo_));
    std::vector<std::pair<std::string, uint64_t>> packs;
    SNAP_RETURN_IF_ERROR(repo_.store().List("packs/", [&](std::string_view key, uint64_t size) {
      packs.emplace_back(std::string(key), size);
      return Status::OK();
    }));
    report_->packs = packs.size();
    MarkMissingPacks(index_, packs, &verdicts_);
    if (opts_.read_data) VerifyPacks(repo_, index_, packs, &verdicts_);
    SNAP_ASSIGN_OR_RETURN(std::vector<ChunkId> marked, repo_.AwaitingResend());
    SNAP_ASSIGN_OR_RETURN(std::vector<protocol::SnapshotList::Entry> snapshots,
                          repo_.ListSnapshots());
    report_->snapshots = snapshots.size();
    for (const auto& s : snapshots)  // a mark without a record (forgotten since) is moot
      if (std::binary_search(marked.begin(), marked.end(), s.id))
        report_->awaiting_resend.push_back(s.id);
    std::sort(report_->awaiting_resend.begin(), report_->awaiting_resend.end());
    for (const auto& s : snapshots) CheckSnapshot(s.id);
    SweepUnreached();
    Finish();
    if (opts_.repair) SNAP_RETURN_IF_ERROR(Repair());
    return Status::OK();
  }

 private:
  void CheckSnapshot(const ChunkId& id) {
    std::string key = engine::Repository::SnapshotKey(id);
    Result<std::optional<Buffer>> object = repo_.GetSnapshot(id);
    std::string problem;
    std::vector<ChunkId> roots;
    if (!object.ok()) {
      problem = key + ": " + object.status().message();
    } else if (!*object) {
      problem = key + " is missing";
    } else {
      Result<engine::repo::SnapshotObject> o = engine::repo::SnapshotObject::Decode(**object);
      if (o.ok()) {
        roots = std::move(o->refs);
      } else {
        problem = key + ": " + o.status().message();
        damaged_objects_.push_back(id);
      }
    }
    if (!problem.empty()) {
      report_->snapshot_objects.push_back({id, problem});
      incomplete_.insert(id);
      return;
    }
    bool whole = true;
    for (const ChunkId& root : roots) whole = Visit(root, 1) && whole;
    if (whole) return;
    incomplete_.insert(id);
    Blame(id, roots);
  }

  // Whether `id` is held complete: indexed, its frame sound, and every ref
  // held complete. Memoized; records what is itself missing or damaged in
  // damage_ and the refs of incomplete objects in bad_refs_.
  bool Visit(const ChunkId& id, int depth) {
    if (auto it = complete_.find(id); it != complete_.end()) return it->second;
    const Where* w = index_.Find(id);
    if (!w || depth > kMaxWalkDepth) {
      damage_[id] = w ? "refs nest deeper than 4096 levels (they loop)" : "not in the index";
      complete_[id] = false;
      return false;
    }
    complete_[id] = true;  // while below it: a loop ends here (and fails the depth bound)
    report_->objects++;
    std::vector<ChunkId> refs;
    if (std::optional<std::string> problem = Verify(id, *w, &refs)) {
      damage_[id] = *problem;
      complete_[id] = false;
      return false;
    }
    bool whole = true;
    for (const ChunkId& ref : refs) whole = Visit(ref, depth + 1) && whole;
    if (!whole) {
      complete_[id] = false;
      bad_refs_[id] = std::move(refs);
    }
    return whole;
  }

  // The frame's problem, if any; its refs otherwise. A frame with refs is
  // read whole (its refs are needed), a leaf by its header unless the
  // pack pass already read it whole.
  std::optional<std::string> Verify(const ChunkId& id, const Where& w, std::vector<ChunkId>* refs) {
    if (auto it = verdicts_.damaged.find(id); it != verdicts_.damaged.end()) return it->second;
    if (opts_.read_data) {
      if (!verdicts_.with_refs.count(id)) return std::nullopt;
    } else if (!MayHaveRefs(w)) {
      uint32_t ref_count = 0;
      if (std::optional<std::string> p = VerifyHeader(repo_, index_, id, w, &ref_count)) return p;
      if (ref_count == 0) return std::nullopt;
    }
    Result<Buffer> frame = repo_.ReadFrameAt(index_.Location(id, w));
    if (!frame.ok()) return ReadProblem(frame.status(), index_.PackKey(w));
    Result<pack::DecodedFrame> f = pack::DecodeFrame(*frame);
    if (!f.ok()) return f.status().message();
    if (std::optional<std::string> p = IndexDisagrees(f->header, w))
      return index_.PackKey(w) + " @" + std::to_string(w.offset) + ": " + *p;
    *refs = std::move(f->header.refs);
    return std::nullopt;
  }

  // Every damaged or missing object below `roots` that `snapshot` needs.
  // Follows incomplete objects only: a handful, whatever the snapshot's size.
  void Blame(const ChunkId& snapshot, const std::vector<ChunkId>& roots) {
    std::unordered_set<ChunkId, engine::ChunkIdHash> seen;
    std::vector<ChunkId> todo(roots.begin(), roots.end());
    while (!todo.empty()) {
      ChunkId id = todo.back();
      todo.pop_back();
      auto c = complete_.find(id);
      if (c == complete_.end() || c->second || !seen.insert(id).second) continue;
      if (damage_.count(id)) needed_by_[id].insert(snapshot);
      if (auto r = bad_refs_.find(id); r != bad_refs_.end())
        todo.insert(todo.end(), r->second.begin(), r->second.end());
    }
  }

  // Indexed objects with refs that no snapshot reaches (a push cut short
  // leaves them) answer HAVE too, so they must be whole as well; and a
  // damaged leaf the walk did not reach (its parent is damaged too, or no
  // snapshot needs it) still answers "held".
  void SweepUnreached() {
    index_.ForEach([&](const ChunkId& id, const Where& w) {
      bool refs = MayHaveRefs(w) || verdicts_.with_refs.count(id);
      if (refs && !complete_.count(id)) Visit(id, 1);
    });
    for (const auto& [id, problem] : verdicts_.damaged) {
      if (complete_.count(id)) continue;
      damage_[id] = problem;
      complete_[id] = false;
    }
  }

  void Finish() {
    for (const auto& [id, problem] : damage_) {
      ChunkDamage d;
      d.id = id;
      d.problem = problem;
      if (const Where* w = index_.Find(id)) d.kind = KindName(w->kind);
      if (auto n = needed_by_.find(id); n != needed_by_.end())
        d.snapshots.assign(n->second.begin(), n->second.end());
      report_->chunks.push_back(std::move(d));
    }
    report_->incomplete.assign(incomplete_.begin(), incomplete_.end());
    report_->packs_read = verdicts_.packs_read;
    report_->bytes_read = verdicts_.bytes_read;
    report_->notes = verdicts_.notes;
  }

  // Forgets every incomplete indexed object, so a HAVE answers no for it
  // and its client sends it again; marks the snapshots that need them.
  Status Repair() {
    std::vector<ChunkId> unindex;
    for (const auto& [id, whole] : complete_)
      if (!whole && index_.Find(id)) unindex.push_back(id);
    std::sort(unindex.begin(), unindex.end());
    SNAP_RETURN_IF_ERROR(repo_.MarkForResend(unindex, report_->incomplete, damaged_objects_));
    report_->unindexed = unindex.size();
    report_->marked = report_->incomplete.size();
    report_->objects_deleted = damaged_objects_.size();
    return Status::OK();
  }

  ReplicaRepo& repo_;
  const ReplicaCheckOptions& opts_;
  ReplicaCheckReport* report_;
  IndexCopy index_;
  PackVerdicts verdicts_;
  std::unordered_map<ChunkId, bool, engine::ChunkIdHash> complete_;  // walked
  std::unordered_map<ChunkId, std::vector<ChunkId>, engine::ChunkIdHash> bad_refs_;
  std::map<ChunkId, std::string> damage_;  // missing or damaged itself
  std::map<ChunkId, std::set<ChunkId>> needed_by_;
  std::set<ChunkId> incomplete_;          // snapshots
  std::vector<ChunkId> damaged_objects_;  // snapshot objects that do not decode
};

}  // namespace

Result<ReplicaCheckReport> CheckReplicaRepo(ReplicaRepo& repo, const ReplicaCheckOptions& opts) {
  ReplicaCheckReport report;
  Checker checker(repo, opts, &report);
  SNAP_RETURN_IF_ERROR(checker.Run().WithContext("repository " + repo.id_hex()));
  return report;
}

}  // namespace snap::replicator::server

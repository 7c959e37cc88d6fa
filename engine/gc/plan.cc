#include "engine/gc/plan.h"

namespace snap::engine::gc {
namespace {

class Planner {
 public:
  explicit Planner(const PlanInputs& in) : in_(in) {}

  Result<GcPlan> Run() {
    Status failed;
    SNAP_RETURN_IF_ERROR(in_.scratch->ForEachPack([&](const PackSummary& s) {
      failed = Decide(s);
      return failed.ok();
    }));
    SNAP_RETURN_IF_ERROR(failed);
    for (const auto& [pack, p] : in_.pending) {
      SNAP_ASSIGN_OR_RETURN(bool present, in_.scratch->HasPack(pack));
      if (!present) plan_.vanished.push_back(pack);
    }
    return std::move(plan_);
  }

 private:
  Status Decide(const PackSummary& s) {
    SNAP_ASSIGN_OR_RETURN(std::vector<pack::PackEntry> entries, in_.scratch->EntriesOf(s.pack));
    PlannedPack p{s.pack, s.size, 0};
    std::vector<ChunkId> live;
    uint64_t frame_bytes = 0;
    for (const pack::PackEntry& e : entries) {
      frame_bytes += e.length;
      SNAP_ASSIGN_OR_RETURN(bool marked, in_.scratch->IsMarked(e.id));
      if (!marked) continue;
      p.live_bytes += e.length;
      live.push_back(e.id);
    }
    plan_.packs++;
    plan_.pack_bytes += s.size;
    plan_.live_bytes += p.live_bytes;
    if (!s.complete) return Add(&plan_.incomplete, p);
    auto pending = in_.pending.find(s.pack);
    if (pending != in_.pending.end()) return DecidePending(pending->second, p, live);
    if (live.empty()) return Add(&plan_.condemn, p);
    // The share of the frames, not of the file: a small pack's footer is
    // no reason to copy it.
    if (static_cast<double>(p.live_bytes) <
        in_.max_repack_ratio * static_cast<double>(frame_bytes))
      return Add(&plan_.repack, p);
    return Status::OK();
  }

  Status DecidePending(const PendingPack& pending, const PlannedPack& p,
                       const std::vector<ChunkId>& live) {
    if (!pending.eligible) return Add(&plan_.waiting, p);
    bool dead = live.empty();
    if (!dead && pending.kind == PendingKind::kReplaced) {
      SNAP_ASSIGN_OR_RETURN(dead, AllCopiedElsewhere(p.pack, live));
    }
    return Add(dead ? &plan_.remove : &plan_.restore, p);
  }

  // Whether each chunk has a copy in a pack a record added that stays:
  // writers that applied the records point at those copies, and readers
  // find them through the records. Packs replaced in turn do not count.
  Result<bool> AllCopiedElsewhere(const PackId& pack, const std::vector<ChunkId>& live) {
    for (const ChunkId& id : live) {
      SNAP_ASSIGN_OR_RETURN(std::vector<ChunkCopy> copies, in_.scratch->CopiesOf(id));
      bool found = false;
      for (const ChunkCopy& c : copies) {
        if (c.pack == pack || !in_.added.count(c.pack)) continue;
        auto other = in_.pending.find(c.pack);
        if (other == in_.pending.end()) found = true;
        if (found) break;
      }
      if (!found) return false;
    }
    return true;
  }

  static Status Add(std::vector<PlannedPack>* list, const PlannedPack& p) {
    list->push_back(p);
    return Status::OK();
  }

  const PlanInputs& in_;
  GcPlan plan_;
};

}  // namespace

Result<GcPlan> MakePlan(const PlanInputs& in) { return Planner(in).Run(); }

}  // namespace snap::engine::gc

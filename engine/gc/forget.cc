// PlanForget / ApplyForget: the retention policy over the repository's
// snapshots (engine/gc.h).
#include "engine/gc.h"

namespace snap::engine {

Result<std::vector<ForgetItem>> PlanForget(const Repository& repo, const gc::RetentionPolicy& policy,
                                           const gc::RetentionSelection& selection) {
  if (policy.Empty())
    return Status::InvalidArgument("no --keep-* rule given; forget would remove every snapshot");
  SNAP_ASSIGN_OR_RETURN(std::vector<Repository::SnapshotInfo> all, repo.ListSnapshots());
  std::vector<gc::RetentionItem> items;
  items.reserve(all.size());
  for (const Repository::SnapshotInfo& s : all) {
    gc::RetentionItem item{s.id, s.record.time_ns, s.record.host, {}, s.record.tags};
    for (const snapshot::SourceRecord& src : s.record.sources) item.sources.push_back(src.name);
    items.push_back(std::move(item));
  }
  std::vector<gc::RetentionDecision> decisions = gc::ApplyRetention(items, policy, selection);
  std::vector<ForgetItem> plan;
  plan.reserve(all.size());
  for (size_t i = 0; i < all.size(); ++i)
    plan.push_back({std::move(all[i]), std::move(decisions[i])});
  return plan;
}

Result<size_t> ApplyForget(Repository& repo, const std::vector<ForgetItem>& plan) {
  size_t removed = 0;
  for (const ForgetItem& item : plan) {
    if (item.decision.keep) continue;
    Status s = repo.ForgetSnapshot(item.snapshot);
    if (!s.ok()) return s.WithContext("forget " + item.snapshot.id.ShortHex());
    removed++;
  }
  return removed;
}

}  // namespace snap::engine

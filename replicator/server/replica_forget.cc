#include "replicator/server/replica_forget.h"

namespace snap::replicator::server {

size_t ReplicaForgetPlan::kept() const {
  size_t n = 0;
  for (const ReplicaForgetItem& i : items) n += i.decision.keep ? 1 : 0;
  return n;
}

size_t ReplicaForgetPlan::removed() const { return items.size() - kept(); }

Result<ReplicaForgetPlan> PlanReplicaForget(const ReplicaRepo& repo,
                                            const engine::gc::RetentionPolicy& policy) {
  if (policy.Empty())
    return Status::InvalidArgument("no --keep-* rule given; forget would remove every snapshot");
  ReplicaForgetPlan plan;
  SNAP_ASSIGN_OR_RETURN(std::vector<protocol::SnapshotList::Entry> listed, repo.ListSnapshots());
  std::vector<engine::gc::RetentionItem> items;
  items.reserve(listed.size());
  for (const protocol::SnapshotList::Entry& s : listed) {
    // The receive time; no host, sources or tags: one group per repository.
    engine::gc::RetentionItem item;
    item.id = s.id;
    item.time_ns = s.received_ns;
    items.push_back(std::move(item));
  }
  std::vector<engine::gc::RetentionDecision> decisions = engine::gc::ApplyRetention(items, policy);
  for (size_t i = 0; i < listed.size(); ++i)
    plan.items.push_back({listed[i], std::move(decisions[i])});
  SNAP_ASSIGN_OR_RETURN(plan.unlisted, repo.UnlistedSnapshots());
  return plan;
}

Result<size_t> ApplyReplicaForget(ReplicaRepo& repo, const ReplicaForgetPlan& plan) {
  for (const ChunkId& id : plan.unlisted)
    SNAP_RETURN_IF_ERROR(repo.ForgetSnapshot(id).WithContext("unlisted snapshot " + id.ShortHex()));
  size_t removed = 0;
  for (const ReplicaForgetItem& item : plan.items) {
    if (item.decision.keep) continue;
    SNAP_RETURN_IF_ERROR(
        repo.ForgetSnapshot(item.snapshot.id).WithContext("forget " + item.snapshot.id.ShortHex()));
    removed++;
  }
  return removed;
}

}  // namespace snap::replicator::server

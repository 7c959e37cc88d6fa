// Retention on the replica (`replicad forget`; FORMAT.md "Replica retention
// and gc"): the engine's retention rules (engine/gc/retention.h), applied
// to the time the replica RECEIVED each snapshot (its `r` record), never
// the time the client's record claims: a compromised client cannot date
// new snapshots in the past to get the good ones pruned. The replica cannot
// read a record anyway when the repository is encrypted, so hosts, sources
// and tags are unknown here: a repository is one group.
//
// Forgetting removes a snapshot from the listing (its `r` record, synced)
// and then its object; `replicad gc` reclaims the packs afterwards.
#pragma once

#include <vector>

#include "engine/gc/retention.h"
#include "replicator/server/replica_repo.h"

namespace snap::replicator::server {

struct ReplicaForgetItem {
  protocol::SnapshotList::Entry snapshot;  // id, received_ns, size
  engine::gc::RetentionDecision decision;  // keep, and the rules that keep it
};

struct ReplicaForgetPlan {
  std::vector<ReplicaForgetItem> items;  // every listed snapshot, oldest received first
  // Objects without an `r` record (a forget or a commit cut short): they
  // are not listed, so no rule keeps them; applying the plan removes them.
  std::vector<ChunkId> unlisted;
  size_t kept() const;
  size_t removed() const;  // listed ones the policy does not keep
};

// What `policy` decides for each snapshot the repository lists.
// InvalidArgument when the policy has no rule (it would remove every
// snapshot).
Result<ReplicaForgetPlan> PlanReplicaForget(const ReplicaRepo& repo,
                                            const engine::gc::RetentionPolicy& policy);

// Forgets what the plan does not keep, and the unlisted objects. Returns
// how many listed snapshots were forgotten. REQUIRES: as
// ReplicaRepo::ForgetSnapshot (the repository opened alone, with its lock).
Result<size_t> ApplyReplicaForget(ReplicaRepo& repo, const ReplicaForgetPlan& plan);

}  // namespace snap::replicator::server

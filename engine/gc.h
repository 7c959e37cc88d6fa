// Retention and garbage collection (DESIGN.md "Retention and garbage
// collection"; the safety argument is FORMAT.md "Garbage collection").
//
// `forget` removes snapshot objects by a retention policy (gc/retention.h);
// `gc` then reclaims the packs no remaining snapshot needs. Neither takes a
// repository-wide lock: a snapshot, a replication or a restore may run at
// the same time, in another process.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/gc/retention.h"
#include "engine/repository.h"
#include "engine/result.h"
#include "engine/store/object_store.h"

namespace snap::engine {

// ---- forget ----

struct ForgetItem {
  Repository::SnapshotInfo snapshot;
  gc::RetentionDecision decision;
};

// Every snapshot (oldest first) with what `policy` decides for it.
// InvalidArgument when the policy has no rule: it would remove every
// selected snapshot.
Result<std::vector<ForgetItem>> PlanForget(const Repository& repo, const gc::RetentionPolicy& policy,
                                           const gc::RetentionSelection& selection);
// Forgets the snapshots the plan does not keep (Repository::ForgetSnapshot:
// works while another process holds the index). Returns how many.
Result<size_t> ApplyForget(Repository& repo, const std::vector<ForgetItem>& plan);

// ---- gc ----

struct GcOptions {
  bool dry_run = false;  // decide and report; write and delete nothing
  // Packs whose live share of bytes is below this are repacked; 0: never.
  double max_repack_ratio = 0.5;
  // A record's condemned packs are deleted by a later run only once the
  // record is this old (and older than every live writer).
  int64_t grace_ns = int64_t{3600} * 1000000000;
  std::string scratch_dir;  // parent of the mark set's scratch RocksDB; "" = $TMPDIR
  // Called with a step ("reading packs", "marking", ...) and its progress;
  // total 0 when unknown.
  std::function<void(const std::string& step, uint64_t done, uint64_t total)> progress;
};

struct GcReport {
  uint64_t snapshots = 0;
  uint64_t packs = 0, pack_bytes = 0;  // in the store when the run began
  uint64_t live_chunks = 0, live_bytes = 0;
  uint64_t condemned_packs = 0, condemned_bytes = 0;  // a later run deletes them
  uint64_t deleted_packs = 0, deleted_bytes = 0;      // reclaimed now
  uint64_t repacked_packs = 0, repacked_bytes = 0;    // replaced: a later run deletes them
  uint64_t new_packs = 0, new_bytes = 0;              // written by repacking
  uint64_t restored_packs = 0;                        // condemned earlier, live again
  uint64_t waiting_packs = 0, waiting_bytes = 0;      // condemned earlier, not yet deletable
  uint64_t incomplete_packs = 0;                      // damaged: left alone
  uint64_t temp_files_removed = 0;  // left by writers that crashed (not in a dry run)
  std::string record;  // key of the gc record written; "" when none
  // Why pending packs wait (grace period, a live writer), stale or
  // unreadable locks, damaged packs.
  std::vector<std::string> notes;
};

// Runs gc on the repository in `dir` (the local store; no key and no index
// needed). Unavailable when another gc holds locks/gc.
Result<GcReport> CollectGarbage(const std::string& dir, const GcOptions& opts);
// The same over any object store holding a repository.
Result<GcReport> CollectGarbage(store::ObjectStore& store, const GcOptions& opts);

}  // namespace snap::engine

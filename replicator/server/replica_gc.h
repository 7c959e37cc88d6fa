// Garbage collection on the replica (`replicad gc`; FORMAT.md "Replica
// retention and gc"): reclaims the packs no listed snapshot needs, with the
// engine's gc pieces (engine/gc/: the scratch index, the mark over clear
// refs, the plan, the repacker), so no key is needed and no payload opened.
//
// The repository is held alone (its lock, repo_lock.h) for the whole run,
// so unlike the engine's gc it needs no records, generations or grace
// period: what it finds dead it deletes at once. A chunk is live when a
// listed snapshot reaches it through clear refs (tree children, stream
// lists, delta bases); of a live chunk only the copy the index points at
// counts, so stray copies (a pack written by a push or a repack cut before
// its index batch) are reclaimed too.
//
// Order: unlisted snapshot objects removed (a forget cut short); marked;
// new packs written and indexed; every location in a doomed pack dropped;
// then the doomed packs deleted; last, the temp files crashed writers left
// (no writer runs while the lock is held, so every one is garbage). A crash
// anywhere leaves the index pointing only at packs that exist, and the next
// run finishes the work.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "replicator/server/replica_repo.h"

namespace snap::replicator::server {

struct ReplicaGcOptions {
  bool dry_run = false;  // decide and report; change nothing
  // Packs whose live share of frame bytes is below this are repacked; 0: never.
  double max_repack_ratio = 0.5;
  std::string scratch_dir;  // parent of the mark set's scratch RocksDB; "" = $TMPDIR
  // Called with a step ("reading packs", "marking", ...) and its progress;
  // total 0 when unknown.
  std::function<void(const std::string& step, uint64_t done, uint64_t total)> progress;
};

struct ReplicaGcReport {
  uint64_t snapshots = 0;           // listed: the roots of the mark
  uint64_t unlisted_snapshots = 0;  // objects without an `r` record, removed
  uint64_t packs = 0, pack_bytes = 0;
  uint64_t live_chunks = 0, live_bytes = 0;
  uint64_t stray_frames = 0;                        // frames the index does not point at
  uint64_t deleted_packs = 0, deleted_bytes = 0;    // nothing live in them
  uint64_t repacked_packs = 0, repacked_bytes = 0;  // live frames copied, then deleted
  uint64_t new_packs = 0, new_bytes = 0;            // written by repacking
  uint64_t damaged_packs = 0;                       // left alone
  uint64_t temp_files_removed = 0;  // left by sessions or runs that crashed (not in a dry run)
  std::vector<std::string> notes;
  // What the packs/ directory shrinks by (an estimate in a dry run).
  uint64_t reclaimed_bytes() const {
    return deleted_bytes + repacked_bytes - std::min(new_bytes, deleted_bytes + repacked_bytes);
  }
};

// Runs gc on `repo`. Corruption, before any pack is touched, when a listed
// snapshot's object is missing or damaged, or a chunk it reaches is not
// indexed or its frame does not verify: the mark would be incomplete.
// REQUIRES: as ReplicaRepo::ForgetSnapshot (opened alone, with its lock).
Result<ReplicaGcReport> CollectReplicaGarbage(ReplicaRepo& repo, const ReplicaGcOptions& opts);

}  // namespace snap::replicator::server

// CheckReplicaRepo: verifies one repository a replica holds (`replicad
// check`; FORMAT.md "Replica directory", "Check and repair"), with what a
// replica can read without a key: storage checksums and the frames' clear
// refs, the refs a push is checked against ("Completeness").
//
// Every recorded snapshot is walked from its object down: each ID must be
// indexed, its pack present and holding at the recorded offset a frame
// with that ID (objects with refs are read whole and verified, since their
// refs are needed; leaves by their header). Indexed objects with refs that
// no snapshot reaches are walked too: a HAVE answers for them as well. With
// read_data every pack is read whole and every frame in it verified.
//
// With repair, the incomplete objects (damaged or missing, and every
// indexed object above one) leave the index and the incomplete snapshots
// are marked for re-send, so the owner's next push sends them again
// (ReplicaRepo::MarkForResend).
//
// Reads the index once, at the start; afterwards only packs and snapshot
// objects, which the replica never changes, so a check on a read-only open
// runs beside `replicad serve`. Memory: about 100 bytes per indexed chunk.
// Not thread-safe; one call at a time per repository.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "replicator/server/replica_repo.h"

namespace snap::replicator::server {

struct ReplicaCheckOptions {
  bool read_data = false;  // read every pack whole and verify every frame
  // Unindex what is incomplete and mark the incomplete snapshots for
  // re-send. REQUIRES: the repository was opened read-write and no push
  // session runs on it.
  bool repair = false;
};

// A chunk that is damaged or missing, and the snapshots that need it.
struct ChunkDamage {
  ChunkId id;
  std::string kind;     // "data", "tree", "stream"; empty when not indexed
  std::string problem;  // "not in the index", "packs/ab/ab12… @1234: …"
  // Every snapshot that needs it, in ID order; empty when only objects no
  // snapshot reaches reference it (or nothing does).
  std::vector<ChunkId> snapshots;
};

// A snapshot whose object is missing or does not decode.
struct SnapshotDamage {
  ChunkId id;
  std::string problem;
};

struct ReplicaCheckReport {
  uint64_t snapshots = 0;                   // recorded ('r')
  uint64_t objects = 0;                     // indexed IDs walked
  uint64_t packs = 0;                       // files under packs/
  uint64_t packs_read = 0, bytes_read = 0;  // read_data
  std::vector<ChunkDamage> chunks;          // in ID order
  std::vector<SnapshotDamage> snapshot_objects;
  // Every snapshot that is not whole on the replica, in ID order.
  std::vector<ChunkId> incomplete;
  // Snapshots an earlier repair marked, still waiting for their client.
  std::vector<ChunkId> awaiting_resend;
  // Found but harmless (damaged stale copies the index no longer reads).
  std::vector<std::string> notes;
  // What repair wrote.
  uint64_t unindexed = 0, marked = 0, objects_deleted = 0;

  bool ok() const {
    return chunks.empty() && snapshot_objects.empty() && incomplete.empty() &&
           awaiting_resend.empty();
  }
};

// A Status error means the check could not run (an unreadable index, a
// failed listing, a failed repair write); what it found is in the report.
Result<ReplicaCheckReport> CheckReplicaRepo(ReplicaRepo& repo, const ReplicaCheckOptions& opts);

}  // namespace snap::replicator::server

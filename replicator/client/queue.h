// ReplicationQueue: per peer, the snapshots still to send and how sending
// went (FORMAT.md "Replication state in the index", keyspaces 'q' and 'p').
// A cache in the index: lost with it, `replicate` refills it by comparing
// the replica's snapshot list with the local one. Thread-safe like its
// KvStore.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/index/kv_store.h"

namespace snap::replicator::client {

using engine::ChunkId;
using engine::Result;
using engine::Status;

struct QueueEntry {
  ChunkId snapshot;
  int64_t queued_ns = 0;
  uint32_t attempts = 0;   // failed attempts so far
  std::string last_error;
};

struct PeerState {
  std::optional<ChunkId> last_snapshot;  // newest snapshot the peer confirmed
  int64_t last_success_ns = 0;
  int64_t last_failure_ns = 0;
  uint64_t bytes_sent = 0;  // on the wire, all runs
  std::string last_error;   // empty after a success
};

class ReplicationQueue {
 public:
  explicit ReplicationQueue(engine::index::KvStore* kv) : kv_(kv) {}  // kv outlives this

  // Queues `snapshot` for `peer` unless it is queued already.
  Status Enqueue(const std::string& peer, const ChunkId& snapshot, int64_t now_ns);
  // What is queued for `peer` (in ID order; callers order by snapshot time).
  Result<std::vector<QueueEntry>> Pending(const std::string& peer) const;
  // The peer confirmed `snapshot`: dequeues it.
  Status Done(const std::string& peer, const ChunkId& snapshot);
  // A try failed: counts it and keeps the error with the entry.
  Status Failed(const std::string& peer, const ChunkId& snapshot, const std::string& error);

  Result<PeerState> State(const std::string& peer) const;
  Status PutState(const std::string& peer, const PeerState& state);

 private:
  static std::string QueueKey(const std::string& peer, const ChunkId& snapshot);
  engine::index::KvStore* kv_;
};

}  // namespace snap::replicator::client

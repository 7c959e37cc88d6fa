// Pusher: sends snapshots of a repository to a replica over an open push
// session (DESIGN.md "Replication", FORMAT.md "Replication protocol").
//
// A snapshot goes as a Merkle walk from its source roots down, a level at
// a time: the children of all objects of a level the replica lacks are
// asked about in one HAVE exchange, and what it lacks is sent children
// first, as the frames the packs hold (sealed payloads, never reopened or
// recompressed). A HAVE answered yes ends the walk below that object: the
// replica holds only complete objects. FRAMEs are pipelined; the only waits
// are one HAVE exchange per level of the walk (not per object) and the
// final COMMITTED. Memory: per level of the walk, at most
// kMaxChildrenPerGroup IDs and kMaxHeldBytes of frames, not the snapshot.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "engine/repository.h"
#include "replicator/net/channel.h"
#include "replicator/protocol/messages.h"

namespace snap::replicator::client {

using engine::Result;
using engine::Status;

struct PushStats {
  uint64_t frames_sent = 0, frame_bytes = 0;
  uint64_t have_batches = 0, ids_asked = 0;
  uint64_t have_round_trips = 0;  // HAVE exchanges: batches sent together, then answered
  uint64_t snapshots_created = 0;  // newly recorded by the replica
};

class Pusher {
 public:
  // repo and channel must outlive this; the session's HELLO is done.
  Pusher(const engine::Repository& repo, net::Channel* channel);

  // Sends the repository's config when WELCOME said the replica lacks it.
  Status SendConfig();
  // Sends whatever the replica lacks of snapshot `id`, then the snapshot
  // object; OK once the replica confirmed it. Resumes where an interrupted
  // push stopped (the replica keeps what it accepted).
  Status PushSnapshot(const engine::ChunkId& id);

  const PushStats& stats() const { return stats_; }

 private:
  // Sends, children first, every object of `ids` the replica lacks.
  Status SendMissing(std::vector<engine::ChunkId> ids, int depth);
  // Asks HAVE in batches, all sent before the first reply is read;
  // returns the IDs the replica lacks, in order.
  Result<std::vector<engine::ChunkId>> Lacking(const std::vector<engine::ChunkId>& ids);
  Status SendFrame(const engine::ChunkId& id, const engine::Buffer& frame);

  const engine::Repository& repo_;
  net::Channel* channel_;
  PushStats stats_;
  // Frames sent this session, so an object that two lacking siblings both
  // hold travels once; cleared when it grows past kMaxRemembered (the
  // replica skips a repeat anyway, it only costs bytes).
  std::unordered_set<engine::ChunkId, engine::ChunkIdHash> sent_;
  // The bases (bundles, delta bases) the replica said it holds or was
  // sent: the many slices of one bundle ask about it once, not once each.
  std::unordered_set<engine::ChunkId, engine::ChunkIdHash> bases_held_;
  static constexpr size_t kMaxRemembered = 1u << 20;
  // A level's parents wait for their children in groups: once the group's
  // children reach one HAVE message, the group is walked and sent; frames
  // beyond kMaxHeldBytes are read again from the packs when sent.
  static constexpr size_t kMaxChildrenPerGroup = protocol::kMaxIdsPerMessage;
  static constexpr size_t kMaxHeldBytes = 1u << 20;
};

}  // namespace snap::replicator::client

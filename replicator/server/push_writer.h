// PushWriter: what one push session adds to a replica repository. Checks
// every frame and snapshot object against what the replica holds, collects
// accepted frames into a pending pack, and writes that pack (pack object,
// then index) when it passes the repository's pack_target_size, before a
// snapshot is recorded, and when the session ends.
//
// The invariant it keeps: an ID is held (indexed or pending) only when
// everything its clear refs name is held, so "held" means "held complete"
// and a HAVE answered yes ends the client's walk there.
//
// REQUIRES: the session holds the repository's push lease (one PushWriter
// per repository at a time). Not thread-safe: one session's calls are
// serial.
#pragma once

#include <memory>
#include <span>
#include <unordered_set>
#include <vector>

#include "engine/pack/pack_format.h"
#include "replicator/server/replica_repo.h"

namespace snap::replicator::server {

class PushWriter {
 public:
  explicit PushWriter(ReplicaRepo* repo);  // repo must outlive this
  ~PushWriter();

  // (*held)[i] is true when ids[i] is indexed or pending in this session.
  Status Have(std::span<const ChunkId> ids, std::vector<bool>* held) const;

  // One frame exactly as received. Returns true when accepted (pending),
  // false when the ID was already held (skipped: an interrupted push
  // resumed, or another client's copy). Corruption when the frame does not
  // decode (checksum, bounds, kind), when its sealed flag disagrees with
  // the repository's encryption, or when a ref is not held: "chunk <id>:
  // references <ref> which the replica does not hold; children must be
  // sent before parents". Writes the pending pack when it is full.
  Result<bool> AddFrame(ByteSpan frame);

  // Records a snapshot object: checks it decodes, that its sealed flag
  // matches the repository and that every ref is held; writes the pending
  // pack; then stores the object and its receipt. Returns true when
  // recorded now, false when already held with identical bytes.
  // Corruption for a bad object or a missing ref; InvalidArgument when the
  // ID is held with other bytes.
  Result<bool> Commit(const ChunkId& id, ByteSpan object);

  // Writes the pending pack, if any. After OK everything accepted is
  // durable and indexed.
  Status Flush();

  size_t pending_frames() const { return pending_.size(); }
  uint64_t packs_written() const { return packs_written_; }

 private:
  // Checks that every ID in `refs` is held; Corruption naming `what`.
  Status CheckRefs(const std::string& what, std::span<const ChunkId> refs) const;

  ReplicaRepo* repo_;
  std::unique_ptr<engine::pack::PackWriter> pack_;
  std::unordered_set<ChunkId, engine::ChunkIdHash> pending_;
  uint64_t packs_written_ = 0;
};

}  // namespace snap::replicator::server

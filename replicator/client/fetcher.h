// RemoteFetcher: fills a local repository (a production host's own, or a
// replica's cache on a developer's machine) with chunks fetched from a
// replica, for restores `--from` it (DESIGN.md "Restoring").
//
// Frames arrive exactly as the replica's packs hold them and are stored
// through a PackSink: packs and index entries as if captured here, so the
// next restore finds them locally. What a frame claims is checked here
// (checksum, bounds, the ID asked for); what it holds is checked when it is
// read (the seal and the keyed hash of the plaintext), as for any chunk.
// Thread-safe (one fetch at a time over the one channel).
#pragma once

#include <cstdint>
#include <mutex>
#include <span>

#include "engine/repo/pack_sink.h"
#include "engine/repository.h"
#include "replicator/net/channel.h"

namespace snap::replicator::client {

using engine::Result;
using engine::Status;

struct FetchStats {
  uint64_t chunks = 0, bytes = 0, missing = 0, requests = 0;
};

class RemoteFetcher : public engine::ChunkFetcher {
 public:
  // repo and channel must outlive this; the session's HELLO is done.
  RemoteFetcher(engine::Repository* repo, net::Channel* channel);
  ~RemoteFetcher() override;

  // Fetches the IDs the local index lacks, in pipelined GET_CHUNKS batches,
  // and (recursively) the bases of delta entries among them; stores and
  // indexes them before returning.
  Status Fetch(std::span<const engine::ChunkId> ids) override;

  // Repair: fetches `ids` although the index has them (their local copies
  // are damaged), keeps each copy that decodes with the repository's keys
  // to its ID, and stores it so the index points at it. Returns the IDs
  // repaired; the others the replica lacks or holds damaged too.
  Result<std::vector<engine::ChunkId>> Replace(std::span<const engine::ChunkId> ids);

  // Copies every snapshot object the replica lists and the local catalog
  // lacks (each verified with the repository's keys).
  Status SyncSnapshots();

  FetchStats stats() const;

 private:
  Status FetchLocked(std::vector<engine::ChunkId> ids, int depth);
  Result<std::vector<engine::ChunkId>> NotIndexed(std::span<const engine::ChunkId> ids) const;
  // Sends one GET_CHUNKS for `ids`.
  Status Request(std::span<const engine::ChunkId> ids);
  // Reads the answers to that request and stores the frames, except those
  // decoded from other chunks (slices, deltas): their frames go to *held
  // and their bases to *bases, so that they are stored only once their
  // bases are.
  Status Receive(std::span<const engine::ChunkId> ids, std::vector<engine::ChunkId>* bases,
                 std::vector<engine::Buffer>* held);

  engine::Repository* repo_;
  net::Channel* channel_;
  engine::repo::PackSink sink_;
  mutable std::mutex mu_;
  FetchStats stats_;  // guarded by mu_
};

}  // namespace snap::replicator::client

// snapctl's side of replication: the peers a repository replicates to (its
// peers/ objects plus the config file's [peer.NAME]), queueing snapshots
// for them, and draining the queue with retries (`replicate`,
// `snapshot --replicate`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "replicator/client/peers.h"
#include "replicator/client/queue.h"
#include "tools/snapctl/cli.h"

namespace snap::cli {

// The repository's peers and the config file's, sorted by name; a name in
// both must agree, else InvalidArgument naming the two.
engine::Result<std::vector<replicator::client::Peer>> AllPeers(const Globals& g,
                                                              const engine::Repository& repo);
// [replication] from the config file, else the defaults.
engine::Result<ReplicationConfig> ReplicationSettings(const Globals& g);

// Queues `snapshot` for every peer.
engine::Status EnqueueForPeers(const Globals& g, engine::Repository& repo,
                               const engine::ChunkId& snapshot);

struct ReplicateOptions {
  std::optional<std::string> peer;  // only this one
  int attempts = 3;
  int backoff_seconds = 2;
};

// Sends every queued snapshot (and any local one the replica lacks) to
// each peer, oldest first, retrying a failing peer with doubling waits.
// Prints a line (or JSON) per peer; returns the exit code: 0 when every
// peer is up to date, kExitFailure when one still failed after its
// attempts (its error stays in `snapctl status`).
int Replicate(const Globals& g, engine::Repository& repo, const ReplicateOptions& opts);
// The same, with the JSON that Replicate prints under --json put into
// *report instead (an array with an object per peer, or an object with the
// error that stopped it before any peer), for a command that prints one
// document of its own.
int Replicate(const Globals& g, engine::Repository& repo, const ReplicateOptions& opts,
              nlohmann::json* report);

}  // namespace snap::cli

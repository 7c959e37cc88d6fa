// Peers: the replicas a repository replicates to (FORMAT.md "Replication
// state in the index"). A peer is a name, an address and the server
// fingerprint pinned for it; `snapctl peer add` stores it as the object
// peers/<name> of the repository, the config file's [peer.NAME] adds more.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/store/object_store.h"

namespace snap::replicator::client {

using engine::Result;
using engine::Status;

struct ReplicaUrl {
  std::string host;
  uint16_t port = 0;
  std::string repo_id;  // 32 hex digits, only in replica://HOST:PORT/REPO-ID
  std::string ToString() const;  // replica://HOST:PORT[/REPO-ID]
};
// Parses replica://HOST:PORT[/REPO-ID] (HOST may be [v6]). InvalidArgument
// saying what is wrong and what a good one looks like.
Result<ReplicaUrl> ParseReplicaUrl(std::string_view url);

struct Peer {
  std::string name;
  ReplicaUrl url;
  std::string fingerprint;  // "sha256:..."
};

// 1-64 of [a-z0-9_-].
bool IsValidPeerName(std::string_view name);

// Peers stored in the repository, sorted by name.
Result<std::vector<Peer>> LoadPeers(const engine::store::ObjectStore& store);
// InvalidArgument when the name is taken or a field is malformed.
Status AddPeer(engine::store::ObjectStore& store, const Peer& peer);
// NotFound when there is no such peer.
Status RemovePeer(engine::store::ObjectStore& store, const std::string& name);

// The peer named `name` among `peers`, or nullptr.
const Peer* FindPeer(const std::vector<Peer>& peers, std::string_view name);

}  // namespace snap::replicator::client

// Opening a replication session: the client identity, the connection and
// the HELLO/WELCOME exchange (FORMAT.md "Replication protocol").
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "replicator/client/peers.h"
#include "replicator/net/channel.h"
#include "replicator/protocol/messages.h"

namespace snap::replicator::client {

// $SNAPCTL_IDENTITY_DIR, else $XDG_CONFIG_HOME/snapctl/identity, else
// $HOME/.config/snapctl/identity.
std::string DefaultIdentityDir();
// Loads this user's client identity, creating it on first use.
Result<net::TlsIdentity> LoadOrCreateIdentity(const std::string& dir = DefaultIdentityDir());

struct Session {
  std::unique_ptr<net::Channel> channel;
  protocol::Welcome welcome;
};

// Connects to `url` pinning `fingerprint`, says HELLO for `repo_id` in
// `role`, and returns the session after WELCOME. Errors name the replica.
Result<Session> OpenSession(const ReplicaUrl& url, const std::string& fingerprint,
                            const net::TlsIdentity& identity, protocol::Role role,
                            const protocol::RepoId& repo_id,
                            std::chrono::milliseconds timeout = std::chrono::seconds(60));

// Sends BYE (best effort; the session is over either way).
void CloseSession(Session* s);

// Receives the next message and checks it is of type `want`.
Result<protocol::Message> Expect(net::Channel& ch, protocol::MessageType want);

}  // namespace snap::replicator::client

// ReplicaSession: the replica's side of one connection (replicator/README.md
// "Sessions"; FORMAT.md "Replication protocol"). A state machine over
// protocol messages, no sockets: net::Server feeds it messages and takes
// its replies; tests drive it directly.
//
//   HELLO       admission (clients list, ownership); WELCOME or ERROR
//   push:       PUT_CONFIG, HAVE, FRAME, COMMIT_SNAPSHOT (push_writer.h)
//   read:       GET_CONFIG, LIST_SNAPSHOTS, GET_SNAPSHOT, GET_CHUNKS
//   BYE         Done(); OnClose writes what the session accepted
//
// Every refusal is a non-OK Status (the transport sends it as ERROR and
// closes): InvalidArgument for admission and misuse, Unavailable for a
// repository another push holds, Corruption for bad or incomplete data,
// NotSupported for message types a client may not send, NotFound for reads
// of what the replica does not hold. Refusals at HELLO are logged (spdlog,
// warning) with the peer's address and key.
//
// Not thread-safe: the transport calls one session's methods one at a time.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replicator/net/server.h"
#include "replicator/server/push_writer.h"
#include "replicator/server/replica_store.h"

namespace snap::replicator::server {

class ReplicaSession : public net::SessionHandler {
 public:
  // store must outlive the session. Counts the session in the metrics.
  ReplicaSession(ReplicaStore* store, net::PeerInfo peer);
  ~ReplicaSession() override;

  Status OnMessage(const protocol::Message& msg) override;
  // Replies in order; a GET_CHUNKS answer is read from the packs one frame
  // per call, never all at once.
  Result<bool> NextReply(Buffer* out) override;
  // Writes the pending pack (what arrived stays; the next push resumes)
  // and releases the push lease.
  void OnClose(const Status& why) override;
  bool Done() const override { return done_; }

 private:
  // One queued answer: an encoded message, or the IDs of a GET_CHUNKS still
  // to answer (one FRAME or MISSING each).
  struct Reply {
    Buffer message;
    bool is_chunks = false;
    std::vector<ChunkId> chunks;
    size_t next = 0;
  };

  Status Dispatch(const protocol::Message& msg);
  Status OnHello(const protocol::Message& msg);
  Status Admit(const protocol::Hello& hello, const ClientList& clients);
  Status Refuse(Status why);
  Status OnPutConfig(const protocol::Message& msg);
  Status OnHave(const protocol::Message& msg);
  Status OnFrame(const protocol::Message& msg);
  Status OnCommit(const protocol::Message& msg);
  Status OnGetConfig();
  Status OnListSnapshots();
  Status OnGetSnapshot(const protocol::Message& msg);
  Status OnGetChunks(const protocol::Message& msg);
  Status OnClientError(const protocol::Message& msg);
  // Which messages each role may send; the error for any other.
  Status CheckAllowed(protocol::MessageType type) const;
  Status RequireRepo() const;  // NotFound while the repository does not exist
  Result<bool> NextChunkReply(Reply* r, Buffer* out);
  void Queue(protocol::MessageType type, const Buffer& body);
  std::string RepoHex() const;

  ReplicaStore* store_;
  const net::PeerInfo peer_;
  std::optional<protocol::Hello> hello_;  // set once admitted
  std::shared_ptr<ReplicaRepo> repo_;     // null until the repository exists
  std::optional<PushLease> lease_;        // role push
  std::unique_ptr<PushWriter> push_;      // role push, once the repository exists
  std::deque<Reply> replies_;
  bool done_ = false;
  bool closed_ = false;
  bool error_logged_ = false;  // the session's own error, so OnClose need not repeat it
};

}  // namespace snap::replicator::server

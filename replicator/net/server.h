// Server: replicad's listening end. Boost.Asio, TLS 1.3 only, mutual: every
// client presents a self-signed certificate whose public key fingerprint is
// its identity (admission is the handler's business, not the transport's).
// C++20 coroutines, one per connection, on a pool of threads. Moves
// messages and enforces the transport's bounds; nothing else.
//
// Bounds per connection: a handshake deadline, an idle deadline between
// messages and a progress deadline within one (a slow-loris client is cut),
// at most one message body (kMaxBodyLength) buffered, max_sessions at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "replicator/net/tls_identity.h"
#include "replicator/protocol/messages.h"

namespace snap::replicator::net {

struct PeerInfo {
  std::string address;     // "ip:port"
  std::string client_key;  // fingerprint of the client's certificate key
};

// One connection's protocol logic, created per session by the server's
// factory. Its calls run on pool threads, one at a time per session; they
// may block on disk I/O.
class SessionHandler {
 public:
  virtual ~SessionHandler() = default;
  // Handles one message. Replies are taken afterwards with NextReply, one
  // at a time (so a long answer streams instead of piling up in memory).
  // A non-OK status is sent to the client as a kError message, then the
  // connection is closed.
  virtual Status OnMessage(const protocol::Message& msg) = 0;
  // Encodes the next pending reply (whole message, header included) into
  // *out and returns true; false when there is none. A failure here also
  // becomes a kError and ends the session.
  virtual Result<bool> NextReply(engine::Buffer* out) = 0;
  // The session ended: `why` is OK after a kBye or the server's shutdown,
  // else what cut it. Called exactly once; the handler makes durable what
  // it received here.
  virtual void OnClose(const Status& why) = 0;
  // True once the handler wants the connection closed (after kBye).
  virtual bool Done() const = 0;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: an ephemeral port, see Server::port()
  TlsIdentity identity;
  int threads = 2;
  int max_sessions = 64;
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(120)};
  // Within one message: time allowed without a single byte arriving.
  std::chrono::milliseconds progress_timeout{std::chrono::seconds(30)};
  // Log lines ("level: text"); the server logs refused handshakes, cuts,
  // timeouts and oversized messages with the peer's address and key.
  std::function<void(int level, const std::string& line)> log;
};

// Log levels passed to ServerOptions::log.
inline constexpr int kLogDebug = 0, kLogInfo = 1, kLogWarning = 2, kLogError = 3;

class Server {
 public:
  using Factory = std::function<std::unique_ptr<SessionHandler>(const PeerInfo&)>;
  Server(ServerOptions opts, Factory factory);
  ~Server();  // Stop()s and joins

  // Binds and listens. Unavailable naming host:port on failure.
  Status Listen();
  uint16_t port() const;  // after Listen: the bound port
  // Serves on opts.threads threads until Stop(); returns when all are done.
  void Run();
  // Stops accepting; each session finishes the message it is handling, gets
  // OnClose(OK) and is closed. Safe from any thread and from a signal
  // watcher; idempotent.
  void Stop();
  // Sessions open now (for metrics).
  int active_sessions() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace snap::replicator::net

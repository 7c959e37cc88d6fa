// Channel: the client end of one replication connection. TCP + TLS 1.3 over
// Boost.Asio with a pinned server fingerprint and this client's identity as
// its certificate. A blocking facade (each call runs the channel's own
// io_context until its operation completes or its deadline passes), so the
// replication client stays straight-line code. Moves messages, nothing else.
// Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "replicator/net/tls_identity.h"
#include "replicator/protocol/messages.h"

namespace snap::replicator::net {

struct ChannelOptions {
  std::string host;
  uint16_t port = 0;
  std::string server_fingerprint;  // "sha256:..."; the handshake fails on any other
  TlsIdentity identity;            // presented as the client certificate
  // Deadline of each blocking step (connect, handshake) and of each part of
  // a Flush or Receive (a write of up to 1 MiB, a read of up to 64 KiB): a
  // stalled peer fails the call with Unavailable, a long transfer that
  // keeps moving is not cut.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
};

class Channel {
 public:
  // Connects, handshakes (TLS 1.3 only) and checks the server's fingerprint.
  // Unavailable naming host:port when it cannot connect or times out;
  // InvalidArgument "replica HOST:PORT: fingerprint mismatch: expected X,
  // got Y (wrong --fingerprint, or not the replica you meant)" when the
  // server is not the pinned one (nothing is sent to it then).
  static Result<std::unique_ptr<Channel>> Connect(const ChannelOptions& opts);
  ~Channel();

  // Queues one message; written when the queue passes 1 MiB or on Flush
  // or Receive (so many sends pipeline into few writes).
  Status Send(protocol::MessageType type, engine::ByteSpan body);
  Status Flush();
  // Flushes, then waits for the next whole message. A kError message is
  // returned as its Status (Error::ToStatus). Unavailable on a cut or
  // timeout, Corruption on a malformed stream.
  Result<protocol::Message> Receive();

  // Bytes on the socket so far (TLS records included), each way.
  uint64_t bytes_sent() const;
  uint64_t bytes_received() const;
  const std::string& peer() const;  // "host:port"

 private:
  struct Impl;
  explicit Channel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace snap::replicator::net

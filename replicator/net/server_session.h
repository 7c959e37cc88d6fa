// Private to replicator/net: one accepted connection of the Server. A
// coroutine on the connection's strand runs the TLS handshake, then reads a
// message, hands it to the SessionHandler and writes its replies, until the
// handler is done, the client leaves, a bound is hit or the server stops.
// A watchdog coroutine on the same strand closes the socket when the current
// deadline passes (handshake, idle between messages, progress within one).
#pragma once

// clang-format off
// First: Boost 1.74 awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "replicator/net/server.h"

namespace snap::replicator::net {

class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  using Clock = std::chrono::steady_clock;

  // REQUIRES: `socket` was accepted with a strand as its executor; `opts`,
  // `factory` and `ctx` outlive the session.
  ServerSession(boost::asio::ip::tcp::socket socket, const ServerOptions& opts,
                const Server::Factory& factory, boost::asio::ssl::context& ctx);

  // The session's coroutine; co_spawn it on executor().
  static boost::asio::awaitable<void> Run(std::shared_ptr<ServerSession> self);
  boost::asio::any_io_executor executor() { return stream_.get_executor(); }

  // Asks the session to end after the message in hand (at once when it is
  // idle or still handshaking). Safe from any thread.
  void RequestStop();
  // After an exception escaped Run: closes, and ends the handler with
  // Aborted if it was not ended yet. Runs on the session's strand.
  void AbortAfterException(const std::string& what);

 private:
  static boost::asio::awaitable<void> Watchdog(std::shared_ptr<ServerSession> self);
  boost::asio::awaitable<Status> Handshake();
  boost::asio::awaitable<Status> Serve();
  // Feeds the reader with what arrives next. False when the server stopped
  // while no message was in progress.
  boost::asio::awaitable<Result<bool>> ReadMore();
  boost::asio::awaitable<Status> Handle(const protocol::Message& msg);
  boost::asio::awaitable<Status> FlushReplies();
  boost::asio::awaitable<Status> Write(engine::ByteSpan data, const char* step);
  boost::asio::awaitable<void> End(Status why);

  Status Refuse(Status why);  // a failure the client is told about (kError)
  Status TimedOut(const char* what, std::chrono::milliseconds limit) const;
  void SetDeadline(std::chrono::milliseconds d);
  void CloseSocket();
  void Log(int level, const std::string& text) const;

  const ServerOptions& opts_;
  const Server::Factory& factory_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::asio::steady_timer timer_;
  Clock::time_point deadline_;
  PeerInfo peer_;
  std::unique_ptr<SessionHandler> handler_;
  protocol::MessageReader reader_;
  engine::Buffer replies_;  // encoded replies not yet written
  std::vector<std::byte> in_;
  bool idle_ = false;            // waiting for the first byte of a message
  bool stop_requested_ = false;  // the server is shutting down
  bool timed_out_ = false;       // the watchdog closed the socket
  bool tell_client_ = false;     // the end's status goes to the client as kError
  bool ended_ = false;
  bool closed_ = false;  // OnClose was called
};

}  // namespace snap::replicator::net

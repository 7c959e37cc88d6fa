#include "replicator/net/server_session.h"

#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "replicator/net/tls_context.h"
#include "replicator/net/tls_util.h"

namespace snap::replicator::net {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using boost::system::error_code;

namespace {

constexpr size_t kReadChunk = 64u << 10;    // bytes read at a time
constexpr size_t kReplyBatch = 1u << 20;    // replies gathered before a write
constexpr size_t kWriteSlice = 256u << 10;  // bytes written under one deadline

bool IsEndOfStream(const error_code& ec) {
  return ec == asio::error::eof || ec == ssl::error::stream_truncated ||
         ec == asio::error::connection_reset;
}

}  // namespace

ServerSession::ServerSession(asio::ip::tcp::socket socket, const ServerOptions& opts,
                             const Server::Factory& factory, ssl::context& ctx)
    : opts_(opts),
      factory_(factory),
      stream_(std::move(socket), ctx),
      timer_(stream_.get_executor()),
      in_(kReadChunk) {
  error_code ec;
  auto ep = stream_.next_layer().remote_endpoint(ec);
  peer_.address = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
}

void ServerSession::Log(int level, const std::string& text) const {
  if (!opts_.log) return;
  std::string who = "session " + peer_.address;
  if (!peer_.client_key.empty()) who += " key " + peer_.client_key;
  opts_.log(level, who + ": " + text);
}

void ServerSession::SetDeadline(std::chrono::milliseconds d) {
  deadline_ = Clock::now() + d;
  // The watchdog sleeps until the old deadline: wake it when the new one is
  // earlier (it re-arms itself for a later one when it wakes).
  if (deadline_ < timer_.expiry()) timer_.cancel();
}

void ServerSession::CloseSocket() {
  error_code ignored;
  stream_.lowest_layer().close(ignored);
}

void ServerSession::RequestStop() {
  asio::post(executor(), [self = shared_from_this()] {
    self->stop_requested_ = true;
    // Nothing in hand: interrupt the wait. Mid-message, the loop ends the
    // session once that message is handled.
    if (self->idle_ || !self->handler_) self->CloseSocket();
  });
}

awaitable<void> ServerSession::Run(std::shared_ptr<ServerSession> self) {
  self->SetDeadline(self->opts_.handshake_timeout);
  asio::co_spawn(self->executor(), Watchdog(self), asio::detached);
  Status hs = co_await self->Handshake();
  if (!hs.ok()) {
    if (!self->stop_requested_) self->Log(kLogWarning, hs.message());
    self->ended_ = true;
    self->timer_.cancel();
    self->CloseSocket();
    co_return;
  }
  self->handler_ = self->factory_(self->peer_);
  if (!self->handler_) {
    self->Log(kLogWarning, "no session handler; closing");
    co_await self->End(Status::Aborted("server: no session handler"));
    co_return;
  }
  self->Log(kLogDebug, "session open");
  Status why = co_await self->Serve();
  co_await self->End(why);
  self->Log(kLogDebug, "session closed: " + why.ToString());
}

awaitable<void> ServerSession::Watchdog(std::shared_ptr<ServerSession> self) {
  error_code ec;
  while (!self->ended_) {
    if (self->deadline_ <= Clock::now()) {
      self->timed_out_ = true;
      self->CloseSocket();
      co_return;
    }
    self->timer_.expires_at(self->deadline_);
    co_await self->timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<Status> ServerSession::Handshake() {
  error_code ec;
  co_await stream_.async_handshake(ssl::stream_base::server,
                                   asio::redirect_error(use_awaitable, ec));
  if (timed_out_) co_return TimedOut("the TLS handshake", opts_.handshake_timeout);
  if (ec) co_return Status::Unavailable("TLS handshake failed: " + ErrorText(ec));
  X509* cert = SSL_get0_peer_certificate(stream_.native_handle());
  if (cert == nullptr) co_return Status::Unavailable("TLS handshake: no client certificate");
  Result<std::string> key = FingerprintOfCert(cert);
  if (!key.ok()) co_return key.status();
  peer_.client_key = *key;
  co_return Status::OK();
}

Status ServerSession::TimedOut(const char* what, std::chrono::milliseconds limit) const {
  return Status::Unavailable("timed out after " + FormatSeconds(limit) + " waiting for " + what +
                             "; connection cut");
}

Status ServerSession::Refuse(Status why) {
  tell_client_ = true;
  return why;
}

awaitable<Status> ServerSession::Serve() {
  for (;;) {
    Result<std::optional<protocol::Message>> next = reader_.Next();
    if (!next.ok()) {
      Log(kLogWarning, "malformed stream: " + next.status().message());
      co_return Refuse(next.status());
    }
    if (!next->has_value()) {
      Status flushed = co_await FlushReplies();
      if (!flushed.ok()) co_return flushed;
      Result<bool> more = co_await ReadMore();
      if (!more.ok()) co_return more.status();
      if (!*more) co_return Status::OK();  // stopped between messages
      continue;
    }
    Status s = co_await Handle(**next);
    if (!s.ok()) co_return s;
    if (handler_->Done() || stop_requested_) {
      Status flushed = co_await FlushReplies();
      co_return flushed;
    }
  }
}

awaitable<Result<bool>> ServerSession::ReadMore() {
  idle_ = reader_.buffered() == 0;
  if (idle_ && stop_requested_) co_return false;
  SetDeadline(idle_ ? opts_.idle_timeout : opts_.progress_timeout);
  error_code ec;
  size_t n =
      co_await stream_.async_read_some(asio::buffer(in_), asio::redirect_error(use_awaitable, ec));
  const bool was_idle = idle_;
  idle_ = false;
  if (ec && was_idle && stop_requested_) co_return false;
  if (timed_out_) {
    Status s = was_idle ? TimedOut("the next message", opts_.idle_timeout)
                        : TimedOut("the rest of a message", opts_.progress_timeout);
    Log(was_idle ? kLogInfo : kLogWarning, s.message());
    co_return s;
  }
  if (ec) {
    Status s = IsEndOfStream(ec) ? Status::Unavailable(was_idle ? "connection closed by the client"
                                                                : "connection cut within a message")
                                 : Status::Unavailable("receiving: " + ErrorText(ec));
    Log(was_idle ? kLogInfo : kLogWarning, s.message());
    co_return s;
  }
  reader_.Feed(engine::ByteSpan(in_.data(), n));
  co_return true;
}

awaitable<Status> ServerSession::Handle(const protocol::Message& msg) {
  Status s = handler_->OnMessage(msg);
  if (!s.ok()) {
    Log(kLogDebug, std::string(protocol::MessageTypeName(msg.type)) + " refused: " + s.ToString());
    co_return Refuse(s);
  }
  engine::Buffer reply;
  for (;;) {
    reply.clear();
    Result<bool> more = handler_->NextReply(&reply);
    if (!more.ok()) {
      Log(kLogInfo, "reply failed: " + more.status().ToString());
      co_return Refuse(more.status());
    }
    if (!*more) co_return Status::OK();
    if (replies_.empty()) {
      replies_.swap(reply);
    } else {
      engine::Append(&replies_, reply);
    }
    if (replies_.size() >= kReplyBatch) {
      Status flushed = co_await FlushReplies();
      if (!flushed.ok()) co_return flushed;
    }
  }
}

awaitable<Status> ServerSession::FlushReplies() {
  if (replies_.empty()) co_return Status::OK();
  Status s = co_await Write(replies_, "sending replies");
  replies_.clear();
  if (replies_.capacity() > 4 * kReplyBatch) replies_.shrink_to_fit();
  co_return s;
}

awaitable<Status> ServerSession::Write(engine::ByteSpan data, const char* step) {
  while (!data.empty()) {
    const size_t n = std::min(data.size(), kWriteSlice);
    SetDeadline(opts_.progress_timeout);
    error_code ec;
    co_await asio::async_write(stream_, asio::buffer(data.data(), n),
                               asio::redirect_error(use_awaitable, ec));
    if (timed_out_) {
      Status s = TimedOut("the client to take replies", opts_.progress_timeout);
      Log(kLogWarning, s.message());
      co_return s;
    }
    if (ec) {
      Status s = Status::Unavailable(std::string(step) + ": " + ErrorText(ec));
      Log(kLogInfo, s.message());
      co_return s;
    }
    data = data.subspan(n);
  }
  co_return Status::OK();
}

awaitable<void> ServerSession::End(Status why) {
  if (!why.ok() && tell_client_) {
    // After the replies already made: they answer earlier messages.
    protocol::Error err{why.code(), why.message()};
    engine::Buffer body;
    err.EncodeTo(&body);
    protocol::EncodeMessage(protocol::MessageType::kError, body, &replies_);
    Status ignored = co_await FlushReplies();
    (void)ignored;
  }
  ended_ = true;
  timer_.cancel();
  // FIN after the last reply, so the client reads it before the close.
  error_code ignored;
  stream_.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  CloseSocket();
  if (handler_ && !closed_) {
    closed_ = true;
    handler_->OnClose(why);
  }
}

void ServerSession::AbortAfterException(const std::string& what) {
  Log(kLogError, "internal error: " + what);
  ended_ = true;
  timer_.cancel();
  CloseSocket();
  if (handler_ && !closed_) {
    closed_ = true;
    handler_->OnClose(Status::Aborted("server: internal error: " + what));
  }
}

}  // namespace snap::replicator::net

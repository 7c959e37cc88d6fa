// Channel: blocking calls over Asio's asynchronous operations. Each call
// starts one operation, then runs the channel's own io_context until the
// operation completes or the deadline passes; on a deadline the socket is
// closed (which cancels the operation) and the channel is unusable after.
//
// Deadlines apply to each transfer of up to 1 MiB (write) or 64 KiB (read),
// so a stalled peer fails within `timeout` while a long, moving transfer
// (a 96 MiB frame on a slow link) is never cut for being long.
#include "replicator/net/channel.h"

#include <openssl/x509.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>
#include <exception>
#include <vector>

#include "replicator/net/counting_socket.h"
#include "replicator/net/tls_context.h"
#include "replicator/net/tls_util.h"

namespace snap::replicator::net {
namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using boost::system::error_code;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kSendQueueLimit = 1u << 20;  // queued bytes that trigger a write
constexpr size_t kWriteSlice = 1u << 20;      // bytes written under one deadline
constexpr size_t kReadChunk = 64u << 10;      // bytes read at a time

// The completion of one asynchronous operation. Shared with its handler, so
// a handler that runs after its call gave up touches nothing stale.
struct Op {
  bool done = false;
  error_code ec;
  size_t bytes = 0;
  tcp::resolver::results_type endpoints;
};

auto OnDone(std::shared_ptr<Op> op) {
  return [op](error_code ec, size_t n = 0) {
    op->ec = ec;
    op->bytes = n;
    op->done = true;
  };
}

bool IsEndOfStream(const error_code& ec) {
  return ec == asio::error::eof || ec == ssl::error::stream_truncated ||
         ec == asio::error::connection_reset;
}

}  // namespace

struct Channel::Impl {
  Impl(ChannelOptions o, std::unique_ptr<ssl::context> c)
      : opts(std::move(o)),
        ctx(std::move(c)),
        resolver(io),
        stream(io, *ctx),
        peer(opts.host + ":" + std::to_string(opts.port)) {}

  Status Connect();
  Status Resolve(tcp::resolver::results_type* endpoints);
  Status Handshake();
  bool VerifyServer(ssl::verify_context& vc);
  Status Flush();
  Status Write(asio::const_buffer data);
  Result<protocol::Message> Receive();
  Result<protocol::Message> Take(protocol::Message msg);
  bool RunUntilDone(const std::shared_ptr<Op>& op, Clock::duration limit);
  Status Await(const std::shared_ptr<Op>& op, const char* step);
  Status ErrorBeforeCut(Status cut);
  Status Fail(Status s);
  Status Unavailable(const char* step, const error_code& ec) const;

  ChannelOptions opts;
  asio::io_context io;  // before the objects that use it
  std::unique_ptr<ssl::context> ctx;
  tcp::resolver resolver;
  ssl::stream<CountingSocket> stream;
  std::string peer;
  std::string seen_fingerprint;  // the server's, recorded during the handshake
  engine::Buffer out;            // encoded messages not yet written
  protocol::MessageReader reader;
  std::vector<std::byte> in = std::vector<std::byte>(kReadChunk);
  Status broken;  // the first transport failure; every call returns it after
};

bool Channel::Impl::RunUntilDone(const std::shared_ptr<Op>& op, Clock::duration limit) {
  io.restart();
  const Clock::time_point deadline = Clock::now() + limit;
  while (!op->done) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      error_code ignored;
      resolver.cancel();
      stream.lowest_layer().close(ignored);
      // Give the cancelled operation a moment to complete; abandoning it is
      // safe too (it owns its state).
      io.restart();
      for (int i = 0; i < 20 && !op->done; ++i) io.run_for(std::chrono::milliseconds(50));
      return false;
    }
    io.run_for(deadline - now);
    if (io.stopped()) io.restart();
  }
  return true;
}

Status Channel::Impl::Await(const std::shared_ptr<Op>& op, const char* step) {
  if (RunUntilDone(op, opts.timeout)) return Status::OK();
  return Fail(Status::Unavailable("replica " + peer + ": timed out after " +
                                  FormatSeconds(opts.timeout) + " while " + step));
}

// A write failed because the replica closed: it may have said why first
// (an ERROR refusing a message we were still streaming past). Look for it
// among what already arrived, briefly, before reporting the bare cut.
Status Channel::Impl::ErrorBeforeCut(Status cut) {
  const Clock::time_point until =
      Clock::now() + std::min<Clock::duration>(opts.timeout, std::chrono::seconds(2));
  for (;;) {
    Result<std::optional<protocol::Message>> next = reader.Next();
    if (!next.ok()) break;
    if (next->has_value()) {
      if ((*next)->type == protocol::MessageType::kError) return Take(std::move(**next)).status();
      continue;  // replies nobody will take: the channel is done
    }
    const Clock::time_point now = Clock::now();
    if (now >= until) break;
    auto op = std::make_shared<Op>();
    stream.async_read_some(asio::buffer(in.data(), in.size()), OnDone(op));
    if (!RunUntilDone(op, until - now) || op->ec) break;
    reader.Feed(engine::ByteSpan(in.data(), op->bytes));
  }
  return Fail(cut);
}

Status Channel::Impl::Fail(Status s) {
  if (broken.ok()) broken = s;
  error_code ignored;
  stream.lowest_layer().close(ignored);
  return s;
}

Status Channel::Impl::Unavailable(const char* step, const error_code& ec) const {
  if (IsEndOfStream(ec)) {
    return Status::Unavailable("replica " + peer + ": connection closed by the replica while " +
                               step);
  }
  return Status::Unavailable("replica " + peer + ": " + step + ": " + ErrorText(ec));
}

Status Channel::Impl::Resolve(tcp::resolver::results_type* endpoints) {
  auto op = std::make_shared<Op>();
  resolver.async_resolve(opts.host, std::to_string(opts.port),
                         [op](error_code ec, tcp::resolver::results_type r) {
                           op->ec = ec;
                           op->endpoints = std::move(r);
                           op->done = true;
                         });
  SNAP_RETURN_IF_ERROR(Await(op, "resolving the address"));
  if (op->ec) return Fail(Unavailable("resolving the address", op->ec));
  *endpoints = std::move(op->endpoints);
  return Status::OK();
}

Status Channel::Impl::Connect() {
  tcp::resolver::results_type endpoints;
  SNAP_RETURN_IF_ERROR(Resolve(&endpoints));
  auto op = std::make_shared<Op>();
  asio::async_connect(stream.next_layer().socket(), endpoints,
                      [op](error_code ec, const tcp::endpoint&) {
                        op->ec = ec;
                        op->done = true;
                      });
  SNAP_RETURN_IF_ERROR(Await(op, "connecting"));
  if (op->ec) return Fail(Unavailable("cannot connect", op->ec));
  error_code ignored;
  stream.next_layer().socket().set_option(tcp::no_delay(true), ignored);
  return Handshake();
}

// Accepts the self-signed chain as such: what decides is whether the
// leaf's key is the pinned one (TLS 1.3 proves the server holds that key).
bool Channel::Impl::VerifyServer(ssl::verify_context& vc) {
  X509_STORE_CTX* store = vc.native_handle();
  if (X509_STORE_CTX_get_error_depth(store) > 0) return true;
  X509* cert = X509_STORE_CTX_get_current_cert(store);
  if (cert == nullptr) return false;
  Result<std::string> fp = FingerprintOfCert(cert);
  if (!fp.ok()) return false;
  seen_fingerprint = *fp;
  return seen_fingerprint == opts.server_fingerprint;
}

Status Channel::Impl::Handshake() {
  error_code ec;
  stream.set_verify_mode(ssl::verify_peer, ec);
  if (!ec) {
    stream.set_verify_callback([this](bool, ssl::verify_context& vc) { return VerifyServer(vc); },
                               ec);
  }
  if (ec) return Fail(Unavailable("TLS setup", ec));
  auto op = std::make_shared<Op>();
  stream.async_handshake(ssl::stream_base::client, OnDone(op));
  SNAP_RETURN_IF_ERROR(Await(op, "handshaking"));
  if (!op->ec) return Status::OK();
  if (!seen_fingerprint.empty() && seen_fingerprint != opts.server_fingerprint) {
    return Fail(Status::InvalidArgument("replica " + peer + ": fingerprint mismatch: expected " +
                                        opts.server_fingerprint + ", got " + seen_fingerprint +
                                        " (wrong --fingerprint, or not the replica you meant)"));
  }
  return Fail(Unavailable("TLS handshake", op->ec));
}

Status Channel::Impl::Write(asio::const_buffer data) {
  while (data.size() > 0) {
    auto op = std::make_shared<Op>();
    const size_t n = std::min(data.size(), kWriteSlice);
    asio::async_write(stream, asio::buffer(data.data(), n), OnDone(op));
    SNAP_RETURN_IF_ERROR(Await(op, "sending"));
    if (op->ec) return ErrorBeforeCut(Unavailable("sending", op->ec));
    data += n;
  }
  return Status::OK();
}

Status Channel::Impl::Flush() {
  if (!broken.ok()) return broken;
  Status s = Write(asio::buffer(out));
  out.clear();
  if (out.capacity() > 2 * kSendQueueLimit) out.shrink_to_fit();  // after a large message
  return s;
}

Result<protocol::Message> Channel::Impl::Take(protocol::Message msg) {
  if (msg.type != protocol::MessageType::kError) return msg;
  // The replica closes after an ERROR: its status is the session's end.
  Result<protocol::Error> err = protocol::Error::Decode(msg.body);
  if (!err.ok()) return Fail(err.status().WithContext("replica " + peer));
  return Fail(err->ToStatus());
}

Result<protocol::Message> Channel::Impl::Receive() {
  SNAP_RETURN_IF_ERROR(Flush());
  for (;;) {
    Result<std::optional<protocol::Message>> next = reader.Next();
    if (!next.ok()) return Fail(next.status().WithContext("replica " + peer));
    if (next->has_value()) return Take(std::move(**next));
    auto op = std::make_shared<Op>();
    stream.async_read_some(asio::buffer(in.data(), in.size()), OnDone(op));
    SNAP_RETURN_IF_ERROR(Await(op, "receiving"));
    if (op->ec) return Fail(Unavailable("receiving", op->ec));
    reader.Feed(engine::ByteSpan(in.data(), op->bytes));
  }
}

Result<std::unique_ptr<Channel>> Channel::Connect(const ChannelOptions& opts) {
  const std::string peer = opts.host + ":" + std::to_string(opts.port);
  Result<std::unique_ptr<ssl::context>> ctx = MakeTlsContext(opts.identity, TlsRole::kClient);
  if (!ctx.ok()) return ctx.status().WithContext("replica " + peer);
  std::unique_ptr<Impl> impl;
  try {  // Asio's constructors throw when OpenSSL or the OS refuse resources
    impl = std::make_unique<Impl>(opts, std::move(*ctx));
  } catch (const std::exception& e) {
    return Status::Unavailable("replica " + peer + ": " + e.what());
  }
  SNAP_RETURN_IF_ERROR(impl->Connect());
  return std::unique_ptr<Channel>(new Channel(std::move(impl)));
}

Channel::Channel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Channel::~Channel() {
  error_code ignored;
  impl_->stream.lowest_layer().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->stream.lowest_layer().close(ignored);
}

Status Channel::Send(protocol::MessageType type, engine::ByteSpan body) {
  if (!impl_->broken.ok()) return impl_->broken;
  protocol::EncodeMessage(type, body, &impl_->out);
  if (impl_->out.size() > kSendQueueLimit) return impl_->Flush();
  return Status::OK();
}

Status Channel::Flush() { return impl_->Flush(); }

Result<protocol::Message> Channel::Receive() { return impl_->Receive(); }

uint64_t Channel::bytes_sent() const { return impl_->stream.next_layer().bytes_written(); }
uint64_t Channel::bytes_received() const { return impl_->stream.next_layer().bytes_read(); }
const std::string& Channel::peer() const { return impl_->peer; }

}  // namespace snap::replicator::net

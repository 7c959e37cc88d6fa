// Test-only helpers for net_tests: an echo SessionHandler whose events the
// test can wait for, a Server running on a thread of its own, and a raw TLS
// client for writing bytes no Channel would send.
#pragma once

#include <gtest/gtest.h>

// clang-format off
// First: Boost 1.74 awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "replicator/net/channel.h"
#include "replicator/net/server.h"
#include "tests/support/test_util.h"

namespace snap::replicator::net::test {

using protocol::MessageType;

// What the server side did, for the test thread to wait on.
class Events {
 public:
  // Waits (up to a generous bound) until `done` holds; false on timeout.
  bool WaitFor(const std::function<bool()>& done) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), done);
  }
  template <typename F>
  void Update(F f) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      f();
    }
    cv_.notify_all();
  }
  bool LogContains(const std::string& text) {
    for (const std::string& l : logs) {
      if (l.find(text) != std::string::npos) return true;
    }
    return false;
  }

  // Guarded by the mutex: read them in WaitFor predicates or after Update.
  std::vector<PeerInfo> created;
  std::vector<Status> closes;
  std::vector<std::string> logs;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

// Replies to each message with the same type and body; kBye ends the
// session; a body "fail" is refused with NotFound; kFrame is taken silently.
class EchoHandler : public SessionHandler {
 public:
  explicit EchoHandler(Events* events) : events_(events) {}
  Status OnMessage(const protocol::Message& msg) override {
    if (msg.type == MessageType::kBye) {
      done_ = true;
      return Status::OK();
    }
    if (engine::AsChars(msg.body) == "fail") return Status::NotFound("no such thing");
    if (msg.type != MessageType::kFrame) pending_.push_back(msg);
    return Status::OK();
  }
  Result<bool> NextReply(engine::Buffer* out) override {
    if (pending_.empty()) return false;
    protocol::EncodeMessage(pending_.front().type, pending_.front().body, out);
    pending_.pop_front();
    return true;
  }
  void OnClose(const Status& why) override {
    events_->Update([&] { events_->closes.push_back(why); });
  }
  bool Done() const override { return done_; }

 private:
  Events* events_;
  std::deque<protocol::Message> pending_;
  bool done_ = false;
};

inline TlsIdentity NewIdentity(const std::string& name) {
  Result<TlsIdentity> id = GenerateIdentity(name);
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  return id.ok() ? *id : TlsIdentity{};
}

inline std::string FingerprintOf(const TlsIdentity& id) {
  Result<std::string> fp = Fingerprint(id);
  EXPECT_TRUE(fp.ok()) << fp.status().ToString();
  return fp.ok() ? *fp : "";
}

// A Server with an EchoHandler factory, serving on its own thread.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(ServerOptions*)> tweak = nullptr)
      : identity_(NewIdentity("replica")) {
    ServerOptions opts;
    opts.identity = identity_;
    opts.log = [this](int level, const std::string& line) {
      events.Update([&] { events.logs.push_back(line); });
    };
    if (tweak) tweak(&opts);
    server_ = std::make_unique<Server>(opts, [this](const PeerInfo& peer) {
      events.Update([&] { events.created.push_back(peer); });
      return std::make_unique<EchoHandler>(&events);
    });
    Status s = server_->Listen();
    EXPECT_TRUE(s.ok()) << s.ToString();
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~LoopbackServer() { StopAndJoin(); }

  void StopAndJoin() {
    server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  ChannelOptions ClientOptions(const TlsIdentity& client) const {
    ChannelOptions o;
    o.host = "127.0.0.1";
    o.port = server_->port();
    o.server_fingerprint = FingerprintOf(identity_);
    o.identity = client;
    o.timeout = std::chrono::seconds(20);
    return o;
  }
  Server& server() { return *server_; }

  Events events;

 private:
  TlsIdentity identity_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

// A TLS client that writes raw bytes, for streams a Channel never sends.
class RawTlsClient {
 public:
  RawTlsClient(uint16_t port, const TlsIdentity& id) : ctx_(ClientContext(id)), stream_(io_, ctx_) {
    boost::system::error_code ec;
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port);
    stream_.lowest_layer().connect(ep, ec);
    EXPECT_FALSE(ec) << ec.message();
    stream_.handshake(boost::asio::ssl::stream_base::client, ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  void Write(engine::ByteSpan bytes) {
    boost::system::error_code ec;
    boost::asio::write(stream_, boost::asio::buffer(bytes.data(), bytes.size()), ec);
    EXPECT_FALSE(ec) << ec.message();
  }
  // Reads exactly n bytes (empty after a generous bound or an error).
  engine::Buffer Read(size_t n) {
    engine::Buffer got(n);
    bool ok = false;
    boost::asio::async_read(stream_, boost::asio::buffer(got),
                            [&](boost::system::error_code ec, size_t) { ok = !ec; });
    io_.restart();
    io_.run_for(std::chrono::seconds(20));
    return ok ? got : engine::Buffer();
  }
  // Reads until the server closes (or a generous bound passes); returns
  // what arrived and whether the stream ended.
  std::pair<engine::Buffer, bool> ReadUntilClosed() {
    engine::Buffer got;
    bool closed = false;
    std::vector<std::byte> buf(4096);
    std::function<void()> read_more = [&] {
      stream_.async_read_some(boost::asio::buffer(buf),
                              [&](boost::system::error_code ec, size_t n) {
                                got.insert(got.end(), buf.begin(), buf.begin() + n);
                                if (ec) {
                                  closed = true;
                                } else {
                                  read_more();
                                }
                              });
    };
    read_more();
    io_.restart();
    io_.run_for(std::chrono::seconds(20));
    return {got, closed};
  }

 private:
  // The certificate goes into the context before a stream copies it.
  static boost::asio::ssl::context ClientContext(const TlsIdentity& id) {
    boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
    boost::system::error_code ec;
    ctx.use_certificate(boost::asio::buffer(id.cert_pem), boost::asio::ssl::context::pem, ec);
    EXPECT_FALSE(ec) << ec.message();
    ctx.use_private_key(boost::asio::buffer(id.key_pem), boost::asio::ssl::context::pem, ec);
    EXPECT_FALSE(ec) << ec.message();
    return ctx;
  }

  boost::asio::io_context io_;
  boost::asio::ssl::context ctx_;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
};

}  // namespace snap::replicator::net::test

#include "replicator/net/channel.h"

#include <gtest/gtest.h>

#include "replicator/net/net_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::net {
namespace {

using protocol::MessageType;
using test::LoopbackServer;
using test::NewIdentity;

engine::Buffer Body(const std::string& s) { return engine::ToBuffer(s); }

TEST(Channel, RoundTripsManyPipelinedMessages) {
  LoopbackServer server;
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(NewIdentity("c")));
  ASSERT_OK(ch);
  constexpr int kCount = 1000;
  uint64_t plaintext = 0;
  for (int i = 0; i < kCount; ++i) {
    engine::Buffer body = Body("message " + std::to_string(i));
    plaintext += protocol::kMessageHeaderSize + body.size();
    ASSERT_OK((*ch)->Send(MessageType::kHave, body));
  }
  for (int i = 0; i < kCount; ++i) {
    Result<protocol::Message> m = (*ch)->Receive();
    ASSERT_OK(m);
    EXPECT_EQ(m->type, MessageType::kHave);
    ASSERT_EQ(engine::AsChars(m->body), "message " + std::to_string(i));
  }
  // Socket bytes: the plaintext plus TLS records and the handshake.
  EXPECT_GT((*ch)->bytes_sent(), plaintext);
  EXPECT_GT((*ch)->bytes_received(), plaintext);
  EXPECT_EQ((*ch)->peer(), "127.0.0.1:" + std::to_string(server.server().port()));
}

TEST(Channel, CarriesALargeMessage) {
  LoopbackServer server;
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(NewIdentity("c")));
  ASSERT_OK(ch);
  engine::Buffer big(20u << 20);
  for (size_t i = 0; i < big.size(); ++i) big[i] = std::byte(i * 2654435761u >> 13);
  ASSERT_OK((*ch)->Send(MessageType::kFrame, big));     // taken silently
  ASSERT_OK((*ch)->Send(MessageType::kSnapshot, big));  // echoed
  Result<protocol::Message> m = (*ch)->Receive();
  ASSERT_OK(m);
  EXPECT_EQ(m->type, MessageType::kSnapshot);
  EXPECT_TRUE(m->body == big);
  EXPECT_GT((*ch)->bytes_sent(), 2 * big.size());
}

TEST(Channel, RefusesServerWithAnotherFingerprint) {
  LoopbackServer server;
  ChannelOptions opts = server.ClientOptions(NewIdentity("c"));
  const std::string real = opts.server_fingerprint;
  opts.server_fingerprint = test::FingerprintOf(NewIdentity("impostor"));
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(opts);
  ASSERT_FALSE(ch.ok());
  EXPECT_TRUE(ch.status().IsInvalidArgument()) << ch.status().ToString();
  const std::string msg = ch.status().message();
  EXPECT_NE(msg.find("fingerprint mismatch"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected " + opts.server_fingerprint), std::string::npos) << msg;
  EXPECT_NE(msg.find("got " + real), std::string::npos) << msg;
  // The server saw the handshake fail and never made a handler.
  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.LogContains("TLS handshake failed"); }));
  ev.Update([&] { EXPECT_TRUE(ev.created.empty()); });
}

TEST(Channel, ServerSeesClientKeyAsItsFingerprint) {
  LoopbackServer server;
  TlsIdentity client = NewIdentity("client");
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(client));
  ASSERT_OK(ch);
  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.created.size() == 1; }));
  ev.Update([&] {
    EXPECT_EQ(ev.created[0].client_key, test::FingerprintOf(client));
    EXPECT_TRUE(ev.created[0].address.starts_with("127.0.0.1:")) << ev.created[0].address;
  });
}

TEST(Channel, HandlerErrorArrivesAsItsStatus) {
  LoopbackServer server;
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(NewIdentity("c")));
  ASSERT_OK(ch);
  ASSERT_OK((*ch)->Send(MessageType::kHave, Body("fine")));
  ASSERT_OK((*ch)->Send(MessageType::kHave, Body("fail")));
  for (int i = 0; i < 100; ++i) ASSERT_OK((*ch)->Send(MessageType::kHave, Body("more")));
  Result<protocol::Message> first = (*ch)->Receive();
  ASSERT_OK(first);
  EXPECT_EQ(engine::AsChars(first->body), "fine");
  Result<protocol::Message> second = (*ch)->Receive();
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsNotFound()) << second.status().ToString();
  EXPECT_EQ(second.status().message(), "replica: no such thing");
  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.closes.size() == 1; }));
  ev.Update([&] { EXPECT_TRUE(ev.closes[0].IsNotFound()) << ev.closes[0].ToString(); });
}

TEST(Channel, HandlerErrorArrivesWhileClientStillStreams) {
  LoopbackServer server;
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(NewIdentity("c")));
  ASSERT_OK(ch);
  ASSERT_OK((*ch)->Send(MessageType::kFrame, Body("fail")));
  ASSERT_OK((*ch)->Flush());
  // Far more than socket buffers hold: a write fails once the server closed.
  engine::Buffer frame(1u << 20);
  Status s;
  for (int i = 0; i < 256 && s.ok(); ++i) s = (*ch)->Send(MessageType::kFrame, frame);
  if (s.ok()) s = (*ch)->Flush();
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(s.message(), "replica: no such thing");
}

TEST(Channel, ByeEndsSessionWithOk) {
  LoopbackServer server;
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(NewIdentity("c")));
  ASSERT_OK(ch);
  ASSERT_OK((*ch)->Send(MessageType::kBye, {}));
  ASSERT_OK((*ch)->Flush());
  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.closes.size() == 1; }));
  ev.Update([&] { EXPECT_OK(ev.closes[0]); });
  // The server closed: a further receive fails as a cut.
  Result<protocol::Message> m = (*ch)->Receive();
  EXPECT_EQ(m.status().code(), Status::Code::kUnavailable) << m.status().ToString();
}

TEST(Channel, ReceiveTimesOutWhenNoReplyComes) {
  LoopbackServer server;
  ChannelOptions opts = server.ClientOptions(NewIdentity("c"));
  opts.timeout = std::chrono::milliseconds(200);
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(opts);
  ASSERT_OK(ch);
  ASSERT_OK((*ch)->Send(MessageType::kFrame, Body("no reply to this")));
  Result<protocol::Message> m = (*ch)->Receive();
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kUnavailable);
  EXPECT_EQ(m.status().message(),
            "replica " + (*ch)->peer() + ": timed out after 0.2 s while receiving");
  // Unusable afterwards, with the same answer.
  EXPECT_EQ((*ch)->Send(MessageType::kHave, Body("x")).message(), m.status().message());
}

TEST(Channel, ConnectToClosedPortIsUnavailable) {
  uint16_t port;
  {
    LoopbackServer server;
    port = server.server().port();
  }
  ChannelOptions opts;
  opts.host = "127.0.0.1";
  opts.port = port;
  opts.server_fingerprint = test::FingerprintOf(NewIdentity("s"));
  opts.identity = NewIdentity("c");
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(opts);
  ASSERT_FALSE(ch.ok());
  EXPECT_EQ(ch.status().code(), Status::Code::kUnavailable);
  EXPECT_NE(ch.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << ch.status().message();
}

}  // namespace
}  // namespace snap::replicator::net

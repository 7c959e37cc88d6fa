#include "replicator/net/server.h"

#include <gtest/gtest.h>

#include "replicator/net/net_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::net {
namespace {

using protocol::MessageType;
using test::LoopbackServer;
using test::NewIdentity;

// One echo round trip: proves the server serves this client.
void ExpectEcho(Channel* ch, const std::string& text) {
  ASSERT_OK(ch->Send(MessageType::kHave, engine::ToBuffer(text)));
  Result<protocol::Message> m = ch->Receive();
  ASSERT_OK(m);
  EXPECT_EQ(engine::AsChars(m->body), text);
}

// Parses the one message a refused raw client got back.
protocol::Message OnlyMessage(const engine::Buffer& bytes) {
  protocol::MessageReader reader;
  reader.Feed(bytes);
  Result<std::optional<protocol::Message>> m = reader.Next();
  EXPECT_TRUE(m.ok() && m->has_value()) << bytes.size() << " bytes";
  EXPECT_EQ(reader.buffered(), 0u);
  return m.ok() && m->has_value() ? std::move(**m) : protocol::Message{};
}

TEST(Server, RefusesOversizedMessageAndKeepsServingOthers) {
  LoopbackServer server;
  TlsIdentity client = NewIdentity("c");
  Result<std::unique_ptr<Channel>> other = Channel::Connect(server.ClientOptions(client));
  ASSERT_OK(other);

  test::RawTlsClient raw(server.server().port(), client);
  const uint8_t header[] = {uint8_t(MessageType::kFrame), 0xff, 0xff, 0xff, 0xff};
  raw.Write({reinterpret_cast<const std::byte*>(header), sizeof header});
  auto [bytes, closed] = raw.ReadUntilClosed();
  EXPECT_TRUE(closed);
  protocol::Message reply = OnlyMessage(bytes);
  ASSERT_EQ(reply.type, MessageType::kError);
  Result<protocol::Error> err = protocol::Error::Decode(reply.body);
  ASSERT_OK(err);
  EXPECT_EQ(err->code, Status::Code::kCorruption);
  EXPECT_NE(err->message.find("exceeds"), std::string::npos) << err->message;

  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.closes.size() == 1; }));
  ev.Update([&] {
    EXPECT_TRUE(ev.closes[0].IsCorruption());
    EXPECT_TRUE(ev.LogContains("malformed stream")) << ev.logs.size();
    EXPECT_TRUE(ev.LogContains("key " + test::FingerprintOf(client)));
  });
  ExpectEcho(other->get(), "still here");
}

TEST(Server, CutsClientThatStallsWithinAMessage) {
  // A long handshake deadline: the shorter progress one must still apply.
  LoopbackServer server([](ServerOptions* o) {
    o->handshake_timeout = std::chrono::minutes(5);
    o->progress_timeout = std::chrono::milliseconds(200);
  });
  test::RawTlsClient raw(server.server().port(), NewIdentity("slow"));
  const uint8_t first_byte[] = {uint8_t(MessageType::kHave)};
  raw.Write({reinterpret_cast<const std::byte*>(first_byte), 1});
  auto [bytes, closed] = raw.ReadUntilClosed();
  EXPECT_TRUE(closed);
  EXPECT_TRUE(bytes.empty());
  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.closes.size() == 1; }));
  ev.Update([&] {
    EXPECT_EQ(ev.closes[0].code(), Status::Code::kUnavailable);
    EXPECT_NE(
        ev.closes[0].message().find("timed out after 0.2 s waiting for the rest of a message"),
        std::string::npos)
        << ev.closes[0].message();
  });
}

TEST(Server, ClosesIdleSession) {
  LoopbackServer server([](ServerOptions* o) {
    o->handshake_timeout = std::chrono::minutes(5);
    o->idle_timeout = std::chrono::milliseconds(200);
  });
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(NewIdentity("c")));
  ASSERT_OK(ch);
  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.closes.size() == 1; }));
  ev.Update([&] {
    EXPECT_NE(ev.closes[0].message().find("waiting for the next message"), std::string::npos)
        << ev.closes[0].message();
  });
  EXPECT_EQ((*ch)->Receive().status().code(), Status::Code::kUnavailable);
}

TEST(Server, StopEndsOpenSessionWithOk) {
  LoopbackServer server;
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(NewIdentity("c")));
  ASSERT_OK(ch);
  ExpectEcho(ch->get(), "hello");
  EXPECT_EQ(server.server().active_sessions(), 1);
  server.StopAndJoin();  // returns once Run has
  auto& ev = server.events;
  ev.Update([&] {
    ASSERT_EQ(ev.closes.size(), 1u);
    EXPECT_OK(ev.closes[0]);
  });
  EXPECT_EQ(server.server().active_sessions(), 0);
  EXPECT_EQ((*ch)->Receive().status().code(), Status::Code::kUnavailable);
}

TEST(Server, StopFinishesTheMessageInHand) {
  LoopbackServer server;
  Result<std::unique_ptr<Channel>> ch = Channel::Connect(server.ClientOptions(NewIdentity("c")));
  ASSERT_OK(ch);
  ExpectEcho(ch->get(), "hello");
  // Half a message is in hand when the server stops: it waits for the rest.
  // One write, one TLS record: once "first" is answered, the server holds
  // the 3 bytes of "late".
  test::RawTlsClient raw(server.server().port(), NewIdentity("r"));
  engine::Buffer first, msg;
  protocol::EncodeMessage(MessageType::kHave, engine::ToBuffer("first"), &first);
  protocol::EncodeMessage(MessageType::kHave, engine::ToBuffer("late"), &msg);
  engine::Buffer both = first;
  engine::Append(&both, std::span(msg).first(3));
  raw.Write(both);
  EXPECT_TRUE(raw.Read(first.size()) == first);
  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.created.size() == 2; }));
  server.server().Stop();
  ASSERT_TRUE(ev.WaitFor([&] { return ev.closes.size() == 1; }));  // the idle channel
  raw.Write(std::span(msg).subspan(3));
  auto [bytes, closed] = raw.ReadUntilClosed();
  EXPECT_TRUE(closed);
  protocol::Message reply = OnlyMessage(bytes);
  EXPECT_EQ(engine::AsChars(reply.body), "late");
  server.StopAndJoin();
  ev.Update([&] {
    ASSERT_EQ(ev.closes.size(), 2u);
    EXPECT_OK(ev.closes[1]);
  });
}

TEST(Server, RefusesConnectionsBeyondMaxSessions) {
  LoopbackServer server([](ServerOptions* o) { o->max_sessions = 1; });
  Result<std::unique_ptr<Channel>> first = Channel::Connect(server.ClientOptions(NewIdentity("a")));
  ASSERT_OK(first);
  ExpectEcho(first->get(), "one");
  Result<std::unique_ptr<Channel>> second =
      Channel::Connect(server.ClientOptions(NewIdentity("b")));
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable) << second.status().ToString();
  auto& ev = server.events;
  ASSERT_TRUE(ev.WaitFor([&] { return ev.LogContains("1 sessions open already"); }));
  ExpectEcho(first->get(), "two");
}

TEST(Server, ListenFailsOnAPortInUse) {
  LoopbackServer first;
  ServerOptions opts;
  opts.identity = NewIdentity("s");
  opts.port = first.server().port();
  Server second(opts, [](const PeerInfo&) { return nullptr; });
  Status s = second.Listen();
  EXPECT_EQ(s.code(), Status::Code::kUnavailable);
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(opts.port)), std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace snap::replicator::net

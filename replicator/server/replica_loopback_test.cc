// ReplicaSession behind the real transport: net::Server on loopback, a
// net::Channel client with its own identity, TLS 1.3 both ways.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "replicator/net/channel.h"
#include "replicator/net/server.h"
#include "replicator/server/replica_session.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h
using protocol::MessageType;

class LoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    net::ServerOptions opts;
    opts.identity = *replica_.store().LoadIdentity();
    opts.threads = 2;
    server_ = std::make_unique<net::Server>(opts, [this](const net::PeerInfo& peer) {
      return std::make_unique<ReplicaSession>(&replica_.store(), peer);
    });
    ASSERT_OK(server_->Listen());
    runner_ = std::thread([this] { server_->Run(); });
    client_ = *net::GenerateIdentity("client");
    client_key_ = *net::Fingerprint(client_);
  }
  void TearDown() override {
    server_->Stop();
    if (runner_.joinable()) runner_.join();
  }
  Result<std::unique_ptr<net::Channel>> Connect() {
    net::ChannelOptions o;
    o.host = "127.0.0.1";
    o.port = server_->port();
    o.server_fingerprint = *net::Fingerprint(*replica_.store().LoadIdentity());
    o.identity = client_;
    return net::Channel::Connect(o);
  }
  static Status SendHello(net::Channel& c, const RepoId& repo) {
    protocol::Hello h;
    h.repo_id = repo;
    Buffer body;
    h.EncodeTo(&body);
    return c.Send(MessageType::kHello, body);
  }

  ReplicaDir replica_;
  std::unique_ptr<net::Server> server_;
  std::thread runner_;
  net::TlsIdentity client_;
  std::string client_key_;
};

TEST_F(LoopbackTest, PushesAndReadsBackOverTls) {
  replica_.AllowPush(client_key_);
  RepoId repo = RandomRepoId();
  Buffer a = MakeFrame(IdOf("a"), {}, "content", false);
  Buffer b = MakeFrame(IdOf("b"), {IdOf("a")}, "tree", false, EntryKind::kTree);
  auto c = Connect();
  ASSERT_OK(c);
  ASSERT_OK(SendHello(**c, repo));
  Result<protocol::Message> welcome = (*c)->Receive();
  ASSERT_OK(welcome);
  EXPECT_FALSE(protocol::Welcome::Decode(welcome->body)->repo_exists);
  ASSERT_OK((*c)->Send(MessageType::kPutConfig, MakeConfig(repo, false)));
  ASSERT_OK((*c)->Send(MessageType::kFrame, a));
  ASSERT_OK((*c)->Send(MessageType::kFrame, b));
  protocol::SnapshotObjectMessage commit{IdOf("snap"), MakeSnapshotObject({IdOf("b")}, false)};
  Buffer body;
  commit.EncodeTo(&body);
  ASSERT_OK((*c)->Send(MessageType::kCommitSnapshot, body));
  Result<protocol::Message> committed = (*c)->Receive();
  ASSERT_OK(committed);
  EXPECT_TRUE(protocol::Committed::Decode(committed->body)->created);
  protocol::IdList ids{{IdOf("a"), IdOf("z")}};
  body.clear();
  ids.EncodeTo(&body);
  ASSERT_OK((*c)->Send(MessageType::kGetChunks, body));
  Result<protocol::Message> frame = (*c)->Receive();
  ASSERT_OK(frame);
  EXPECT_EQ(frame->type, MessageType::kFrame);
  EXPECT_EQ(frame->body, a);
  Result<protocol::Message> missing = (*c)->Receive();
  ASSERT_OK(missing);
  EXPECT_EQ(missing->type, MessageType::kMissing);
  ASSERT_OK((*c)->Send(MessageType::kBye, {}));
  ASSERT_OK((*c)->Flush());
}

TEST_F(LoopbackTest, AnUnadmittedClientGetsTheReasonAsAnError) {
  auto c = Connect();
  ASSERT_OK(c);
  ASSERT_OK(SendHello(**c, RandomRepoId()));
  Result<protocol::Message> r = (*c)->Receive();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("replicad allow --dir"), std::string::npos);
}

}  // namespace
}  // namespace snap::replicator::server

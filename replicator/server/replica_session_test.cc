#include "replicator/server/replica_session.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h
using protocol::Message;
using protocol::MessageType;
using protocol::Role;

class SessionTest : public ::testing::Test {
 protected:
  SessionTest() {
    spdlog::set_level(spdlog::level::off);
    replica_.AllowPush(KeyOf('a'));
  }

  std::unique_ptr<ReplicaSession> Connect(const std::string& key) {
    return std::make_unique<ReplicaSession>(&replica_.store(),
                                            net::PeerInfo{"127.0.0.1:4242", key});
  }
  static Status Send(ReplicaSession& s, MessageType type, Buffer body = {}) {
    return s.OnMessage(Message{type, std::move(body)});
  }
  // Takes every queued reply, one NextReply call per message.
  static std::vector<Message> Replies(ReplicaSession& s) {
    std::vector<Message> out;
    Buffer bytes;
    while (true) {
      Result<bool> more = s.NextReply(&bytes);
      EXPECT_OK(more);
      if (!more.ok() || !*more) break;
      protocol::MessageReader reader;
      reader.Feed(bytes);
      Result<std::optional<Message>> m = reader.Next();
      EXPECT_TRUE(m.ok() && m->has_value() && reader.buffered() == 0) << "one message per call";
      if (m.ok() && *m) out.push_back(std::move(**m));
    }
    return out;
  }
  static Status Hello(ReplicaSession& s, Role role, const RepoId& repo, bool* exists = nullptr) {
    protocol::Hello h;
    h.role = role;
    h.repo_id = repo;
    h.client_name = "test-host";
    Buffer body;
    h.EncodeTo(&body);
    SNAP_RETURN_IF_ERROR(Send(s, MessageType::kHello, body));
    std::vector<Message> r = Replies(s);
    EXPECT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].type, MessageType::kWelcome);
    if (exists) *exists = protocol::Welcome::Decode(r[0].body)->repo_exists;
    return Status::OK();
  }
  static Buffer Ids(std::vector<ChunkId> ids) {
    protocol::IdList l{std::move(ids)};
    Buffer body;
    l.EncodeTo(&body);
    return body;
  }
  static Result<bool> Commit(ReplicaSession& s, const ChunkId& id, Buffer object) {
    protocol::SnapshotObjectMessage m{id, std::move(object)};
    Buffer body;
    m.EncodeTo(&body);
    SNAP_RETURN_IF_ERROR(Send(s, MessageType::kCommitSnapshot, body));
    std::vector<Message> r = Replies(s);
    EXPECT_EQ(r.size(), 1u);
    SNAP_ASSIGN_OR_RETURN(protocol::Committed c, protocol::Committed::Decode(r.at(0).body));
    EXPECT_EQ(c.id, id);
    return c.created;
  }
  // A repository owned by `key` holding frames a <- b and snapshot "snap".
  RepoId PushedRepository(const std::string& key = KeyOf('a')) {
    RepoId repo = RandomRepoId();
    auto s = Connect(key);
    EXPECT_OK(Hello(*s, Role::kPush, repo));
    EXPECT_OK(Send(*s, MessageType::kPutConfig, MakeConfig(repo, false)));
    EXPECT_OK(Send(*s, MessageType::kFrame, frame_a_));
    EXPECT_OK(Send(*s, MessageType::kFrame, frame_b_));
    EXPECT_EQ(*Commit(*s, IdOf("snap"), MakeSnapshotObject({IdOf("b")}, false)), true);
    EXPECT_OK(Send(*s, MessageType::kBye));
    EXPECT_TRUE(s->Done());
    s->OnClose(Status::OK());
    return repo;
  }

  ReplicaDir replica_;
  Buffer frame_a_ = MakeFrame(IdOf("a"), {}, "content a", false);
  Buffer frame_b_ = MakeFrame(IdOf("b"), {IdOf("a")}, "tree b", false, EntryKind::kTree);
};

bool Mentions(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST_F(SessionTest, RefusesAnUnknownClientAndTellsHowToAdmitIt) {
  RepoId repo = RandomRepoId();
  auto s = Connect(KeyOf('9'));
  Status st = Hello(*s, Role::kPush, repo);
  ASSERT_TRUE(st.IsInvalidArgument()) << st.ToString();
  EXPECT_TRUE(Mentions(st, "not admitted to repository " + RepoIdHex(repo))) << st.message();
  EXPECT_TRUE(Mentions(st, "replicad allow --dir " + replica_.dir() + " " + KeyOf('9')));
  EXPECT_EQ(replica_.store().metrics().refused_sessions.load(), 1u);
}

TEST_F(SessionTest, PushClientCreatesARepositoryAndBecomesItsOwner) {
  RepoId repo = PushedRepository();
  std::shared_ptr<ReplicaRepo> r = *replica_.store().Find(repo);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->owner(), KeyOf('a'));
  EXPECT_EQ(r->stats().snapshots, 1u);
  auto s = Connect(KeyOf('a'));
  bool exists = false;
  ASSERT_OK(Hello(*s, Role::kPush, repo, &exists));
  EXPECT_TRUE(exists);
}

TEST_F(SessionTest, RefusesAPushClientOnAnotherOwnersRepository) {
  RepoId repo = PushedRepository(KeyOf('a'));
  replica_.AllowPush(KeyOf('b'));
  Status push = Hello(*Connect(KeyOf('b')), Role::kPush, repo);
  EXPECT_TRUE(push.IsInvalidArgument()) << push.ToString();
  EXPECT_TRUE(Mentions(push, "another client owns it"));
  Status read = Hello(*Connect(KeyOf('b')), Role::kRead, repo);
  EXPECT_TRUE(read.IsInvalidArgument()) << read.ToString();
  replica_.AllowRead(KeyOf('b'), repo);  // takes effect without a restart
  EXPECT_OK(Hello(*Connect(KeyOf('b')), Role::kRead, repo));
  EXPECT_OK(Hello(*Connect(KeyOf('a')), Role::kRead, repo));  // the owner reads too
}

TEST_F(SessionTest, ReadClientMayOnlyReadTheRepositoryItWasGranted) {
  RepoId repo = PushedRepository(), other = PushedRepository();
  replica_.AllowRead(KeyOf('d'), repo);
  EXPECT_TRUE(Hello(*Connect(KeyOf('d')), Role::kRead, other).IsInvalidArgument());
  Status push = Hello(*Connect(KeyOf('d')), Role::kPush, repo);
  EXPECT_TRUE(push.IsInvalidArgument()) << push.ToString();
  auto s = Connect(KeyOf('d'));
  ASSERT_OK(Hello(*s, Role::kRead, repo));
  Status frame = Send(*s, MessageType::kFrame, MakeFrame(IdOf("x"), {}, "x", false));
  EXPECT_TRUE(frame.IsInvalidArgument()) << frame.ToString();
  EXPECT_TRUE(Send(*Connect(KeyOf('d')), MessageType::kGetConfig).IsInvalidArgument());
  EXPECT_FALSE((*replica_.store().Find(repo))->ReadFrame(IdOf("x"))->has_value());
}

TEST_F(SessionTest, RefusesMessagesAClientMayNotSend) {
  RepoId repo = PushedRepository();
  auto s = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*s, Role::kPush, repo));
  for (MessageType t : {MessageType::kCommitted, MessageType::kSnapshotList, MessageType::kMissing,
                        MessageType::kWelcome}) {
    Status st = Send(*s, t, Buffer(40));
    EXPECT_EQ(st.code(), Status::Code::kNotSupported) << st.ToString();
    EXPECT_TRUE(Mentions(st, "append-only"));
  }
}

TEST_F(SessionTest, RefusesANewerProtocolVersion) {
  protocol::Hello h;
  h.version = 2;
  Buffer body;
  h.EncodeTo(&body);
  EXPECT_EQ(Send(*Connect(KeyOf('a')), MessageType::kHello, body).code(),
            Status::Code::kNotSupported);
}

TEST_F(SessionTest, SecondPushToTheSameRepositoryIsBusyWhileReadsGoOn) {
  RepoId repo = PushedRepository();
  auto first = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*first, Role::kPush, repo));
  Status busy = Hello(*Connect(KeyOf('a')), Role::kPush, repo);
  EXPECT_EQ(busy.code(), Status::Code::kUnavailable) << busy.ToString();
  EXPECT_TRUE(Mentions(busy, "is busy with another push; retry later"));
  EXPECT_OK(Hello(*Connect(KeyOf('a')), Role::kRead, repo));
  first->OnClose(Status::OK());
  EXPECT_OK(Hello(*Connect(KeyOf('a')), Role::kPush, repo));
}

TEST_F(SessionTest, FramesNeedAConfigFirst) {
  auto s = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*s, Role::kPush, RandomRepoId()));
  Status st = Send(*s, MessageType::kFrame, frame_a_);
  EXPECT_TRUE(st.IsInvalidArgument() && Mentions(st, "send PUT_CONFIG first")) << st.ToString();
}

TEST_F(SessionTest, ConfigIsPutOnceAndNeverReplaced) {
  RepoId repo = PushedRepository();
  auto s = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*s, Role::kPush, repo));
  EXPECT_OK(Send(*s, MessageType::kPutConfig, MakeConfig(repo, false)));
  EXPECT_TRUE(Send(*s, MessageType::kPutConfig, MakeConfig(repo, true)).IsInvalidArgument());
  EXPECT_FALSE((*replica_.store().Find(repo))->config().encrypted);
}

TEST_F(SessionTest, RefusesAFrameWhoseChildIsMissing) {
  RepoId repo = RandomRepoId();
  auto s = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*s, Role::kPush, repo));
  ASSERT_OK(Send(*s, MessageType::kPutConfig, MakeConfig(repo, false)));
  Status st = Send(*s, MessageType::kFrame, frame_b_);
  EXPECT_TRUE(st.IsCorruption() && Mentions(st, "children must be sent before parents"))
      << st.ToString();
  EXPECT_EQ(replica_.store().metrics().errors.load(), 1u);
}

TEST_F(SessionTest, CutSessionKeepsTheFramesItAccepted) {
  RepoId repo = RandomRepoId();
  auto s = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*s, Role::kPush, repo));
  ASSERT_OK(Send(*s, MessageType::kPutConfig, MakeConfig(repo, false)));
  ASSERT_OK(Send(*s, MessageType::kFrame, frame_a_));
  s->OnClose(Status::Unavailable("connection reset"));
  auto next = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*next, Role::kPush, repo));
  ASSERT_OK(Send(*next, MessageType::kHave, Ids({IdOf("a"), IdOf("b")})));
  std::vector<Message> r = Replies(*next);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(protocol::HaveReply::Decode(r[0].body)->have, (std::vector<bool>{true, false}));
}

TEST_F(SessionTest, GetChunksAnswersEachIdInOrderOneReplyAtATime) {
  RepoId repo = PushedRepository();
  auto s = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*s, Role::kRead, repo));
  ASSERT_OK(Send(*s, MessageType::kGetChunks, Ids({IdOf("b"), IdOf("nope"), IdOf("a")})));
  std::vector<Message> r = Replies(*s);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].type, MessageType::kFrame);
  EXPECT_EQ(r[0].body, frame_b_);
  EXPECT_EQ(r[1].type, MessageType::kMissing);
  EXPECT_EQ(protocol::IdMessage::Decode(r[1].body)->id, IdOf("nope"));
  EXPECT_EQ(r[2].body, frame_a_);
  EXPECT_GT(replica_.store().metrics().sent_bytes.load(), frame_a_.size() + frame_b_.size());
}

TEST_F(SessionTest, ReadsConfigSnapshotListAndSnapshot) {
  RepoId repo = PushedRepository();
  auto s = Connect(KeyOf('a'));
  ASSERT_OK(Hello(*s, Role::kRead, repo));
  ASSERT_OK(Send(*s, MessageType::kGetConfig));
  ASSERT_OK(Send(*s, MessageType::kListSnapshots));
  protocol::IdMessage get{IdOf("snap")};
  Buffer body;
  get.EncodeTo(&body);
  ASSERT_OK(Send(*s, MessageType::kGetSnapshot, body));
  std::vector<Message> r = Replies(*s);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].body, MakeConfig(repo, false));
  auto list = *protocol::SnapshotList::Decode(r[1].body);
  ASSERT_EQ(list.entries.size(), 1u);
  EXPECT_EQ(list.entries[0].id, IdOf("snap"));
  EXPECT_EQ(list.entries[0].received_ns, replica_.now_ns);
  EXPECT_EQ(protocol::SnapshotObjectMessage::Decode(r[2].body)->object,
            MakeSnapshotObject({IdOf("b")}, false));
  get.id = IdOf("unknown");
  body.clear();
  get.EncodeTo(&body);
  EXPECT_TRUE(Send(*s, MessageType::kGetSnapshot, body).IsNotFound());
}

TEST_F(SessionTest, MetricsNameEveryFamilyAndTheRecoveryPoint) {
  RepoId repo = PushedRepository();
  replica_.now_ns += 90'000'000'000;  // 90 s after the commit
  std::string text = replica_.store().MetricsText();
  for (const char* name : {"replicad_received_bytes_total", "replicad_received_chunks_total 2",
                           "replicad_snapshots_committed_total 1", "replicad_sent_bytes_total",
                           "replicad_sessions_total 1", "replicad_sessions_active 0",
                           "replicad_refused_sessions_total 0", "replicad_errors_total 0",
                           "# TYPE replicad_repository_snapshots gauge"})
    EXPECT_NE(text.find(name), std::string::npos) << name << "\n" << text;
  std::string label = "{repository=\"" + RepoIdHex(repo) + "\"}";
  EXPECT_NE(text.find("replicad_repository_snapshots" + label + " 1\n"), std::string::npos);
  EXPECT_NE(text.find("replicad_repository_newest_snapshot_age_seconds" + label + " 90.000\n"),
            std::string::npos)
      << text;
}

TEST_F(SessionTest, HealthFailsWhenTheDirectoryTakesNoWrites) {
  EXPECT_OK(replica_.store().CheckHealth());
  std::filesystem::remove_all(replica_.dir() + "/repos");
  EXPECT_FALSE(replica_.store().CheckHealth().ok());
}

}  // namespace
}  // namespace snap::replicator::server

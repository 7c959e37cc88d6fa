#include "replicator/server/replica_store.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <future>
#include <thread>

#include "replicator/server/push_writer.h"
#include "replicator/server/replica_session.h"
#include "replicator/server/repo_lock.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h

bool IsUnavailable(const Status& s) { return s.code() == Status::Code::kUnavailable; }

TEST(RepoLock, ExcludesASecondHolderAndNamesTheFirst) {
  test::TempDir tmp;
  auto first = RepoLock::Acquire(tmp.path(), "gc", /*wait=*/false);
  ASSERT_OK(first);
  auto second = RepoLock::Acquire(tmp.path(), "serve", /*wait=*/false);
  ASSERT_TRUE(IsUnavailable(second.status())) << second.status().ToString();
  EXPECT_NE(second.status().message().find("in use by gc (pid "), std::string::npos)
      << second.status().message();
  first->reset();
  EXPECT_OK(RepoLock::Acquire(tmp.path(), "serve", /*wait=*/false));
}

TEST(RepoLock, AWaitingHolderGetsItWhenTheFirstLetsGo) {
  test::TempDir tmp;
  std::unique_ptr<RepoLock> first = *RepoLock::Acquire(tmp.path(), "serve", false);
  std::promise<std::string> waiting;
  std::thread t([&] {
    auto l = RepoLock::Acquire(tmp.path(), "gc", /*wait=*/true,
                               [&](const std::string& by) { waiting.set_value(by); });
    EXPECT_OK(l);
  });
  EXPECT_NE(waiting.get_future().get().find("serve"), std::string::npos);
  first.reset();
  t.join();
}

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() {
    spdlog::set_level(spdlog::level::off);
    replica_.AllowPush(KeyOf('a'));
  }
  // Creates the repository with one snapshot through the store.
  void CreateRepo() {
    PushLease lease = *replica_.store().AcquirePush(id_);
    auto repo = replica_.store().Create(lease, MakeConfig(id_, false), KeyOf('a'));
    ASSERT_OK(repo);
    PushWriter w(repo->get());
    ASSERT_OK(w.AddFrame(MakeFrame(IdOf("a"), {}, "a", false)));
    ASSERT_OK(w.Commit(IdOf("s1"), MakeSnapshotObject({IdOf("a")}, false)));
  }
  Result<std::unique_ptr<ReplicaRepo>> Admin(bool wait = false) {
    RepoOptions o;
    o.lock_holder = "gc";
    o.wait_for_lock = wait;
    return ReplicaStore::OpenForAdmin(replica_.dir(), RepoIdHex(id_), o);
  }

  ReplicaDir replica_;
  RepoId id_ = RandomRepoId();
};

TEST_F(StoreTest, ARepositoryIsOpenOnlyWhileHandlesLive) {
  CreateRepo();
  {
    std::shared_ptr<ReplicaRepo> h1 = *replica_.store().Find(id_);
    std::shared_ptr<ReplicaRepo> h2 = *replica_.store().Find(id_);
    EXPECT_EQ(h1.get(), h2.get());  // sessions share one open repository
    EXPECT_TRUE(IsUnavailable(Admin().status())) << Admin().status().ToString();
    h1.reset();
    EXPECT_TRUE(IsUnavailable(Admin().status()));
  }
  auto admin = Admin();
  ASSERT_OK(admin);
  EXPECT_EQ((*admin)->ListSnapshots()->size(), 1u);
}

TEST_F(StoreTest, SessionsAreRefusedWithRetryLaterWhileAnAdminHoldsTheRepository) {
  CreateRepo();
  auto admin = Admin();
  ASSERT_OK(admin);
  Result<std::shared_ptr<ReplicaRepo>> found = replica_.store().Find(id_);
  ASSERT_TRUE(IsUnavailable(found.status())) << found.status().ToString();
  EXPECT_NE(found.status().message().find("in use by gc"), std::string::npos);
  EXPECT_NE(found.status().message().find("retry later"), std::string::npos);

  ReplicaSession session(&replica_.store(), net::PeerInfo{"127.0.0.1:1", KeyOf('a')});
  protocol::Hello h;
  h.role = protocol::Role::kPush;
  h.repo_id = id_;
  Buffer body;
  h.EncodeTo(&body);
  Status refused = session.OnMessage({protocol::MessageType::kHello, body});
  EXPECT_TRUE(IsUnavailable(refused)) << refused.ToString();
  // The push lease was not kept by the refused session.
  admin->reset();
  EXPECT_OK(replica_.store().AcquirePush(id_));
  EXPECT_OK(replica_.store().Find(id_));
}

TEST_F(StoreTest, AnAdminWaitsForTheSessionsToEnd) {
  CreateRepo();
  std::shared_ptr<ReplicaRepo> session = *replica_.store().Find(id_);
  std::promise<void> waiting;
  std::thread t([&] {
    RepoOptions o;
    o.lock_holder = "forget";
    o.wait_for_lock = true;
    o.on_lock_wait = [&](const std::string&) { waiting.set_value(); };
    EXPECT_OK(ReplicaStore::OpenForAdmin(replica_.dir(), RepoIdHex(id_), o));
  });
  waiting.get_future().get();
  session.reset();  // the last handle closes the repository
  t.join();
}

TEST_F(StoreTest, MetricsShowAClosedRepositoryAndCatchUpWithAForget) {
  CreateRepo();
  std::string text = replica_.store().MetricsText();
  std::string gauge = "replicad_repository_snapshots{repository=\"" + RepoIdHex(id_) + "\"} ";
  EXPECT_NE(text.find(gauge + "1"), std::string::npos) << text;
  {
    auto admin = *Admin();
    ASSERT_OK(admin->ForgetSnapshot(IdOf("s1")));
  }
  text = replica_.store().MetricsText();
  EXPECT_NE(text.find(gauge + "0"), std::string::npos) << text;
}

// The replica is append-only for clients: whatever message type a push
// session sends, with a held snapshot's ID as its body, nothing leaves.
TEST_F(StoreTest, NoMessageAClientSendsRemovesAnything) {
  CreateRepo();
  std::shared_ptr<ReplicaRepo> repo = *replica_.store().Find(id_);  // kept open throughout
  uint64_t packs = *repo->PackBytes();
  Buffer id_body = engine::ToBuffer(engine::AsChars(IdOf("s1").span()));
  for (int type = 0; type < 256; ++type) {
    if (type == static_cast<int>(protocol::MessageType::kHello)) continue;
    ReplicaSession session(&replica_.store(), net::PeerInfo{"127.0.0.1:1", KeyOf('a')});
    protocol::Hello h;
    h.role = protocol::Role::kPush;
    h.repo_id = id_;
    Buffer hello;
    h.EncodeTo(&hello);
    ASSERT_OK(session.OnMessage({protocol::MessageType::kHello, hello}));
    for (const Buffer& body : {Buffer(), id_body})
      (void)session.OnMessage({static_cast<protocol::MessageType>(type), body});
  }
  auto listed = repo->ListSnapshots();
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, IdOf("s1"));
  EXPECT_TRUE((*repo->GetSnapshot(IdOf("s1"))).has_value());
  EXPECT_EQ(*repo->PackBytes(), packs);
  EXPECT_TRUE(repo->ReadFrame(IdOf("a")).value().has_value());
}

TEST_F(StoreTest, OpenForAdminNamesWhatIsWrong) {
  RepoOptions o;
  EXPECT_TRUE(ReplicaStore::OpenForAdmin(replica_.dir(), "nothex", o).status().IsInvalidArgument());
  EXPECT_TRUE(ReplicaStore::OpenForAdmin(replica_.dir(), RepoIdHex(id_), o).status().IsNotFound());
  EXPECT_TRUE(ReplicaStore::OpenForAdmin(replica_.dir() + "/nope", RepoIdHex(id_), o)
                  .status()
                  .IsNotFound());
}

}  // namespace
}  // namespace snap::replicator::server

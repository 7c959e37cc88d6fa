#include "replicator/server/replica_forget.h"

#include <gtest/gtest.h>

#include "engine/repository.h"
#include "replicator/server/push_writer.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h

constexpr int64_t kHour = int64_t{3600} * 1000000000;

class ReplicaForgetTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(/*create=*/true); }
  void Open(bool create) {
    writer_.reset();
    repo_.reset();
    RepoOptions opts;
    opts.now_ns = [this] { return now_ns_; };
    std::string dir = tmp_.Sub("r");
    Result<std::unique_ptr<ReplicaRepo>> r =
        create ? ReplicaRepo::Create(dir, id_, MakeConfig(id_, true), KeyOf('a'), opts)
               : ReplicaRepo::Open(dir, opts);
    ASSERT_OK(r);
    repo_ = std::move(*r);
    writer_ = std::make_unique<PushWriter>(repo_.get());
    if (create) ASSERT_OK(writer_->AddFrame(MakeFrame(IdOf("root"), {}, "root", true)));
  }
  // Commits snapshot `name`, received `hours` hours after the epoch of the test.
  void Receive(std::string_view name, int64_t hours) {
    now_ns_ = kStart + hours * kHour;
    ASSERT_OK(writer_->Commit(IdOf(name), MakeSnapshotObject({IdOf("root")}, true, name)));
  }
  ReplicaForgetPlan Plan(const engine::gc::RetentionPolicy& p) {
    Result<ReplicaForgetPlan> plan = PlanReplicaForget(*repo_, p);
    EXPECT_OK(plan);
    return plan.ok() ? *plan : ReplicaForgetPlan();
  }
  std::vector<ChunkId> Listed() {
    std::vector<ChunkId> out;
    Result<std::vector<protocol::SnapshotList::Entry>> listed = repo_->ListSnapshots();
    EXPECT_OK(listed);
    if (listed.ok())
      for (const auto& e : *listed) out.push_back(e.id);
    return out;
  }

  static constexpr int64_t kStart = 1'800'000'000'000'000'000;  // 2027-01-15T08:00:00Z
  test::TempDir tmp_;
  RepoId id_ = RandomRepoId();
  int64_t now_ns_ = kStart;
  std::unique_ptr<ReplicaRepo> repo_;
  std::unique_ptr<PushWriter> writer_;
};

TEST_F(ReplicaForgetTest, KeepsByTheTimeTheReplicaReceivedEachSnapshot) {
  // Received in this order; their IDs sort otherwise, and whatever time the
  // sealed records claim is not the replica's to read.
  Receive("z-first", 0);
  Receive("m-second", 30);
  Receive("a-third", 31);
  engine::gc::RetentionPolicy p;
  p.last = 2;
  ReplicaForgetPlan plan = Plan(p);
  ASSERT_EQ(plan.items.size(), 3u);
  EXPECT_EQ(plan.items[0].snapshot.id, IdOf("z-first"));
  EXPECT_FALSE(plan.items[0].decision.keep);
  EXPECT_TRUE(plan.items[1].decision.keep);
  EXPECT_TRUE(plan.items[2].decision.keep);
  EXPECT_EQ(plan.items[2].decision.reasons, std::vector<std::string>{"last"});

  engine::gc::RetentionPolicy daily;
  daily.daily = 5;
  plan = Plan(daily);  // hours 30 and 31 share a day: the later one stands for it
  EXPECT_TRUE(plan.items[0].decision.keep);
  EXPECT_FALSE(plan.items[1].decision.keep);
  EXPECT_TRUE(plan.items[2].decision.keep);
  EXPECT_EQ(plan.kept(), 2u);
  EXPECT_EQ(plan.removed(), 1u);
}

TEST_F(ReplicaForgetTest, ForgottenSnapshotsLeaveTheListingForGood) {
  for (int i = 0; i < 4; ++i) Receive("s" + std::to_string(i), i);
  engine::gc::RetentionPolicy p;
  p.within_ns = 90 * int64_t{60} * 1000000000;  // 1.5 h before the newest: s2, s3
  p.within_text = "90min";
  Result<size_t> n = ApplyReplicaForget(*repo_, Plan(p));
  ASSERT_OK(n);
  EXPECT_EQ(*n, 2u);
  std::vector<ChunkId> kept = {IdOf("s2"), IdOf("s3")};
  EXPECT_EQ(Listed(), kept);
  EXPECT_EQ(*repo_->GetSnapshot(IdOf("s0")), std::nullopt);
  EXPECT_EQ(repo_->stats().snapshots, 2u);
  EXPECT_EQ(repo_->stats().newest_received_ns, kStart + 3 * kHour);

  Open(/*create=*/false);
  EXPECT_EQ(Listed(), kept);
  EXPECT_TRUE(repo_->UnlistedSnapshots()->empty());
  // A client pushing a forgotten snapshot again gets it recorded anew: the
  // replica is append-only for clients, forgetting is the admin's.
  EXPECT_EQ(*writer_->Commit(IdOf("s0"), MakeSnapshotObject({IdOf("root")}, true, "s0")), true);
}

TEST_F(ReplicaForgetTest, RemovesUnlistedObjectsAndRefusesAnEmptyPolicy) {
  Receive("s", 0);
  Buffer object = MakeSnapshotObject({IdOf("root")}, true, "cut");
  ASSERT_OK(repo_->objects().PutIfAbsent(engine::Repository::SnapshotKey(IdOf("cut")), object));
  EXPECT_TRUE(PlanReplicaForget(*repo_, {}).status().IsInvalidArgument());

  engine::gc::RetentionPolicy p;
  p.last = 1;
  ReplicaForgetPlan plan = Plan(p);
  EXPECT_EQ(plan.unlisted, std::vector<ChunkId>{IdOf("cut")});
  EXPECT_EQ(*ApplyReplicaForget(*repo_, plan), 0u);
  EXPECT_EQ(*repo_->GetSnapshot(IdOf("cut")), std::nullopt);
  EXPECT_EQ(Listed(), std::vector<ChunkId>{IdOf("s")});
}

}  // namespace
}  // namespace snap::replicator::server

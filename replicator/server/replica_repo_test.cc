#include "replicator/server/replica_repo.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "replicator/server/push_writer.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h

TEST(ReplicaRepo, CreateRefusesConfigNamingAnotherRepository) {
  test::TempDir tmp;
  RepoId id = RandomRepoId(), other = RandomRepoId();
  Result<std::unique_ptr<ReplicaRepo>> r =
      ReplicaRepo::Create(tmp.Sub("r"), id, MakeConfig(other, false), KeyOf('a'));
  EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
  EXPECT_FALSE(ReplicaRepo::Create(tmp.Sub("r"), id, Buffer(5), KeyOf('a')).ok());
  EXPECT_TRUE(ReplicaRepo::Open(tmp.Sub("r")).status().IsNotFound());
}

TEST(ReplicaRepo, RebuildsALostIndexFromPacksAndSnapshots) {
  spdlog::set_level(spdlog::level::off);
  test::TempDir tmp;
  RepoId id = RandomRepoId();
  std::string dir = tmp.Sub("r");
  Buffer a = MakeFrame(IdOf("a"), {}, "a", false),
         b = MakeFrame(IdOf("b"), {IdOf("a")}, "b", false);
  {
    auto repo = *ReplicaRepo::Create(dir, id, MakeConfig(id, false), KeyOf('a'));
    PushWriter w(repo.get());
    ASSERT_OK(w.AddFrame(a));
    ASSERT_OK(w.Flush());
    ASSERT_OK(w.AddFrame(b));
    ASSERT_OK(w.Commit(IdOf("snap"), MakeSnapshotObject({IdOf("b")}, false)));
  }
  std::filesystem::remove_all(dir + "/index");
  auto repo = ReplicaRepo::Open(dir);
  ASSERT_OK(repo);
  std::vector<bool> held;
  ASSERT_OK((*repo)->Held(std::vector<ChunkId>{IdOf("a"), IdOf("b"), IdOf("c")}, &held));
  EXPECT_EQ(held, (std::vector<bool>{true, true, false}));
  EXPECT_EQ(**(*repo)->ReadFrame(IdOf("b")), b);
  auto list = *(*repo)->ListSnapshots();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, IdOf("snap"));
  EXPECT_GT(list[0].received_ns, 0);
  EXPECT_EQ((*repo)->stats().snapshots, 1u);
}

TEST(ReplicaRepo, ReadOnlyOpenSeesWhatTheWriterCommitted) {
  test::TempDir tmp;
  RepoId id = RandomRepoId();
  auto writer = *ReplicaRepo::Create(tmp.Sub("r"), id, MakeConfig(id, false), KeyOf('a'));
  PushWriter w(writer.get());
  ASSERT_OK(w.AddFrame(MakeFrame(IdOf("a"), {}, "a", false)));
  ASSERT_OK(w.Commit(IdOf("snap"), MakeSnapshotObject({IdOf("a")}, false)));
  RepoOptions ro;
  ro.read_only = true;
  auto reader = ReplicaRepo::Open(tmp.Sub("r"), ro);  // beside the open writer
  ASSERT_OK(reader);
  EXPECT_EQ((*reader)->ListSnapshots()->size(), 1u);
  EXPECT_GT(*(*reader)->PackBytes(), 0u);
}

}  // namespace
}  // namespace snap::replicator::server

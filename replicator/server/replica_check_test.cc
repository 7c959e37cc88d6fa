#include "replicator/server/replica_check.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

#include "engine/repository.h"
#include "replicator/server/push_writer.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h

// Two snapshots sharing chunk "a": s1 -> t1 -> {a, b}, s2 -> t2 -> {a, c}.
// Each tree and its new chunks go to a pack of their own.
class ReplicaCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::off);
    id_ = RandomRepoId();
    RepoOptions opts;
    opts.now_ns = [this] { return now_ns_; };
    auto r = ReplicaRepo::Create(dir(), id_, MakeConfig(id_, false), KeyOf('a'), opts);
    ASSERT_OK(r);
    repo_ = std::move(*r);
    PushWriter w(repo_.get());
    ASSERT_OK(w.AddFrame(Frame("a")));
    ASSERT_OK(w.AddFrame(Frame("b")));
    ASSERT_OK(w.AddFrame(Tree("t1", {IdOf("a"), IdOf("b")})));
    ASSERT_OK(w.Commit(IdOf("s1"), Object("s1")));
    now_ns_ += 1000;
    ASSERT_OK(w.AddFrame(Frame("c")));
    ASSERT_OK(w.AddFrame(Tree("t2", {IdOf("a"), IdOf("c")})));
    ASSERT_OK(w.Commit(IdOf("s2"), Object("s2")));
  }

  std::string dir() const { return tmp_.Sub("repo"); }
  static Buffer Frame(std::string_view name) {
    return MakeFrame(IdOf(name), {}, "payload of " + std::string(name), false);
  }
  static Buffer Tree(std::string_view name, std::vector<ChunkId> refs) {
    return MakeFrame(IdOf(name), std::move(refs), "tree " + std::string(name), false,
                     EntryKind::kTree);
  }
  static Buffer Object(std::string_view snapshot) {
    return MakeSnapshotObject({IdOf(snapshot == "s1" ? "t1" : "t2")}, false,
                              "record of " + std::string(snapshot));
  }

  engine::index::ChunkLocation Where(std::string_view name) {
    engine::index::ChunkLocation found;
    EXPECT_OK(repo_->ForEachChunk([&](const ChunkId& id, const engine::index::ChunkLocation& l) {
      if (id == IdOf(name)) found = l;
      return true;
    }));
    return found;
  }
  std::string PackPath(std::string_view name) {
    return dir() + "/" + engine::Repository::PackKey(Where(name).pack);
  }
  // Flips a byte of `name`'s payload in its pack.
  void DamagePayload(std::string_view name) {
    engine::index::ChunkLocation l = Where(name);
    FlipByte(PackPath(name), l.entry.offset + engine::pack::kFrameHeaderSize + 2);
  }
  static void FlipByte(const std::string& path, uint64_t at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(&c, 1);
  }

  ReplicaCheckReport Check(bool read_data, bool repair = false) {
    Result<ReplicaCheckReport> r = CheckReplicaRepo(*repo_, {read_data, repair});
    EXPECT_OK(r);
    return r.ok() ? *r : ReplicaCheckReport();
  }
  std::vector<bool> Held(std::vector<std::string_view> names) {
    std::vector<ChunkId> ids;
    for (auto n : names) ids.push_back(IdOf(n));
    std::vector<bool> held;
    EXPECT_OK(repo_->Held(ids, &held));
    return held;
  }
  std::vector<ChunkId> Listed() {
    std::vector<ChunkId> out;
    Result<std::vector<protocol::SnapshotList::Entry>> listed = repo_->ListCompleteSnapshots();
    EXPECT_OK(listed);
    if (listed.ok())
      for (const auto& e : *listed) out.push_back(e.id);
    return out;
  }

  test::TempDir tmp_;
  RepoId id_{};
  int64_t now_ns_ = 1000;
  std::unique_ptr<ReplicaRepo> repo_;
};

std::vector<ChunkId> Sorted(std::vector<ChunkId> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST_F(ReplicaCheckTest, ASoundRepositoryPassesWithAndWithoutReadingData) {
  ReplicaCheckReport r = Check(false);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.snapshots, 2u);
  EXPECT_EQ(r.objects, 5u);  // t1 a b t2 c
  EXPECT_EQ(r.packs, 2u);
  EXPECT_EQ(r.packs_read, 0u);
  r = Check(true);
  EXPECT_TRUE(r.ok()) << (r.chunks.empty() ? "" : r.chunks[0].problem);
  EXPECT_EQ(r.packs_read, 2u);
  EXPECT_GT(r.bytes_read, 0u);
}

TEST_F(ReplicaCheckTest, ReadDataNamesADamagedChunkWithEverySnapshotNeedingIt) {
  DamagePayload("a");
  EXPECT_TRUE(Check(false).ok()) << "a header read cannot see a payload's damage";
  ReplicaCheckReport r = Check(true);
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_EQ(r.chunks[0].id, IdOf("a"));
  EXPECT_EQ(r.chunks[0].kind, "data");
  EXPECT_NE(r.chunks[0].problem.find("checksum"), std::string::npos) << r.chunks[0].problem;
  EXPECT_NE(r.chunks[0].problem.find(engine::Repository::PackKey(Where("a").pack)),
            std::string::npos);
  EXPECT_EQ(r.chunks[0].snapshots, Sorted({IdOf("s1"), IdOf("s2")}));
  EXPECT_EQ(r.incomplete, Sorted({IdOf("s1"), IdOf("s2")}));
}

TEST_F(ReplicaCheckTest, AMissingPackIsFoundWithoutReadingData) {
  std::filesystem::remove(PackPath("c"));
  ReplicaCheckReport r = Check(false, /*repair=*/true);
  ASSERT_EQ(r.chunks.size(), 2u);  // c and t2 share the second pack
  for (const ChunkDamage& d : r.chunks) {
    EXPECT_NE(d.problem.find("is missing"), std::string::npos) << d.problem;
    // c is below a tree that is gone too: the replica cannot trace it.
    EXPECT_EQ(d.snapshots,
              d.id == IdOf("t2") ? std::vector<ChunkId>{IdOf("s2")} : std::vector<ChunkId>{});
  }
  EXPECT_EQ(r.incomplete, std::vector<ChunkId>{IdOf("s2")});
  // Both leave the index, so one push of s2 sends both again.
  EXPECT_EQ(Held({"c", "t2", "a"}), (std::vector<bool>{false, false, true}));
}

TEST_F(ReplicaCheckTest, RepairForgetsTheDamagedChunkAndWhatIsAboveItUntilTheClientSendsThem) {
  DamagePayload("a");
  Check(true, /*repair=*/true);
  // The damaged chunk and the trees above it no longer answer HAVE; the
  // sound leaves stay.
  EXPECT_EQ(Held({"a", "t1", "t2", "b", "c"}),
            (std::vector<bool>{false, false, false, true, true}));
  EXPECT_EQ(Listed(), std::vector<ChunkId>{});
  EXPECT_EQ(*repo_->AwaitingResend(), Sorted({IdOf("s1"), IdOf("s2")}));
  auto before = *repo_->ListSnapshots();
  ASSERT_EQ(before.size(), 2u);

  // The client pushes s1 again: the walk finds t1 and a missing.
  now_ns_ += 5000;
  PushWriter w(repo_.get());
  std::vector<bool> have;
  ASSERT_OK(w.Have(std::vector<ChunkId>{IdOf("t1")}, &have));
  EXPECT_FALSE(have[0]);
  EXPECT_EQ(*w.AddFrame(Frame("a")), true);
  EXPECT_EQ(*w.AddFrame(Tree("t1", {IdOf("a"), IdOf("b")})), true);
  EXPECT_EQ(*w.Commit(IdOf("s1"), Object("s1")), false);  // held already: created 0
  EXPECT_EQ(Listed(), std::vector<ChunkId>{IdOf("s1")});
  ReplicaCheckReport r = Check(true);
  EXPECT_EQ(r.incomplete, std::vector<ChunkId>{IdOf("s2")});
  EXPECT_EQ(r.awaiting_resend, std::vector<ChunkId>{IdOf("s2")});

  ASSERT_OK(w.AddFrame(Tree("t2", {IdOf("a"), IdOf("c")})));
  ASSERT_OK(w.Commit(IdOf("s2"), Object("s2")));
  r = Check(true);
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.notes.size(), 1u);  // the damaged copy left in the old pack
  EXPECT_NE(r.notes[0].find("no longer reads"), std::string::npos) << r.notes[0];
  // Receipt times are the first ones: retention is not fooled by a repair.
  auto after = *repo_->ListSnapshots();
  ASSERT_EQ(after.size(), 2u);
  for (size_t i = 0; i < 2; i++) EXPECT_EQ(after[i].received_ns, before[i].received_ns);
}

TEST_F(ReplicaCheckTest, FramesSentAgainAsTheSamePackReplaceTheDamagedFile) {
  DamagePayload("c");  // the second pack: c then t2
  std::string damaged = PackPath("c");
  Check(true, /*repair=*/true);
  // The client sends the same frames in the same order: the same pack
  // bytes, hence the same name as the damaged file.
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Frame("c")));
  ASSERT_OK(w.AddFrame(Tree("t2", {IdOf("a"), IdOf("c")})));
  ASSERT_OK(w.Commit(IdOf("s2"), Object("s2")));
  EXPECT_EQ(PackPath("c"), damaged);
  ReplicaCheckReport r = Check(true);
  EXPECT_TRUE(r.ok()) << (r.chunks.empty() ? "" : r.chunks[0].problem);
  EXPECT_EQ(**repo_->ReadFrame(IdOf("c")), Frame("c"));
}

TEST_F(ReplicaCheckTest, ObjectsNoSnapshotReachesAreCheckedAndRepairedToo) {
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Tree("orphan", {IdOf("b")})));  // a push cut before its commit
  ASSERT_OK(w.Flush());
  DamagePayload("b");
  ReplicaCheckReport r = Check(true, /*repair=*/true);
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_EQ(r.chunks[0].snapshots, std::vector<ChunkId>{IdOf("s1")});
  EXPECT_EQ(Held({"orphan", "b", "t1", "t2"}), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(r.unindexed, 3u);
  EXPECT_EQ(r.marked, 1u);
}

TEST_F(ReplicaCheckTest, ADamagedSnapshotObjectIsDeletedByRepairAndTakenAgain) {
  std::string path = dir() + "/" + engine::Repository::SnapshotKey(IdOf("s2"));
  FlipByte(path, std::filesystem::file_size(path) / 2);
  ReplicaCheckReport r = Check(false, /*repair=*/true);
  ASSERT_EQ(r.snapshot_objects.size(), 1u);
  EXPECT_EQ(r.snapshot_objects[0].id, IdOf("s2"));
  EXPECT_EQ(r.incomplete, std::vector<ChunkId>{IdOf("s2")});
  EXPECT_EQ(r.objects_deleted, 1u);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(Listed(), std::vector<ChunkId>{IdOf("s1")});
  PushWriter w(repo_.get());
  EXPECT_EQ(*w.Commit(IdOf("s2"), Object("s2")), false);
  EXPECT_TRUE(Check(true).ok());
}

TEST_F(ReplicaCheckTest, ADamagedFooterCountsAgainstTheChunksOfItsPack) {
  FlipByte(PackPath("c"), std::filesystem::file_size(PackPath("c")) - 25);  // in the footer
  EXPECT_TRUE(Check(false).ok());
  ReplicaCheckReport r = Check(true);
  ASSERT_EQ(r.chunks.size(), 2u);  // c and t2
  EXPECT_NE(r.chunks[0].problem.find("footer"), std::string::npos) << r.chunks[0].problem;
  EXPECT_EQ(r.incomplete, std::vector<ChunkId>{IdOf("s2")});
}

TEST_F(ReplicaCheckTest, ReadOnlyCheckRunsBesideTheWriterAndCannotRepair) {
  DamagePayload("c");
  RepoOptions ro;
  ro.read_only = true;
  auto reader = ReplicaRepo::Open(dir(), ro);  // the writer stays open
  ASSERT_OK(reader);
  Result<ReplicaCheckReport> r = CheckReplicaRepo(**reader, {true, false});
  ASSERT_OK(r);
  EXPECT_EQ(r->incomplete, std::vector<ChunkId>{IdOf("s2")});
  EXPECT_FALSE(CheckReplicaRepo(**reader, {true, true}).ok());
  EXPECT_EQ(Held({"c", "t2"}), (std::vector<bool>{true, true}));
}

}  // namespace
}  // namespace snap::replicator::server

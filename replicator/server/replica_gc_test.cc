#include "replicator/server/replica_gc.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/codec/crypto.h"
#include "engine/repository.h"
#include "replicator/server/push_writer.h"
#include "replicator/server/replica_forget.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h

class ReplicaGcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    id_ = RandomRepoId();
    RepoOptions opts;
    opts.now_ns = [this] { return now_ns_ += 1000; };
    Result<std::unique_ptr<ReplicaRepo>> r = ReplicaRepo::Create(
        tmp_.Sub("r"), id_, MakeConfig(id_, /*encrypted=*/true), KeyOf('a'), opts);
    ASSERT_OK(r);
    repo_ = std::move(*r);
    writer_ = std::make_unique<PushWriter>(repo_.get());
  }

  // A sealed frame whose payload is `size` bytes.
  static Buffer Frame(std::string_view name, std::vector<ChunkId> refs = {}, size_t size = 100,
                      EntryKind kind = EntryKind::kData) {
    return MakeFrame(IdOf(name), std::move(refs), std::string(size, name[0]), true, kind);
  }
  static Buffer Tree(std::string_view name, std::vector<ChunkId> refs) {
    return Frame(name, std::move(refs), 50, EntryKind::kTree);
  }
  void Add(const Buffer& frame) { ASSERT_EQ(*writer_->AddFrame(frame), true); }
  // Sends `frames` as one pack, then commits snapshot `snap` over `root`.
  void Push(const std::vector<Buffer>& frames, std::string_view snap, std::string_view root) {
    for (const Buffer& f : frames) Add(f);
    ASSERT_OK(writer_->Commit(IdOf(snap), MakeSnapshotObject({IdOf(root)}, true, snap)));
  }
  std::optional<Buffer> Read(std::string_view name) {
    Result<std::optional<Buffer>> f = repo_->ReadFrame(IdOf(name));
    EXPECT_OK(f);
    return f.ok() ? *f : std::nullopt;
  }
  uint64_t PackBytes() { return *repo_->PackBytes(); }
  int PackCount() {
    int n = 0;
    EXPECT_OK(repo_->objects().List("packs/", [&](std::string_view, uint64_t) {
      ++n;
      return Status::OK();
    }));
    return n;
  }
  ReplicaGcReport Gc(bool dry_run = false, double ratio = 0.5) {
    ReplicaGcOptions o;
    o.dry_run = dry_run;
    o.max_repack_ratio = ratio;
    Result<ReplicaGcReport> r = CollectReplicaGarbage(*repo_, o);
    EXPECT_OK(r);
    return r.ok() ? *r : ReplicaGcReport();
  }

  test::TempDir tmp_;
  RepoId id_{};
  int64_t now_ns_ = 1'800'000'000'000'000'000;
  std::unique_ptr<ReplicaRepo> repo_;
  std::unique_ptr<PushWriter> writer_;
};

TEST_F(ReplicaGcTest, DeletesThePacksOnlyAForgottenSnapshotReached) {
  Push({Frame("a", {}, 5000), Tree("t1", {IdOf("a")})}, "s1", "t1");
  Buffer b = Frame("b", {}, 5000), t2 = Tree("t2", {IdOf("b")});
  Push({b, t2}, "s2", "t2");
  ASSERT_EQ(PackCount(), 2);
  uint64_t before = PackBytes();

  ASSERT_OK(repo_->ForgetSnapshot(IdOf("s1")));
  ReplicaGcReport r = Gc();
  EXPECT_EQ(r.snapshots, 1u);
  EXPECT_EQ(r.deleted_packs, 1u);
  EXPECT_EQ(r.live_chunks, 2u);
  EXPECT_EQ(PackCount(), 1);
  EXPECT_EQ(PackBytes(), before - r.deleted_bytes);
  EXPECT_EQ(r.reclaimed_bytes(), r.deleted_bytes);
  EXPECT_EQ(Read("b"), b);
  EXPECT_EQ(Read("t2"), t2);
  EXPECT_EQ(Read("a"), std::nullopt);  // the index no longer points into the deleted pack
  std::vector<bool> held;
  ASSERT_OK(repo_->Held(std::vector<ChunkId>{IdOf("a"), IdOf("t1"), IdOf("b")}, &held));
  EXPECT_EQ(held, (std::vector<bool>{false, false, true}));

  EXPECT_EQ(Gc().deleted_packs, 0u);  // nothing left to do
}

TEST_F(ReplicaGcTest, RepacksASparsePackByteForByteAndDeletesTheOld) {
  // One pack: a small live chunk among large ones only s1 needs.
  Buffer keep = Frame("k", {}, 1000), tree = Tree("t2", {IdOf("k")});
  Push({Frame("x", {}, 20000), Frame("y", {}, 20000), Tree("t1", {IdOf("x"), IdOf("y")}), keep,
        tree},
       "s1", "t1");
  ASSERT_OK(writer_->Commit(IdOf("s2"), MakeSnapshotObject({IdOf("t2")}, true, "s2")));
  ASSERT_EQ(PackCount(), 1);
  uint64_t before = PackBytes();

  ASSERT_OK(repo_->ForgetSnapshot(IdOf("s1")));
  ReplicaGcReport r = Gc();
  EXPECT_EQ(r.repacked_packs, 1u);
  EXPECT_EQ(r.new_packs, 1u);
  EXPECT_EQ(PackCount(), 1);
  EXPECT_LT(PackBytes(), before / 10);
  EXPECT_EQ(PackBytes(), before - r.reclaimed_bytes());
  EXPECT_EQ(Read("k"), keep);
  EXPECT_EQ(Read("t2"), tree);
  EXPECT_EQ(Read("x"), std::nullopt);
}

TEST_F(ReplicaGcTest, KeepsADeltaBaseThatOnlyTheDeltaNames) {
  Add(Frame("base", {}, 4000));
  ASSERT_OK(writer_->Flush());  // the base alone in its pack
  engine::pack::EntryHeader h;
  h.kind = EntryKind::kData;
  h.flags = engine::pack::kFlagCompressed | engine::pack::kFlagSealed | engine::pack::kFlagDelta;
  h.raw_length = 4000;
  h.id = IdOf("delta");
  h.refs = {IdOf("base")};
  Buffer delta;
  engine::pack::EncodeFrame(h, engine::AsBytes(std::string_view("sealed delta")), &delta);
  Push({delta, Tree("t", {IdOf("delta")})}, "s", "t");

  ReplicaGcReport r = Gc(false, /*ratio=*/1.0);  // repack anything not wholly live
  EXPECT_EQ(r.live_chunks, 3u);
  EXPECT_EQ(r.deleted_packs, 0u);
  EXPECT_EQ(r.repacked_packs, 0u);
  EXPECT_EQ(Read("base"), Frame("base", {}, 4000));
  EXPECT_EQ(Read("delta"), delta);
}

TEST_F(ReplicaGcTest, DryRunChangesNothing) {
  Push({Frame("a", {}, 5000), Tree("t1", {IdOf("a")})}, "s1", "t1");
  Push({Frame("b", {}, 5000), Tree("t2", {IdOf("b")})}, "s2", "t2");
  ASSERT_OK(repo_->ForgetSnapshot(IdOf("s1")));
  uint64_t before = PackBytes();
  ReplicaGcReport r = Gc(/*dry_run=*/true);
  EXPECT_EQ(r.deleted_packs, 1u);
  EXPECT_GT(r.reclaimed_bytes(), 0u);
  EXPECT_EQ(PackBytes(), before);
  EXPECT_TRUE(Read("a").has_value());
}

TEST_F(ReplicaGcTest, ReclaimsAPackTheIndexNeverLearnedOf) {
  Push({Frame("a"), Tree("t", {IdOf("a")})}, "s", "t");
  // What a push cut between its pack and its index batch leaves: frames
  // on disk, a copy of a live one among them, none indexed.
  engine::pack::PackWriter stray;
  for (const Buffer& f : {Frame("a"), Frame("z", {}, 3000)}) {
    auto d = *engine::pack::DecodeFrame(f);
    stray.Add(d.header, d.payload);
  }
  Buffer bytes = stray.Finish();
  std::string key = engine::Repository::PackKey(engine::codec::Sha256(bytes));
  ASSERT_OK(repo_->objects().PutIfAbsent(key, bytes));
  ASSERT_EQ(PackCount(), 2);

  ReplicaGcReport r = Gc();
  EXPECT_EQ(r.stray_frames, 2u);
  EXPECT_EQ(r.deleted_packs, 1u);
  EXPECT_TRUE(repo_->objects().Head(key).status().IsNotFound());
  EXPECT_EQ(Read("a"), Frame("a"));
}

// A push or repack that crashed leaves its temp file (up to a pack's
// size); gc holds the lock no writer runs without, so it removes them all,
// and nothing else, except in a dry run.
TEST_F(ReplicaGcTest, RemovesTheTempFilesOfCrashedWritersButNotInADryRun) {
  Push({Frame("a"), Tree("t", {IdOf("a")})}, "s", "t");
  std::filesystem::path dir = repo_->dir();
  std::vector<std::filesystem::path> temps = {dir / "packs/upload.tmp-0123456789abcdef",
                                              dir / "snapshots/ab12cd.tmp-0123456789abcdef"};
  std::filesystem::create_directories(dir / "snapshots");
  for (const auto& p : temps) std::ofstream(p) << std::string(4096, 'x');
  int packs = PackCount();

  EXPECT_EQ(Gc(/*dry_run=*/true).temp_files_removed, 0u);
  for (const auto& p : temps) EXPECT_TRUE(std::filesystem::exists(p)) << p;

  EXPECT_EQ(Gc().temp_files_removed, 2u);
  for (const auto& p : temps) EXPECT_FALSE(std::filesystem::exists(p)) << p;
  EXPECT_EQ(PackCount(), packs);
  EXPECT_EQ(Read("a"), Frame("a"));
  Result<std::vector<protocol::SnapshotList::Entry>> listed = repo_->ListSnapshots();
  ASSERT_OK(listed);
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(ReplicaGcTest, RemovesAnUnlistedSnapshotObjectAndWhatOnlyItReached) {
  Push({Frame("a", {}, 5000), Tree("t1", {IdOf("a")})}, "s1", "t1");
  Push({Frame("b"), Tree("t2", {IdOf("b")})}, "s2", "t2");
  // A forget cut after its record went: the object alone is left.
  Buffer object = *repo_->GetSnapshot(IdOf("s1")).value();
  ASSERT_OK(repo_->ForgetSnapshot(IdOf("s1")));
  ASSERT_OK(repo_->objects().PutIfAbsent(engine::Repository::SnapshotKey(IdOf("s1")), object));
  ASSERT_EQ(repo_->UnlistedSnapshots()->size(), 1u);

  ReplicaGcReport r = Gc();
  EXPECT_EQ(r.unlisted_snapshots, 1u);
  EXPECT_EQ(r.deleted_packs, 1u);
  EXPECT_EQ(*repo_->GetSnapshot(IdOf("s1")), std::nullopt);
  EXPECT_TRUE(repo_->UnlistedSnapshots()->empty());
}

TEST_F(ReplicaGcTest, StopsBeforeTouchingAnyPackWhenALiveChunkIsGone) {
  Push({Frame("a"), Tree("t1", {IdOf("a")})}, "s1", "t1");
  Push({Frame("b", {}, 5000), Tree("t2", {IdOf("b")})}, "s2", "t2");
  Push({Frame("c", {}, 5000), Tree("t3", {IdOf("c")})}, "s3", "t3");
  ASSERT_OK(repo_->ForgetSnapshot(IdOf("s3")));
  // Damage: s1's pack disappears.
  std::vector<std::optional<engine::index::ChunkLocation>> loc;
  ASSERT_OK(repo_->Locate(std::vector<ChunkId>{IdOf("a")}, &loc));
  ASSERT_TRUE(loc[0].has_value());
  ASSERT_OK(repo_->DeletePack(loc[0]->pack));
  int packs = PackCount();

  Result<ReplicaGcReport> r = CollectReplicaGarbage(*repo_, ReplicaGcOptions());
  ASSERT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find("before touching any pack"), std::string::npos);
  EXPECT_EQ(PackCount(), packs);  // s3's dead pack is still there
}

TEST_F(ReplicaGcTest, RefusesARatioOutsideZeroToOne) {
  ReplicaGcOptions o;
  o.max_repack_ratio = 1.5;
  EXPECT_TRUE(CollectReplicaGarbage(*repo_, o).status().IsInvalidArgument());
}

}  // namespace
}  // namespace snap::replicator::server

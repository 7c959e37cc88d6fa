#include "replicator/server/push_writer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/repository.h"
#include "replicator/server/server_test_util.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server {
namespace {

using namespace testing;  // NOLINT: the helpers of server_test_util.h

bool Contains(ByteSpan hay, ByteSpan needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

class PushWriterTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(/*encrypted=*/false); }
  void Open(bool encrypted, uint32_t pack_target = 1u << 20) {
    repo_.reset();
    id_ = RandomRepoId();
    RepoOptions opts;
    opts.now_ns = [this] { return now_ns_; };
    Result<std::unique_ptr<ReplicaRepo>> r = ReplicaRepo::Create(
        tmp_.Sub(RepoIdHex(id_)), id_, MakeConfig(id_, encrypted, pack_target), KeyOf('a'), opts);
    ASSERT_OK(r);
    repo_ = std::move(*r);
    encrypted_ = encrypted;
  }
  Buffer Frame(std::string_view name, std::vector<ChunkId> refs = {}) {
    return MakeFrame(IdOf(name), std::move(refs), "payload of " + std::string(name), encrypted_);
  }

  test::TempDir tmp_;
  RepoId id_{};
  bool encrypted_ = false;
  int64_t now_ns_ = 1000;
  std::unique_ptr<ReplicaRepo> repo_;
};

TEST_F(PushWriterTest, StoresFramesByteForByteInAPackNamedByItsHash) {
  PushWriter w(repo_.get());
  Buffer a = Frame("a"), b = Frame("b", {IdOf("a")});
  EXPECT_EQ(*w.AddFrame(a), true);
  EXPECT_EQ(*w.AddFrame(b), true);
  ASSERT_OK(w.Flush());
  EXPECT_EQ(w.packs_written(), 1u);
  EXPECT_EQ(**repo_->ReadFrame(IdOf("a")), a);
  EXPECT_EQ(**repo_->ReadFrame(IdOf("b")), b);
  auto store = *engine::store::OpenLocalStore(repo_->dir());
  int packs = 0;
  ASSERT_OK(store->List("packs/", [&](std::string_view key, uint64_t) {
    Buffer pack = *store->Get(key);
    EXPECT_EQ(key, engine::Repository::PackKey(engine::codec::Sha256(pack)));
    EXPECT_TRUE(Contains(pack, a) && Contains(pack, b));
    ++packs;
    return Status::OK();
  }));
  EXPECT_EQ(packs, 1);
}

TEST_F(PushWriterTest, RefusesFrameWhoseRefsAreMissing) {
  PushWriter w(repo_.get());
  Result<bool> r = w.AddFrame(Frame("tree", {IdOf("child")}));
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("references " + IdOf("child").ShortHex()), std::string::npos);
  EXPECT_NE(r.status().message().find("children must be sent before parents"), std::string::npos);
  std::vector<bool> held;
  ASSERT_OK(w.Have(std::vector<ChunkId>{IdOf("tree")}, &held));
  EXPECT_FALSE(held[0]);
}

TEST_F(PushWriterTest, AcceptsParentsOfPendingAndOfIndexedChildren) {
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Frame("a")));
  EXPECT_EQ(*w.AddFrame(Frame("b", {IdOf("a")})), true);  // a is pending
  ASSERT_OK(w.Flush());
  EXPECT_EQ(*w.AddFrame(Frame("c", {IdOf("a"), IdOf("b")})), true);  // both indexed
}

TEST_F(PushWriterTest, SkipsChunkAlreadyHeld) {
  PushWriter w(repo_.get());
  EXPECT_EQ(*w.AddFrame(Frame("a")), true);
  EXPECT_EQ(*w.AddFrame(Frame("a")), false);  // pending
  ASSERT_OK(w.Flush());
  PushWriter next(repo_.get());
  EXPECT_EQ(*next.AddFrame(Frame("a")), false);  // indexed
  EXPECT_EQ(next.pending_frames(), 0u);
}

TEST_F(PushWriterTest, HaveAnswersFromIndexAndPendingPack) {
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Frame("indexed")));
  ASSERT_OK(w.Flush());
  ASSERT_OK(w.AddFrame(Frame("pending")));
  std::vector<bool> held;
  ASSERT_OK(w.Have(std::vector<ChunkId>{IdOf("indexed"), IdOf("unknown"), IdOf("pending")}, &held));
  EXPECT_EQ(held, (std::vector<bool>{true, false, true}));
  ASSERT_OK(repo_->Held(std::vector<ChunkId>{IdOf("pending")}, &held));
  EXPECT_FALSE(held[0]);  // not durable yet, so not in the index
}

TEST_F(PushWriterTest, RefusesCorruptFrame) {
  PushWriter w(repo_.get());
  Buffer f = Frame("a");
  f[f.size() - 12] ^= std::byte{1};  // a payload byte: the checksum no longer matches
  EXPECT_TRUE(w.AddFrame(f).status().IsCorruption());
  EXPECT_TRUE(w.AddFrame(ByteSpan(f).first(20)).status().IsCorruption());
}

TEST_F(PushWriterTest, RefusesFrameSealedOtherwiseThanTheRepository) {
  PushWriter w(repo_.get());
  Result<bool> sealed = w.AddFrame(MakeFrame(IdOf("a"), {}, "x", /*sealed=*/true));
  EXPECT_TRUE(sealed.status().IsCorruption()) << sealed.status().ToString();
  Open(/*encrypted=*/true);
  PushWriter enc(repo_.get());
  Result<bool> plain = enc.AddFrame(MakeFrame(IdOf("a"), {}, "x", /*sealed=*/false));
  EXPECT_TRUE(plain.status().IsCorruption()) << plain.status().ToString();
  EXPECT_EQ(*enc.AddFrame(MakeFrame(IdOf("a"), {}, "x", /*sealed=*/true)), true);
}

TEST_F(PushWriterTest, ClosesPacksAtTheConfiguredTargetSize) {
  PushWriter w(repo_.get());  // 1 MiB target
  std::string big(300 * 1024, 'x');
  for (int i = 0; i < 4; ++i)
    ASSERT_OK(w.AddFrame(MakeFrame(IdOf("big" + std::to_string(i)), {}, big, false)));
  EXPECT_EQ(w.packs_written(), 1u);
  EXPECT_EQ(w.pending_frames(), 0u);
  ASSERT_OK(w.AddFrame(MakeFrame(IdOf("big4"), {}, big, false)));
  EXPECT_EQ(w.packs_written(), 1u);
  EXPECT_EQ(w.pending_frames(), 1u);
}

TEST_F(PushWriterTest, CommitRefusesSnapshotWhoseRootIsMissing) {
  PushWriter w(repo_.get());
  Result<bool> r = w.Commit(IdOf("snap"), MakeSnapshotObject({IdOf("root")}, false));
  ASSERT_TRUE(r.status().IsCorruption());
  EXPECT_NE(r.status().message().find("references " + IdOf("root").ShortHex()), std::string::npos);
  EXPECT_FALSE(*repo_->GetSnapshot(IdOf("snap")));
  EXPECT_TRUE(repo_->ListSnapshots()->empty());
}

TEST_F(PushWriterTest, CommitWritesThePendingPackBeforeTheSnapshot) {
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Frame("root")));
  Buffer object = MakeSnapshotObject({IdOf("root")}, false);
  EXPECT_EQ(*w.Commit(IdOf("snap"), object), true);
  EXPECT_EQ(w.pending_frames(), 0u);
  EXPECT_TRUE(repo_->ReadFrame(IdOf("root"))->has_value());
  EXPECT_EQ(**repo_->GetSnapshot(IdOf("snap")), object);
  auto list = *repo_->ListSnapshots();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, IdOf("snap"));
  EXPECT_EQ(list[0].received_ns, now_ns_);
  EXPECT_EQ(list[0].size, object.size());
}

TEST_F(PushWriterTest, RecommitOfIdenticalSnapshotIsAcceptedButNotCreated) {
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Frame("root")));
  Buffer object = MakeSnapshotObject({IdOf("root")}, false);
  EXPECT_EQ(*w.Commit(IdOf("snap"), object), true);
  EXPECT_EQ(*w.Commit(IdOf("snap"), object), false);
  EXPECT_EQ(repo_->stats().snapshots, 1u);
}

TEST_F(PushWriterTest, RefusesToOverwriteASnapshotWithOtherBytes) {
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Frame("root")));
  Buffer object = MakeSnapshotObject({IdOf("root")}, false, "one");
  ASSERT_OK(w.Commit(IdOf("snap"), object));
  Result<bool> r = w.Commit(IdOf("snap"), MakeSnapshotObject({IdOf("root")}, false, "two"));
  ASSERT_TRUE(r.status().IsInvalidArgument());
  EXPECT_NE(r.status().message().find("append-only"), std::string::npos);
  EXPECT_EQ(**repo_->GetSnapshot(IdOf("snap")), object);
}

TEST_F(PushWriterTest, CommitRefusesSnapshotSealedOtherwiseThanTheRepository) {
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Frame("root")));
  EXPECT_TRUE(w.Commit(IdOf("snap"), MakeSnapshotObject({IdOf("root")}, /*sealed=*/true))
                  .status()
                  .IsCorruption());
  EXPECT_TRUE(w.Commit(IdOf("snap"), Buffer(10)).status().IsCorruption());
}

TEST_F(PushWriterTest, ListsSnapshotsInReceiveOrderAcrossReopen) {
  PushWriter w(repo_.get());
  ASSERT_OK(w.AddFrame(Frame("root")));
  // IDs chosen so receive order differs from ID order.
  std::vector<ChunkId> ids = {IdOf("s1"), IdOf("s2"), IdOf("s3")};
  std::sort(ids.begin(), ids.end(), std::greater<>());
  for (const ChunkId& id : ids) {
    now_ns_ += 10;
    ASSERT_OK(w.Commit(id, MakeSnapshotObject({IdOf("root")}, false, id.ToHex())));
  }
  repo_.reset();
  repo_ = *ReplicaRepo::Open(tmp_.Sub(RepoIdHex(id_)));
  EXPECT_EQ(repo_->owner(), KeyOf('a'));
  auto list = *repo_->ListSnapshots();
  ASSERT_EQ(list.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(list[i].id, ids[i]);
  EXPECT_EQ(repo_->stats().snapshots, 3u);
  EXPECT_EQ(repo_->stats().newest_received_ns, now_ns_);
}

}  // namespace
}  // namespace snap::replicator::server

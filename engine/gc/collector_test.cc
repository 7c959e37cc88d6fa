// CollectGarbage over a real repository in a temp dir: what it condemns,
// deletes, repacks and restores, and what writers and readers see.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <vector>

#include "engine/capture.h"
#include "engine/check.h"
#include "engine/gc.h"
#include "engine/gc/gc_record.h"
#include "engine/gc/lock.h"
#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::engine {
namespace {

namespace fsys = std::filesystem;

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions o;
    o.encrypted = false;
    // Chunks of 64 KiB and more: not slices (FORMAT.md "Slices"), so a
    // file's chunks live and die with it.
    o.config.file_chunking = {65536, 131072, 262144};
    o.config.pack_target_size = 1u << 20;
    ASSERT_OK(Repository::Init(repo_dir(), o));
    fsys::create_directories(src());
  }

  std::string repo_dir() const { return tmp_.Sub("repo"); }
  std::string src() const { return tmp_.Sub("src"); }

  std::unique_ptr<Repository> Open(Repository::Mode mode = Repository::Mode::kReadWrite) {
    Result<std::unique_ptr<Repository>> r = Repository::Open(repo_dir(), {}, mode);
    EXPECT_OK(r);
    return r.ok() ? std::move(*r) : nullptr;
  }

  Repository::SnapshotInfo Snap(int64_t time_ns) {
    auto repo = Open();
    CaptureOptions opts;
    opts.sources = {{"data", src(), {}}};
    opts.host = "web1";
    opts.time_ns = time_ns;
    Result<CaptureResult> r = TakeSnapshot(*repo, opts);
    EXPECT_OK(r);
    return {r->id, r->record};
  }

  void Forget(const Repository::SnapshotInfo& s) {
    auto repo = Open();
    ASSERT_OK(repo->ForgetSnapshot(s));
  }

  GcReport Gc(double ratio = 0.5, bool dry_run = false) {
    GcOptions opts;
    opts.grace_ns = 0;
    opts.max_repack_ratio = ratio;
    opts.dry_run = dry_run;
    opts.scratch_dir = tmp_.path();
    Result<GcReport> r = CollectGarbage(repo_dir(), opts);
    EXPECT_OK(r);
    return r.ok() ? *r : GcReport{};
  }

  std::set<std::string> Packs() const {
    std::set<std::string> out;
    for (const auto& e : fsys::recursive_directory_iterator(repo_dir() + "/packs"))
      if (e.is_regular_file()) out.insert(e.path().filename().string());
    return out;
  }

  std::set<std::string> AllObjects() const {
    std::set<std::string> out;
    for (const auto& e : fsys::recursive_directory_iterator(repo_dir())) {
      std::string rel = fsys::relative(e.path(), repo_dir()).string();
      if (e.is_regular_file() && !rel.starts_with("index")) out.insert(rel);
    }
    return out;
  }

  // Reads every content chunk of the snapshot through `repo`.
  void ExpectReadable(const Repository& repo, const ChunkId& tree) {
    Result<snapshot::Tree> t = repo.ReadTree(tree);
    ASSERT_OK(t);
    for (const snapshot::Node& n : t->nodes) {
      if (n.subtree) ExpectReadable(repo, *n.subtree);
      for (const ChunkId& c : n.content) EXPECT_OK(repo.ReadChunk(c));
    }
  }

  void ExpectCheckPasses() {
    auto repo = Open(Repository::Mode::kReadOnly);
    CheckOptions opts;
    opts.read_data = true;
    Result<CheckReport> r = CheckRepository(*repo, opts);
    ASSERT_OK(r);
    EXPECT_TRUE(r->ok()) << (r->errors.empty() ? "" : r->errors[0]);
  }

  test::TempDir tmp_;
};

TEST_F(GcTest, ForgottenSnapshotsPacksAreCondemnedThenDeleted) {
  test::WriteRandomFile(src() + "/a", 200000, 1);
  Repository::SnapshotInfo s1 = Snap(1000);
  test::WriteRandomFile(src() + "/a", 200000, 2);
  Repository::SnapshotInfo s2 = Snap(2000);
  ASSERT_EQ(Packs().size(), 2u);
  Forget(s1);

  GcReport first = Gc();
  EXPECT_EQ(first.snapshots, 1u);
  EXPECT_EQ(first.condemned_packs, 1u);
  EXPECT_EQ(first.deleted_packs, 0u);
  EXPECT_EQ(Packs().size(), 2u);
  EXPECT_NE(first.record, "");

  GcReport second = Gc();
  EXPECT_EQ(second.deleted_packs, 1u);
  EXPECT_GT(second.deleted_bytes, 200000u);
  EXPECT_EQ(Packs().size(), 1u);
  ExpectCheckPasses();
  ExpectReadable(*Open(), s2.record.sources[0].root);

  GcReport third = Gc();
  EXPECT_EQ(third.deleted_packs + third.condemned_packs + third.repacked_packs, 0u);
  EXPECT_EQ(third.record, "");  // nothing to say: no record written
}

TEST_F(GcTest, AWriterOlderThanTheRecordHoldsDeletionBack) {
  test::WriteRandomFile(src() + "/a", 100000, 1);
  Repository::SnapshotInfo s1 = Snap(1000);
  test::WriteRandomFile(src() + "/a", 100000, 2);
  Snap(2000);
  Forget(s1);
  auto store = store::OpenLocalStore(repo_dir());
  ASSERT_OK(store);
  // A snapshot running since before any gc record.
  auto writer = gc::HeldLock::AcquireWriter(store->get());
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->MarkRunning(""));
  EXPECT_EQ(Gc().condemned_packs, 1u);

  GcReport waiting = Gc();
  EXPECT_EQ(waiting.deleted_packs, 0u);
  EXPECT_EQ(waiting.waiting_packs, 1u);
  ASSERT_FALSE(waiting.notes.empty());
  EXPECT_NE(waiting.notes.back().find("a snapshot that started before it"), std::string::npos)
      << waiting.notes.back();
  EXPECT_EQ(Packs().size(), 2u);

  writer->reset();
  EXPECT_EQ(Gc().deleted_packs, 1u);
  EXPECT_EQ(Packs().size(), 1u);
}

// Temp files writers left when they crashed go once nobody can be using
// them: older than the grace period, and than every live writer's start.
TEST_F(GcTest, TempFilesOfCrashedWritersAreRemovedOnceNoLiveWriterCanOwnThem) {
  test::WriteRandomFile(src() + "/a", 100000, 1);
  Snap(1000);
  auto temp = [&](const std::string& rel, int64_t age_s) {
    std::string p = repo_dir() + "/" + rel;
    fsys::create_directories(fsys::path(p).parent_path());
    std::ofstream(p) << "partial";
    struct timespec ts[2];
    ASSERT_EQ(clock_gettime(CLOCK_REALTIME, &ts[0]), 0);
    ts[0].tv_sec -= age_s;
    ts[1] = ts[0];
    ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), ts, 0), 0);
  };
  auto exists = [&](const std::string& rel) { return fsys::exists(repo_dir() + "/" + rel); };
  temp("packs/upload.tmp-0123456789abcdef", 7200);
  temp("packs/ab/ab12cd.tmp-0123456789abcdef", 7200);
  temp("snapshots/cd34ef.tmp-0123456789abcdef", 7200);
  temp("packs/upload.tmp-1111111111111111", 60);
  std::set<std::string> objects = AllObjects();
  GcOptions opts;
  opts.grace_ns = int64_t{3600} * 1000000000;
  opts.scratch_dir = tmp_.path();
  Result<GcReport> hour = CollectGarbage(repo_dir(), opts);
  ASSERT_OK(hour);
  EXPECT_EQ(hour->temp_files_removed, 3u);
  EXPECT_TRUE(exists("packs/upload.tmp-1111111111111111"));
  EXPECT_FALSE(exists("packs/upload.tmp-0123456789abcdef"));
  EXPECT_FALSE(exists("packs/ab/ab12cd.tmp-0123456789abcdef"));
  EXPECT_FALSE(exists("snapshots/cd34ef.tmp-0123456789abcdef"));

  // A writer running now may own what was modified after it started.
  auto store = store::OpenLocalStore(repo_dir());
  ASSERT_OK(store);
  auto writer = gc::HeldLock::AcquireWriter(store->get());
  ASSERT_OK(writer);
  ASSERT_OK((*writer)->MarkRunning(""));
  temp("packs/upload.tmp-2222222222222222", 0);
  EXPECT_EQ(Gc().temp_files_removed, 1u);  // the one from a minute before it started
  EXPECT_FALSE(exists("packs/upload.tmp-1111111111111111"));
  EXPECT_TRUE(exists("packs/upload.tmp-2222222222222222"));
  writer->reset();
  // Dry runs remove nothing; objects are never touched.
  EXPECT_EQ(Gc(0.5, true).temp_files_removed, 0u);
  EXPECT_TRUE(exists("packs/upload.tmp-2222222222222222"));
  for (const std::string& o : objects) {
    if (o.find(".tmp-") == std::string::npos) {
      EXPECT_TRUE(exists(o)) << o;
    }
  }
}

TEST_F(GcTest, AWriterThatHasSeenTheRecordDoesNotHoldDeletionBack) {
  test::WriteRandomFile(src() + "/a", 100000, 1);
  Repository::SnapshotInfo s1 = Snap(1000);
  test::WriteRandomFile(src() + "/a", 100000, 2);
  Snap(2000);
  Forget(s1);
  EXPECT_EQ(Gc().condemned_packs, 1u);
  auto repo = Open();
  auto writer = repo->BeginWriting();  // a snapshot starting after the record
  ASSERT_OK(writer);
  EXPECT_EQ((*writer)->info().state, gc::LockState::kRunning);
  EXPECT_EQ(Gc().deleted_packs, 1u);
  EXPECT_EQ(Packs().size(), 1u);
}

TEST_F(GcTest, APackAnOlderWriterUsedAgainIsRestoredNotDeleted) {
  test::WriteRandomFile(src() + "/a", 100000, 1);
  Repository::SnapshotInfo s1 = Snap(1000);
  test::WriteRandomFile(src() + "/a", 100000, 2);
  Snap(2000);
  Forget(s1);
  auto store = store::OpenLocalStore(repo_dir());
  ASSERT_OK(store);
  auto writer = gc::HeldLock::AcquireWriter(store->get());
  ASSERT_OK(writer);
  EXPECT_EQ(Gc().condemned_packs, 1u);
  {
    // The writer that started before the record deduplicated against the
    // condemned pack: it commits a snapshot whose content is s1's.
    auto repo = Open();
    snapshot::SnapshotRecord again = s1.record;
    again.time_ns = 3000;
    ASSERT_OK(repo->CommitSnapshot(again));
  }
  writer->reset();
  GcReport r = Gc();
  EXPECT_EQ(r.restored_packs, 1u);
  EXPECT_EQ(r.deleted_packs, 0u);
  EXPECT_EQ(Packs().size(), 2u);
  ExpectCheckPasses();
  // Writers no longer hide it.
  auto repo = Open();
  auto lock = repo->BeginWriting();
  ASSERT_OK(lock);
  Result<snapshot::Tree> t = repo->ReadTree(s1.record.sources[0].root);
  ASSERT_OK(t);
  EXPECT_TRUE(repo->chunk_index().Get(s1.record.sources[0].root)->has_value());
}

TEST_F(GcTest, WritersDoNotReuseChunksOfCondemnedPacks) {
  test::WriteRandomFile(src() + "/a", 100000, 1);
  Repository::SnapshotInfo s1 = Snap(1000);
  test::WriteRandomFile(src() + "/a", 100000, 2);
  Snap(2000);
  Forget(s1);
  EXPECT_EQ(Gc().condemned_packs, 1u);
  const ChunkId root = s1.record.sources[0].root;
  auto repo = Open();
  EXPECT_TRUE(repo->chunk_index().Get(root)->has_value());  // not a writer yet
  auto lock = repo->BeginWriting();
  ASSERT_OK(lock);
  EXPECT_FALSE(repo->chunk_index().Get(root)->has_value());
  EXPECT_TRUE(repo->chunk_index().Locate(root)->has_value());
  EXPECT_OK(repo->ReadTree(root));  // still readable
}

// Small files are slices of bundles (FORMAT.md "Slices"): a bundle stays
// while any slice of it is live, through a repack, and goes with the last.
TEST_F(GcTest, ABundleLivesAsLongAsOneOfItsSlices) {
  for (int i = 0; i < 60; ++i) {
    std::string text;
    for (int l = 0; text.size() < 3000; ++l) text += "row " + std::to_string(i * 1000 + l) + "\n";
    std::ofstream(src() + "/f" + std::to_string(i), std::ios::binary) << text;
  }
  Repository::SnapshotInfo s1 = Snap(1000);
  for (int i = 0; i < 60; ++i)
    if (i % 10) fsys::remove(src() + "/f" + std::to_string(i));
  Repository::SnapshotInfo s2 = Snap(2000);  // six files, all cut from s1's bundle
  {
    auto repo = Open();
    Result<snapshot::Tree> t = repo->ReadTree(s2.record.sources[0].root);
    ASSERT_OK(t);
    while (t.ok() && t->nodes.size() == 1 && t->nodes[0].subtree) t = repo->ReadTree(*t->nodes[0].subtree);
    ASSERT_OK(t);
    ASSERT_EQ(t->nodes.size(), 6u);
    Result<std::optional<index::ChunkLocation>> loc = repo->chunk_index().Get(t->nodes[0].content[0]);
    ASSERT_OK(loc);
    ASSERT_TRUE(*loc);
    EXPECT_EQ((*loc)->entry.flags, pack::kFlagSlice);
  }
  Forget(s1);
  Gc(/*ratio=*/0.99);
  Gc(0.99);
  ExpectCheckPasses();
  ExpectReadable(*Open(), s2.record.sources[0].root);

  Forget(s2);
  Gc();
  Gc();
  EXPECT_EQ(Packs().size(), 0u);
}

// Not gc, but its fixture: `check` without --read-data reads no pack, yet
// a slice whose bundle is gone (here: from the index) is unreadable, and
// check says so for each file cut from it.
TEST_F(GcTest, CheckNamesEveryFileWhoseBundleIsGone) {
  for (int i = 0; i < 20; ++i)
    std::ofstream(src() + "/f" + std::to_string(i), std::ios::binary)
        << std::string(2000 + i, static_cast<char>('a' + i));
  Repository::SnapshotInfo s = Snap(1000);
  ExpectCheckPasses();
  auto repo = Open();
  Result<snapshot::Tree> t = repo->ReadTree(s.record.sources[0].root);
  while (t.ok() && t->nodes.size() == 1 && t->nodes[0].subtree) t = repo->ReadTree(*t->nodes[0].subtree);
  ASSERT_OK(t);
  ASSERT_EQ(t->nodes.size(), 20u);
  // Two encode workers may each fill a bundle, so the files are cut from
  // one bundle or more: remove the first file's, and expect exactly the
  // files cut from it named, and no other.
  std::vector<std::optional<ChunkId>> bundle_of;
  for (const snapshot::Node& n : t->nodes) {
    Result<Buffer> frame = repo->ReadFrame(n.content[0]);
    ASSERT_OK(frame);
    Result<pack::DecodedFrame> f = pack::DecodeFrame(*frame);
    ASSERT_OK(f);
    if (f->header.flags == pack::kFlagSlice)
      bundle_of.push_back(f->header.refs[0]);
    else
      bundle_of.push_back(std::nullopt);
  }
  auto first = std::find_if(bundle_of.begin(), bundle_of.end(), [](const auto& b) { return b.has_value(); });
  ASSERT_NE(first, bundle_of.end()) << "no file of 2 KB was stored as a slice";
  const ChunkId bundle = **first;
  const size_t cut = std::count(bundle_of.begin(), bundle_of.end(), std::optional<ChunkId>(bundle));
  ASSERT_GE(cut, 2u);
  ASSERT_OK(repo->chunk_index().Remove(std::span<const ChunkId>(&bundle, 1)));

  Result<CheckReport> r = CheckRepository(*repo, CheckOptions{});
  ASSERT_OK(r);
  EXPECT_FALSE(r->ok());
  size_t named = 0;
  for (const std::string& e : r->errors)
    if (e.find("is decoded from " + bundle.ShortHex()) != std::string::npos &&
        e.find("missing") != std::string::npos)
      named++;
  EXPECT_EQ(named, cut) << (r->errors.empty() ? "" : r->errors[0]);
  EXPECT_EQ(r->errors.size(), cut) << "only the files cut from the removed bundle are unreadable";
}

TEST_F(GcTest, RepackCopiesLiveFramesAndAnOldIndexStillFindsThem) {
  test::WriteRandomFile(src() + "/a", 300000, 1);
  test::WriteRandomFile(src() + "/b", 300000, 2);
  Repository::SnapshotInfo s1 = Snap(1000);
  fsys::remove(src() + "/b");
  Repository::SnapshotInfo s2 = Snap(2000);
  Forget(s1);
  std::set<std::string> before = Packs();
  // A reader opened now keeps an index that names the old pack.
  auto reader = Open(Repository::Mode::kReadOnly);

  GcReport first = Gc(/*ratio=*/0.9);
  EXPECT_EQ(first.repacked_packs, 1u);
  EXPECT_EQ(first.new_packs, 1u);
  EXPECT_LT(first.new_bytes, first.repacked_bytes);
  GcReport second = Gc(0.9);
  EXPECT_EQ(second.deleted_packs, 1u);
  std::set<std::string> after = Packs();
  EXPECT_EQ(after.size(), before.size());
  EXPECT_NE(after, before);

  ExpectReadable(*reader, s2.record.sources[0].root);
  reader.reset();
  ExpectCheckPasses();
  ExpectReadable(*Open(), s2.record.sources[0].root);
}

TEST_F(GcTest, DryRunChangesNothing) {
  test::WriteRandomFile(src() + "/a", 100000, 1);
  Repository::SnapshotInfo s1 = Snap(1000);
  test::WriteRandomFile(src() + "/a", 100000, 2);
  Snap(2000);
  Forget(s1);
  std::set<std::string> before = AllObjects();
  GcReport r = Gc(0.5, /*dry_run=*/true);
  EXPECT_EQ(r.condemned_packs, 1u);
  EXPECT_EQ(r.record, "");
  EXPECT_EQ(AllObjects(), before);
}

TEST_F(GcTest, AMissingChunkStopsGcBeforeAnythingIsDeleted) {
  test::WriteRandomFile(src() + "/a", 100000, 1);
  Repository::SnapshotInfo s1 = Snap(1000);
  test::WriteRandomFile(src() + "/a", 100000, 2);
  Snap(2000);
  Forget(s1);
  EXPECT_EQ(Gc().condemned_packs, 1u);
  // Damage: the pack the live snapshot uses disappears.
  auto store = store::OpenLocalStore(repo_dir());
  ASSERT_OK(store);
  Result<std::vector<gc::NamedGcRecord>> records = gc::ReadGcRecords(**store);
  ASSERT_OK(records);
  std::string condemned = Repository::PackKey((*records)[0].record.condemned[0]);
  for (const std::string& name : Packs()) {
    std::string key = "packs/" + name.substr(0, 2) + "/" + name;
    if (key != condemned) ASSERT_OK((*store)->Delete(key));
  }
  GcOptions opts;
  opts.grace_ns = 0;
  Result<GcReport> r = CollectGarbage(repo_dir(), opts);
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("in no pack"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(Packs().size(), 1u);  // the condemned pack is still there
}

TEST_F(GcTest, ListingSkipsSnapshotsWhoseObjectIsGone) {
  test::WriteRandomFile(src() + "/a", 1000, 1);
  Repository::SnapshotInfo s1 = Snap(1000);
  Snap(2000);
  auto repo = Open();
  ASSERT_OK(repo->store().Delete(Repository::SnapshotKey(s1.id)));  // forgotten elsewhere
  Result<std::vector<Repository::SnapshotInfo>> all = repo->ListSnapshots();
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_NE((*all)[0].id, s1.id);
}

}  // namespace
}  // namespace snap::engine

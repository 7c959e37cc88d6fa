#include "engine/index/files_cache.h"

#include <gtest/gtest.h>

#include <limits>

#include "tests/support/chunk_ids.h"
#include "tests/support/test_util.h"

namespace snap::engine::index {
namespace {

using test::FilledId;

CachedFile File(uint64_t ino, std::vector<ChunkId> chunks) {
  CachedFile f;
  f.stamp = {.dev = 2049, .ino = ino, .size = 1 << 20, .mtime_ns = 1'700'000'000'000'000'001,
             .ctime_ns = 1'700'000'000'000'000'002};
  f.chunks = std::move(chunks);
  return f;
}

bool Same(const std::optional<CachedFile>& a, const CachedFile& b) {
  return a.has_value() && a->stamp == b.stamp && a->chunks == b.chunks;
}

class FilesCacheTest : public ::testing::Test {
 protected:
  void Put(std::string_view source, std::string_view path, const CachedFile& f) {
    WriteBatch b;
    FilesCache::Put(source, path, f, &b);
    ASSERT_OK(kv_->Write(b));
  }
  std::vector<std::optional<CachedFile>> Lookup(std::string_view source,
                                                const std::vector<std::string>& paths) {
    std::vector<std::optional<CachedFile>> out;
    EXPECT_OK(cache_.Lookup(source, paths, &out));
    return out;
  }
  std::string OnlyKey() {
    std::string key;
    EXPECT_OK(kv_->Scan("f", [&](std::string_view k, std::string_view) {
      key = k;
      return false;
    }));
    return key;
  }

  std::unique_ptr<KvStore> kv_ = NewMemKv();
  FilesCache cache_{kv_.get()};
};

TEST_F(FilesCacheTest, PutThenLookupRoundTrips) {
  CachedFile a = File(11, {FilledId(1), FilledId(2), FilledId(1)});
  CachedFile b = File(12, {});
  Put("uploads", "img/a.png", a);
  Put("uploads", "empty", b);
  auto got = Lookup("uploads", {"empty", "missing", "img/a.png"});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(Same(got[0], b));
  EXPECT_EQ(got[1], std::nullopt);
  EXPECT_TRUE(Same(got[2], a));
}

TEST_F(FilesCacheTest, ExtremeStampsRoundTrip) {
  CachedFile f = File(std::numeric_limits<uint64_t>::max(), {FilledId(3)});
  f.stamp.dev = std::numeric_limits<uint64_t>::max();
  f.stamp.mtime_ns = std::numeric_limits<int64_t>::min();
  f.stamp.ctime_ns = -1;
  Put("s", "p", f);
  EXPECT_TRUE(Same(Lookup("s", {"p"})[0], f));
}

TEST_F(FilesCacheTest, SourcesDoNotSeeEachOthersPaths) {
  Put("www", "2/x", File(1, {FilledId(1)}));
  auto got = Lookup("www2", {"/x", "x"});
  EXPECT_EQ(got[0], std::nullopt);
  EXPECT_EQ(got[1], std::nullopt);
  EXPECT_EQ(Lookup("www", {"2/x"})[0]->stamp.ino, 1u);
}

TEST_F(FilesCacheTest, KeyIsPrefixSourceNulPath) {
  Put("src", "a/b", File(1, {}));
  EXPECT_EQ(OnlyKey(), std::string("fsrc\0a/b", 8));
}

TEST_F(FilesCacheTest, CorruptValuesReadAsAbsent) {
  CachedFile f = File(1, {FilledId(1), FilledId(2)});
  Put("s", "p", f);
  const std::string key = OnlyKey();
  const std::string good = kv_->Get(key)->value();
  std::string huge_count = good.substr(0, good.size() - 64 - 1) + "\xff\xff\xff\xff\x0f";
  for (const std::string& bad : {std::string(), good.substr(0, good.size() - 1), good + "x",
                                 "\x07" + good.substr(1), huge_count}) {
    WriteBatch b;
    b.Put(key, bad);
    ASSERT_OK(kv_->Write(b));
    EXPECT_EQ(Lookup("s", {"p"})[0], std::nullopt);
  }
}

TEST_F(FilesCacheTest, ClearDropsOnlyTheFilesCache) {
  Put("s", "p", File(1, {}));
  WriteBatch b;
  b.Put("c-chunk", "x");
  ASSERT_OK(kv_->Write(b));
  ASSERT_OK(cache_.Clear());
  EXPECT_EQ(Lookup("s", {"p"})[0], std::nullopt);
  EXPECT_TRUE(kv_->Get("c-chunk")->has_value());
}

TEST(FilesCache, LookupBatchesAgainstRocksKv) {
  test::TempDir dir;
  auto kv = OpenRocksKv(dir.path());
  ASSERT_OK(kv);
  WriteBatch b;
  for (int i = 0; i < 100; ++i) FilesCache::Put("s", "f" + std::to_string(i), File(i, {FilledId(i)}), &b);
  ASSERT_OK((*kv)->Write(b));
  std::vector<std::string> paths = {"f99", "nope", "f0"};
  std::vector<std::optional<CachedFile>> out;
  ASSERT_OK(FilesCache(kv->get()).Lookup("s", paths, &out));
  EXPECT_TRUE(Same(out[0], File(99, {FilledId(99)})));
  EXPECT_EQ(out[1], std::nullopt);
  EXPECT_TRUE(Same(out[2], File(0, {FilledId(0)})));
}

}  // namespace
}  // namespace snap::engine::index

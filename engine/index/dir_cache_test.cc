#include "engine/index/dir_cache.h"

#include <gtest/gtest.h>

#include "tests/support/chunk_ids.h"
#include "tests/support/test_util.h"

namespace snap::engine::index {
namespace {

using test::FilledId;

CachedDir Dir(uint8_t digest, uint8_t tree, std::string gc = "gc/0001") {
  return {std::move(gc), FilledId(digest), FilledId(tree)};
}

class DirCacheTest : public ::testing::Test {
 protected:
  void Update(std::string_view source, const CachedDirs& before, const CachedDirs& after) {
    WriteBatch b;
    DirCache::Update(source, before, after, &b);
    ASSERT_OK(kv_->Write(b));
  }
  CachedDirs Load(std::string_view source) {
    CachedDirs out;
    EXPECT_OK(cache_.Load(source, &out));
    return out;
  }

  std::unique_ptr<KvStore> kv_ = NewMemKv();
  DirCache cache_{kv_.get()};
};

TEST_F(DirCacheTest, LoadsWhatUpdateStored) {
  CachedDirs dirs = {{"", Dir(1, 2, "")}, {"a", Dir(3, 4)}, {"a/b c", Dir(5, 6)}};
  Update("www", {}, dirs);
  EXPECT_EQ(Load("www"), dirs);
}

TEST_F(DirCacheTest, UpdateWritesChangesAndDropsDirectoriesNoLongerThere) {
  CachedDirs first = {{"", Dir(1, 2)}, {"a", Dir(3, 4)}, {"gone", Dir(5, 6)}};
  Update("www", {}, first);
  CachedDirs second = {{"", Dir(1, 2)}, {"a", Dir(7, 8)}, {"new", Dir(9, 9)}};
  WriteBatch b;
  DirCache::Update("www", Load("www"), second, &b);
  EXPECT_EQ(b.size(), 3u);  // "a" changed, "new" added, "gone" deleted; "" unchanged
  ASSERT_OK(kv_->Write(b));
  EXPECT_EQ(Load("www"), second);
}

TEST_F(DirCacheTest, AnUnchangedRunWritesNothing) {
  CachedDirs dirs = {{"", Dir(1, 2)}, {"a", Dir(3, 4)}};
  Update("www", {}, dirs);
  WriteBatch b;
  DirCache::Update("www", Load("www"), dirs, &b);
  EXPECT_TRUE(b.empty());
}

TEST_F(DirCacheTest, SourcesWhoseNamesPrefixEachOtherStayApart) {
  Update("www", {}, {{"x", Dir(1, 1)}});
  Update("www2", {}, {{"x", Dir(2, 2)}});
  Update("ww", {}, {{"w2", Dir(3, 3)}});
  EXPECT_EQ(Load("www"), (CachedDirs{{"x", Dir(1, 1)}}));
  EXPECT_EQ(Load("www2"), (CachedDirs{{"x", Dir(2, 2)}}));
  EXPECT_EQ(Load("ww"), (CachedDirs{{"w2", Dir(3, 3)}}));
}

TEST_F(DirCacheTest, DamagedValuesReadAsAbsent) {
  Update("www", {}, {{"a", Dir(1, 1)}, {"b", Dir(2, 2)}});
  std::string key = std::string("dwww\0", 5);
  ASSERT_OK(kv_->Write([&] {
    WriteBatch b;
    b.Put(key + "a", "\x01\x00");                                      // truncated
    b.Put(key + "c", std::string(1, '\x02') + std::string(65, '\0'));  // unknown version
    return b;
  }()));
  EXPECT_EQ(Load("www"), (CachedDirs{{"b", Dir(2, 2)}}));
}

TEST_F(DirCacheTest, ValueHasTheDocumentedLayout) {
  Update("s", {}, {{"d", Dir(0xaa, 0xbb, "gc/7")}});
  std::string key, value;
  ASSERT_OK(kv_->Scan("d", [&](std::string_view k, std::string_view v) {
    key = k;
    value = v;
    return false;
  }));
  EXPECT_EQ(key, std::string("ds\0d", 4));
  std::string want =
      std::string("\x01\x04gc/7", 6) + std::string(32, '\xaa') + std::string(32, '\xbb');
  EXPECT_EQ(value, want);
}

TEST_F(DirCacheTest, ClearDropsEverySource) {
  Update("a", {}, {{"", Dir(1, 1)}});
  Update("b", {}, {{"", Dir(2, 2)}});
  ASSERT_OK(cache_.Clear());
  EXPECT_TRUE(Load("a").empty());
  EXPECT_TRUE(Load("b").empty());
}

}  // namespace
}  // namespace snap::engine::index

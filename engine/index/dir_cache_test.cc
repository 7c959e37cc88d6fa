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
  void Store(std::string_view source, const CachedDirs& dirs) {
    DirCacheUpdate u;
    for (const auto& [path, dir] : dirs) u.Put(source, path, dir);
    ASSERT_OK(u.WriteTo(kv_.get()));
  }
  CachedDirs Load(std::string_view source) {
    CachedDirs out;
    EXPECT_OK(cache_.Load(source, &out));
    return out;
  }

  std::unique_ptr<KvStore> kv_ = NewMemKv();
  DirCache cache_{kv_.get()};
};

TEST_F(DirCacheTest, LoadsWhatAnUpdateStored) {
  CachedDirs dirs = {{"", Dir(1, 2, "")}, {"a", Dir(3, 4)}, {"a/b c", Dir(5, 6)}};
  Store("www", dirs);
  EXPECT_EQ(Load("www"), dirs);
}

TEST_F(DirCacheTest, AnUpdateAppliesItsPutsAndDeletesInOrder) {
  Store("www", {{"", Dir(1, 2)}, {"a", Dir(3, 4)}, {"gone", Dir(5, 6)}});
  DirCacheUpdate u;
  u.Put("www", "a", Dir(7, 8));
  u.Put("www", "new", Dir(9, 9));
  u.Delete("www", "gone");
  u.Put("www", "x", Dir(1, 1));
  u.Delete("www", "x");
  u.Delete("www", "y");
  u.Put("www", "y", Dir(2, 2));
  EXPECT_EQ(u.size(), 7u);
  ASSERT_OK(u.WriteTo(kv_.get()));
  EXPECT_EQ(Load("www"),
            (CachedDirs{{"", Dir(1, 2)}, {"a", Dir(7, 8)}, {"new", Dir(9, 9)}, {"y", Dir(2, 2)}}));
}

TEST_F(DirCacheTest, AnUpdateOfManyBatchesIsWrittenWhole) {
  CachedDirs dirs;
  for (int i = 0; i < 10000; ++i)
    dirs["d" + std::to_string(i)] = Dir(static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8));
  Store("www", dirs);
  EXPECT_EQ(Load("www"), dirs);
  DirCacheUpdate none;
  EXPECT_TRUE(none.empty());
  ASSERT_OK(none.WriteTo(kv_.get()));
  EXPECT_EQ(Load("www").size(), 10000u);
}

TEST_F(DirCacheTest, AnAppendedUpdateIsAppliedAfterAndMovedOut) {
  DirCacheUpdate all, www, img;
  all.Put("www", "x", Dir(1, 1));
  www.Put("www", "x", Dir(2, 2));
  www.Put("www", "y", Dir(3, 3));
  img.Put("img", "", Dir(4, 4));
  all.Append(std::move(www));
  all.Append(std::move(img));
  EXPECT_TRUE(www.empty());
  EXPECT_TRUE(img.empty());
  EXPECT_EQ(all.size(), 4u);
  all.Delete("www", "y");
  ASSERT_OK(all.WriteTo(kv_.get()));
  EXPECT_EQ(Load("www"), (CachedDirs{{"x", Dir(2, 2)}}));
  EXPECT_EQ(Load("img"), (CachedDirs{{"", Dir(4, 4)}}));
}

TEST_F(DirCacheTest, SourcesWhoseNamesPrefixEachOtherStayApart) {
  Store("www", {{"x", Dir(1, 1)}});
  Store("www2", {{"x", Dir(2, 2)}});
  Store("ww", {{"w2", Dir(3, 3)}});
  EXPECT_EQ(Load("www"), (CachedDirs{{"x", Dir(1, 1)}}));
  EXPECT_EQ(Load("www2"), (CachedDirs{{"x", Dir(2, 2)}}));
  EXPECT_EQ(Load("ww"), (CachedDirs{{"w2", Dir(3, 3)}}));
}

TEST_F(DirCacheTest, DamagedValuesReadAsAbsent) {
  Store("www", {{"a", Dir(1, 1)}, {"b", Dir(2, 2)}});
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
  Store("s", {{"d", Dir(0xaa, 0xbb, "gc/7")}});
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
  Store("a", {{"", Dir(1, 1)}});
  Store("b", {{"", Dir(2, 2)}});
  ASSERT_OK(cache_.Clear());
  EXPECT_TRUE(Load("a").empty());
  EXPECT_TRUE(Load("b").empty());
}

}  // namespace
}  // namespace snap::engine::index

#include "engine/index/catalog.h"

#include <gtest/gtest.h>

#include <limits>

#include "tests/support/chunk_ids.h"
#include "tests/support/test_util.h"

namespace snap::engine::index {
namespace {

using test::FilledId;

CatalogEntry Entry(int64_t t, uint8_t id) {
  return {t, FilledId(id), "record-" + std::to_string(t) + "-" + std::to_string(id)};
}

class CatalogTest : public ::testing::Test {
 protected:
  std::vector<CatalogEntry> All() {
    std::vector<CatalogEntry> got;
    EXPECT_OK(catalog_.ForEach([&](const CatalogEntry& e) {
      got.push_back(e);
      return true;
    }));
    return got;
  }

  std::unique_ptr<KvStore> kv_ = NewMemKv();
  Catalog catalog_{kv_.get()};
};

bool Same(const CatalogEntry& a, const CatalogEntry& b) {
  return a.time_ns == b.time_ns && a.id == b.id && a.record == b.record;
}

TEST_F(CatalogTest, PutRoundTripsEveryField) {
  CatalogEntry e{1'763'607'600'123'456'789, FilledId(0x3f), std::string("rec\0ord", 7)};
  ASSERT_OK(catalog_.Put(e));
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(Same(all[0], e));
}

TEST_F(CatalogTest, ForEachOrdersNegativeBeforePositiveTimes) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  std::vector<int64_t> want = {kMin, -1'000'000'000, -1, 0, 1, 255, 256, 1'000'000'000, kMax};
  for (auto it = want.rbegin(); it != want.rend(); ++it) ASSERT_OK(catalog_.Put(Entry(*it, 1)));
  std::vector<int64_t> got;
  for (const CatalogEntry& e : All()) got.push_back(e.time_ns);
  EXPECT_EQ(got, want);
}

TEST_F(CatalogTest, EqualTimesAreOrderedById) {
  ASSERT_OK(catalog_.Put(Entry(5, 9)));
  ASSERT_OK(catalog_.Put(Entry(5, 2)));
  ASSERT_OK(catalog_.Put(Entry(4, 200)));
  auto all = All();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].id, FilledId(200));
  EXPECT_EQ(all[1].id, FilledId(2));
  EXPECT_EQ(all[2].id, FilledId(9));
}

TEST_F(CatalogTest, ForEachStopsWhenCallbackReturnsFalse) {
  for (int t = 0; t < 5; ++t) ASSERT_OK(catalog_.Put(Entry(t, 1)));
  int calls = 0;
  ASSERT_OK(catalog_.ForEach([&](const CatalogEntry&) { return ++calls < 2; }));
  EXPECT_EQ(calls, 2);
}

TEST_F(CatalogTest, DeleteRemovesOnlyThatSnapshot) {
  ASSERT_OK(catalog_.Put(Entry(7, 1)));
  ASSERT_OK(catalog_.Put(Entry(7, 2)));
  ASSERT_OK(catalog_.Delete(7, FilledId(1)));
  auto all = All();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, FilledId(2));
}

TEST_F(CatalogTest, ClearLeavesOtherKeyspaces) {
  ASSERT_OK(catalog_.Put(Entry(7, 1)));
  WriteBatch b;
  b.Put("c-chunk", "x");
  b.Put("t", "x");
  ASSERT_OK(kv_->Write(b));
  ASSERT_OK(catalog_.Clear());
  EXPECT_TRUE(All().empty());
  EXPECT_TRUE(kv_->Get("c-chunk")->has_value());
  EXPECT_TRUE(kv_->Get("t")->has_value());
}

TEST_F(CatalogTest, ForEachReportsABadKeyAsCorruption) {
  WriteBatch b;
  b.Put("sbroken", "x");
  ASSERT_OK(kv_->Write(b));
  Status s = catalog_.ForEach([](const CatalogEntry&) { return true; });
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(Catalog, KeyIsSignFlippedBigEndianTimeThenId) {
  auto kv = NewMemKv();
  ASSERT_OK(Catalog(kv.get()).Put({-2, FilledId(0xaa), "r"}));
  std::string key;
  ASSERT_OK(kv->Scan("s", [&](std::string_view k, std::string_view) {
    key = k;
    return true;
  }));
  std::string want = "s\x7f\xff\xff\xff\xff\xff\xff\xfe" + std::string(32, '\xaa');
  EXPECT_EQ(key, want);
}

TEST(Catalog, EntriesSurviveReopenOfRocksKv) {
  test::TempDir dir;
  {
    auto kv = OpenRocksKv(dir.path());
    ASSERT_OK(kv);
    ASSERT_OK(Catalog(kv->get()).Put(Entry(-3, 4)));
  }
  auto kv = OpenRocksKv(dir.path());
  ASSERT_OK(kv);
  std::vector<CatalogEntry> got;
  ASSERT_OK(Catalog(kv->get()).ForEach([&](const CatalogEntry& e) {
    got.push_back(e);
    return true;
  }));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(Same(got[0], Entry(-3, 4)));
}

}  // namespace
}  // namespace snap::engine::index

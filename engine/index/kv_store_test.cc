#include "engine/index/kv_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/support/test_util.h"

namespace snap::engine::index {
namespace {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// Each fixture owns one store; the typed suite runs every test on both.
struct RocksFixture {
  test::TempDir dir;
  std::unique_ptr<KvStore> kv;
  RocksFixture() {
    auto r = OpenRocksKv(dir.Sub("index"));
    if (r.ok()) kv = std::move(*r);
  }
};

struct MemFixture {
  std::unique_ptr<KvStore> kv = NewMemKv();
};

template <typename F>
class KvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(f_.kv, nullptr); }
  KvStore& kv() { return *f_.kv; }

  void PutAll(const KeyValues& kvs) {
    WriteBatch b;
    for (const auto& [k, v] : kvs) b.Put(k, v);
    ASSERT_OK(kv().Write(b));
  }
  KeyValues ScanAll(std::string_view prefix) {
    KeyValues got;
    EXPECT_OK(kv().Scan(prefix, [&](std::string_view k, std::string_view v) {
      got.emplace_back(k, v);
      return true;
    }));
    return got;
  }

  F f_;
};

using Fixtures = ::testing::Types<RocksFixture, MemFixture>;
class FixtureNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, RocksFixture> ? "RocksKv" : "MemKv";
  }
};
TYPED_TEST_SUITE(KvStoreTest, Fixtures, FixtureNames);

TYPED_TEST(KvStoreTest, GetOfAbsentKeyIsNullopt) {
  auto r = this->kv().Get("nope");
  ASSERT_OK(r);
  EXPECT_FALSE(r->has_value());
}

TYPED_TEST(KvStoreTest, PutThenGetReturnsValue) {
  this->PutAll({{"k", std::string("v\0w", 3)}});
  auto r = this->kv().Get("k");
  ASSERT_OK(r);
  EXPECT_EQ(*r, std::string("v\0w", 3));
}

// A batch is applied in key order; the ops on one key must keep theirs.
TYPED_TEST(KvStoreTest, OpsOnOneKeyInABatchApplyInTheirOrder) {
  WriteBatch b;
  b.Put("z", "1");
  b.Put("k", "first");
  b.Delete("k");
  b.Put("k", "last");
  b.Put("a", "1");
  b.Put("gone", "x");
  b.Delete("gone");
  ASSERT_OK(this->kv().Write(b));
  EXPECT_EQ(this->ScanAll(""), (KeyValues{{"a", "1"}, {"k", "last"}, {"z", "1"}}));
}

TYPED_TEST(KvStoreTest, PutOverwritesAndDeleteRemoves) {
  this->PutAll({{"k", "1"}});
  this->PutAll({{"k", "2"}});
  EXPECT_EQ(*this->kv().Get("k"), "2");
  WriteBatch b;
  b.Delete("k");
  ASSERT_OK(this->kv().Write(b, /*sync=*/true));
  EXPECT_FALSE(this->kv().Get("k")->has_value());
}

TYPED_TEST(KvStoreTest, BatchAppliesOpsInOrder) {
  WriteBatch b;
  b.Put("a", "1");
  b.Delete("a");
  b.Put("b", "1");
  b.Put("b", "2");
  ASSERT_OK(this->kv().Write(b));
  EXPECT_FALSE(this->kv().Get("a")->has_value());
  EXPECT_EQ(*this->kv().Get("b"), "2");
}

TYPED_TEST(KvStoreTest, ReadersSeeAWholeBatchOrNone) {
  constexpr int kKeys = 50;
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done) {
      std::vector<std::string> keys;
      for (int i = 0; i < kKeys; ++i) keys.push_back("k" + std::to_string(i));
      std::vector<std::optional<std::string>> vals;
      EXPECT_OK(this->kv().MultiGet(keys, &vals));
      for (const auto& v : vals)
        if (v != vals[0]) ++torn;
    }
  });
  for (int round = 0; round < 200; ++round) {
    WriteBatch b;
    for (int i = 0; i < kKeys; ++i) b.Put("k" + std::to_string(i), std::to_string(round));
    ASSERT_OK(this->kv().Write(b));
  }
  done = true;
  reader.join();
  EXPECT_EQ(torn, 0);
}

TYPED_TEST(KvStoreTest, MultiGetAnswersInRequestOrder) {
  this->PutAll({{"a", "1"}, {"c", "3"}});
  std::vector<std::optional<std::string>> vals;
  ASSERT_OK(this->kv().MultiGet({"c", "b", "a", "c"}, &vals));
  ASSERT_EQ(vals.size(), 4u);
  EXPECT_EQ(vals[0], "3");
  EXPECT_EQ(vals[1], std::nullopt);
  EXPECT_EQ(vals[2], "1");
  EXPECT_EQ(vals[3], "3");
}

TYPED_TEST(KvStoreTest, MultiGetOfNoKeysIsEmpty) {
  std::vector<std::optional<std::string>> vals(3);
  ASSERT_OK(this->kv().MultiGet({}, &vals));
  EXPECT_TRUE(vals.empty());
}

TYPED_TEST(KvStoreTest, ScanStopsAtPrefixEnd) {
  this->PutAll({{"b9", "x"}, {"c", "0"}, {"c1", "1"}, {"c\xff", "2"}, {"d", "3"}, {"d1", "4"}});
  KeyValues want = {{"c", "0"}, {"c1", "1"}, {"c\xff", "2"}};
  EXPECT_EQ(this->ScanAll("c"), want);
}

TYPED_TEST(KvStoreTest, ScanOfPrefixEndingInFfStaysInside) {
  this->PutAll({{"a\xfe", "0"}, {"a\xff", "1"}, {"a\xff\x01", "2"}, {"a\xff\xff", "3"},
                {"b", "4"}, {"\xff", "5"}, {"\xff\xff", "6"}, {"\xfe", "7"}});
  KeyValues want_a = {{"a\xff", "1"}, {"a\xff\x01", "2"}, {"a\xff\xff", "3"}};
  EXPECT_EQ(this->ScanAll("a\xff"), want_a);
  KeyValues want_ff = {{"\xff", "5"}, {"\xff\xff", "6"}};
  EXPECT_EQ(this->ScanAll("\xff"), want_ff);
}

TYPED_TEST(KvStoreTest, ScanWithEmptyPrefixSeesEverythingInOrder) {
  this->PutAll({{"b", "2"}, {"a", "1"}, {"\xff", "3"}});
  KeyValues want = {{"a", "1"}, {"b", "2"}, {"\xff", "3"}};
  EXPECT_EQ(this->ScanAll(""), want);
}

TYPED_TEST(KvStoreTest, ScanStopsWhenCallbackReturnsFalse) {
  this->PutAll({{"c1", ""}, {"c2", ""}, {"c3", ""}});
  int calls = 0;
  ASSERT_OK(this->kv().Scan("c", [&](std::string_view, std::string_view) {
    return ++calls < 2;
  }));
  EXPECT_EQ(calls, 2);
}

TYPED_TEST(KvStoreTest, ScanCallbackMayWriteToTheStore) {
  this->PutAll({{"c1", ""}, {"c2", ""}});
  ASSERT_OK(this->kv().Scan("c", [&](std::string_view k, std::string_view) {
    WriteBatch b;
    b.Put("d" + std::string(k.substr(1)), "copied");
    EXPECT_OK(this->kv().Write(b));
    return true;
  }));
  EXPECT_EQ(this->ScanAll("d").size(), 2u);
}

TYPED_TEST(KvStoreTest, DeletePrefixRemovesOnlyThatPrefix) {
  this->PutAll({{"b", "0"}, {"c", "1"}, {"c\x01", "2"}, {"c\xff\xff", "3"}, {"d", "4"}});
  ASSERT_OK(this->kv().DeletePrefix("c"));
  KeyValues want = {{"b", "0"}, {"d", "4"}};
  EXPECT_EQ(this->ScanAll(""), want);
}

TYPED_TEST(KvStoreTest, DeletePrefixOfAllFfBytesStaysInside) {
  this->PutAll({{"\xfe", "0"}, {"\xff", "1"}, {"\xff\xff\x01", "2"}});
  ASSERT_OK(this->kv().DeletePrefix("\xff"));
  KeyValues want = {{"\xfe", "0"}};
  EXPECT_EQ(this->ScanAll(""), want);
}

TYPED_TEST(KvStoreTest, DeleteOfEmptyPrefixClearsManyKeys) {
  WriteBatch b;
  for (int i = 0; i < 10000; ++i) b.Put("k" + std::to_string(i), "v");
  ASSERT_OK(this->kv().Write(b));
  ASSERT_OK(this->kv().DeletePrefix(""));
  EXPECT_TRUE(this->ScanAll("").empty());
}

TEST(RocksKv, ReopenKeepsData) {
  test::TempDir dir;
  {
    auto kv = OpenRocksKv(dir.path());
    ASSERT_OK(kv);
    WriteBatch b;
    b.Put("k", "v");
    ASSERT_OK((*kv)->Write(b, /*sync=*/true));
  }
  auto kv = OpenRocksKv(dir.path());
  ASSERT_OK(kv);
  EXPECT_EQ(*(*kv)->Get("k"), "v");
}

TEST(RocksKv, SecondOpenWhileOpenIsUnavailable) {
  test::TempDir dir;
  auto first = OpenRocksKv(dir.path());
  ASSERT_OK(first);
  auto second = OpenRocksKv(dir.path());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kUnavailable) << second.status().ToString();
  EXPECT_EQ(second.status().message(),
            "index " + dir.path() + " is locked by another snapctl process");
}

TEST(RocksKv, OpenOfMissingDirWithoutCreateIsIOErrorNamingDir) {
  test::TempDir dir;
  RocksOptions opts;
  opts.create_if_missing = false;
  auto kv = OpenRocksKv(dir.Sub("absent"), opts);
  ASSERT_FALSE(kv.ok());
  EXPECT_EQ(kv.status().code(), Status::Code::kIOError);
  EXPECT_NE(kv.status().message().find(dir.Sub("absent")), std::string::npos);
}

}  // namespace
}  // namespace snap::engine::index

#include "engine/store/object_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "tests/support/test_util.h"

namespace snap::engine::store {
namespace {

using test::TempDir;

// Each store under test comes from a factory, so one suite covers both.
struct LocalStoreFactory {
  TempDir dir;
  std::unique_ptr<ObjectStore> Make() {
    Result<std::unique_ptr<ObjectStore>> s = OpenLocalStore(dir.Sub("repo"));
    EXPECT_OK(s);
    return s.ok() ? std::move(s).value() : nullptr;
  }
};

struct MemStoreFactory {
  std::unique_ptr<ObjectStore> Make() { return NewMemStore(); }
};

template <typename Factory>
class ObjectStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = factory_.Make();
    ASSERT_NE(store_, nullptr);
  }

  void Put(std::string_view key, std::string_view data) {
    Result<bool> r = store_->PutIfAbsent(key, AsBytes(data));
    ASSERT_OK(r);
    ASSERT_TRUE(*r) << key;
  }

  std::string GetString(std::string_view key, uint64_t offset = 0,
                        uint64_t length = ObjectStore::kToEnd) {
    Result<Buffer> r = store_->Get(key, offset, length);
    EXPECT_OK(r);
    return r.ok() ? std::string(AsChars(*r)) : "";
  }

  std::vector<std::pair<std::string, uint64_t>> ListAll(std::string_view prefix) {
    std::vector<std::pair<std::string, uint64_t>> out;
    Status s = store_->List(prefix, [&](std::string_view key, uint64_t size) {
      out.emplace_back(key, size);
      return Status::OK();
    });
    EXPECT_OK(s);
    std::sort(out.begin(), out.end());
    return out;
  }

  Factory factory_;
  std::unique_ptr<ObjectStore> store_;
};

using StoreTypes = ::testing::Types<LocalStoreFactory, MemStoreFactory>;
class StoreNames {
 public:
  template <typename T>
  static std::string GetName(int) {
    return std::is_same_v<T, LocalStoreFactory> ? "Local" : "Mem";
  }
};
TYPED_TEST_SUITE(ObjectStoreTest, StoreTypes, StoreNames);

TYPED_TEST(ObjectStoreTest, PutIfAbsentStoresObjectReadableWhole) {
  this->Put("packs/ab/ab12", "hello pack");
  EXPECT_EQ(this->GetString("packs/ab/ab12"), "hello pack");
}

TYPED_TEST(ObjectStoreTest, PutIfAbsentReturnsFalseAndKeepsOriginal) {
  this->Put("snapshots/01", "first");
  Result<bool> again = this->store_->PutIfAbsent("snapshots/01", AsBytes("second"));
  ASSERT_OK(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(this->GetString("snapshots/01"), "first");
}

TYPED_TEST(ObjectStoreTest, PutIfAbsentStoresEmptyObject) {
  this->Put("config", "");
  EXPECT_EQ(this->GetString("config"), "");
  Result<uint64_t> size = this->store_->Head("config");
  ASSERT_OK(size);
  EXPECT_EQ(*size, 0u);
}

TYPED_TEST(ObjectStoreTest, GetReadsByteRanges) {
  this->Put("k", "0123456789");
  EXPECT_EQ(this->GetString("k", 2, 3), "234");
  EXPECT_EQ(this->GetString("k", 7), "789");
  EXPECT_EQ(this->GetString("k", 10), "");
  EXPECT_EQ(this->GetString("k", 4, 0), "");
  EXPECT_EQ(this->GetString("k", 0, 10), "0123456789");
}

TYPED_TEST(ObjectStoreTest, GetPastTheEndIsCorruption) {
  this->Put("k", "0123456789");
  EXPECT_TRUE(this->store_->Get("k", 8, 3).status().IsCorruption());
  EXPECT_TRUE(this->store_->Get("k", 11).status().IsCorruption());
  EXPECT_TRUE(this->store_->Get("k", 11, 0).status().IsCorruption());
  Status huge = this->store_->Get("k", 5, ObjectStore::kToEnd - 1).status();
  EXPECT_TRUE(huge.IsCorruption());
  EXPECT_NE(huge.message().find("k: short object"), std::string::npos) << huge.ToString();
}

TYPED_TEST(ObjectStoreTest, GetAndHeadOfMissingObjectAreNotFound) {
  this->Put("packs/ab/x", "x");
  EXPECT_TRUE(this->store_->Get("packs/ab/y").status().IsNotFound());
  EXPECT_TRUE(this->store_->Get("nothing/here").status().IsNotFound());
  EXPECT_TRUE(this->store_->Head("packs/ab/y").status().IsNotFound());
  EXPECT_TRUE(this->store_->Head("packs/ab/x/z").status().IsNotFound());
}

TYPED_TEST(ObjectStoreTest, HeadReturnsSize) {
  this->Put("keys/default", std::string(1234, 'k'));
  Result<uint64_t> size = this->store_->Head("keys/default");
  ASSERT_OK(size);
  EXPECT_EQ(*size, 1234u);
}

TYPED_TEST(ObjectStoreTest, ListReturnsEveryObjectUnderPrefix) {
  this->Put("packs/ab/ab01", "1");
  this->Put("packs/ab/ab02", "22");
  this->Put("packs/cd/cd01", "333");
  this->Put("snapshots/ab01", "s");
  this->Put("config", "c");
  using V = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(this->ListAll("packs/"),
            (V{{"packs/ab/ab01", 1}, {"packs/ab/ab02", 2}, {"packs/cd/cd01", 3}}));
  EXPECT_EQ(this->ListAll("packs/ab/"), (V{{"packs/ab/ab01", 1}, {"packs/ab/ab02", 2}}));
  EXPECT_EQ(this->ListAll("").size(), 5u);
}

TYPED_TEST(ObjectStoreTest, ListMatchesPrefixEndingMidName) {
  this->Put("snapshots/ab01", "1");
  this->Put("snapshots/ab02", "2");
  this->Put("snapshots/cd01", "3");
  this->Put("packs/ab/ab01", "4");
  using V = std::vector<std::pair<std::string, uint64_t>>;
  EXPECT_EQ(this->ListAll("snapshots/ab"), (V{{"snapshots/ab01", 1}, {"snapshots/ab02", 1}}));
  EXPECT_EQ(this->ListAll("pa"), (V{{"packs/ab/ab01", 1}}));
  EXPECT_TRUE(this->ListAll("snapshots/x").empty());
  EXPECT_TRUE(this->ListAll("absent/dir/").empty());
}

TYPED_TEST(ObjectStoreTest, ListBelowAnObjectFindsNothing) {
  this->Put("config", "c");
  EXPECT_TRUE(this->ListAll("config/").empty());
  EXPECT_TRUE(this->ListAll("config/x").empty());
}

TYPED_TEST(ObjectStoreTest, ListStopsAtFirstError) {
  this->Put("a/1", "1");
  this->Put("a/2", "2");
  int calls = 0;
  Status s = this->store_->List("a/", [&](std::string_view, uint64_t) {
    ++calls;
    return Status::Aborted("enough");
  });
  EXPECT_EQ(s.code(), Status::Code::kAborted);
  EXPECT_EQ(calls, 1);
}

TYPED_TEST(ObjectStoreTest, ListCallbackMayDeleteObjects) {
  this->Put("a/1", "1");
  this->Put("a/2", "2");
  Status s = this->store_->List(
      "a/", [&](std::string_view key, uint64_t) { return this->store_->Delete(key); });
  ASSERT_OK(s);
  EXPECT_TRUE(this->ListAll("a/").empty());
}

TYPED_TEST(ObjectStoreTest, DeleteRemovesObjectAndIsIdempotent) {
  this->Put("locks/1", "owner");
  ASSERT_OK(this->store_->Delete("locks/1"));
  EXPECT_TRUE(this->store_->Head("locks/1").status().IsNotFound());
  ASSERT_OK(this->store_->Delete("locks/1"));
  ASSERT_OK(this->store_->Delete("never/existed"));
  this->Put("locks/1", "new owner");
  EXPECT_EQ(this->GetString("locks/1"), "new owner");
}

TYPED_TEST(ObjectStoreTest, RejectsInvalidKeys) {
  const std::string bad[] = {"",         "/abs",     "a//b",   "a/",        ".",
                             "..",       "a/./b",    "a/../b", "../escape", std::string("a\0b", 3),
                             "x/.tmp-1", "x.tmp-abc"};
  for (const std::string& key : bad) {
    EXPECT_TRUE(this->store_->PutIfAbsent(key, AsBytes("x")).status().IsInvalidArgument()) << key;
    EXPECT_TRUE(this->store_->Get(key).status().IsInvalidArgument()) << key;
    EXPECT_TRUE(this->store_->Head(key).status().IsInvalidArgument()) << key;
    EXPECT_TRUE(this->store_->Delete(key).IsInvalidArgument()) << key;
  }
}

TYPED_TEST(ObjectStoreTest, ListRejectsPrefixThatEscapes) {
  auto none = [](std::string_view, uint64_t) { return Status::OK(); };
  EXPECT_TRUE(this->store_->List("/etc/", none).IsInvalidArgument());
  EXPECT_TRUE(this->store_->List("../", none).IsInvalidArgument());
  EXPECT_TRUE(this->store_->List("a//", none).IsInvalidArgument());
}

TYPED_TEST(ObjectStoreTest, ConcurrentPutsOfOneKeyWriteExactlyOnce) {
  constexpr int kThreads = 8;
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string data = "writer " + std::to_string(t);
      Result<bool> r = this->store_->PutIfAbsent("packs/ab/same", AsBytes(data));
      EXPECT_OK(r);
      if (r.ok() && *r) ++winners;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(winners.load(), 1);
  EXPECT_EQ(this->GetString("packs/ab/same").rfind("writer ", 0), 0u);
  EXPECT_EQ(this->ListAll("packs/").size(), 1u);
}

// Ranged reads keep the object open (LocalStore): a Replace or a Delete
// must still show in the next ranged read.
TYPED_TEST(ObjectStoreTest, RangedReadsSeeReplaceAndDelete) {
  this->Put("packs/ab/p", "damaged bytes");
  EXPECT_EQ(this->GetString("packs/ab/p", 0, 7), "damaged");
  ASSERT_OK(this->store_->Replace("packs/ab/p", AsBytes(std::string_view("healthy bytes"))));
  EXPECT_EQ(this->GetString("packs/ab/p", 0, 7), "healthy");
  EXPECT_EQ(this->GetString("packs/ab/p"), "healthy bytes");
  ASSERT_OK(this->store_->Delete("packs/ab/p"));
  EXPECT_TRUE(this->store_->Get("packs/ab/p", 0, 7).status().IsNotFound());
  ASSERT_OK(this->store_->Replace("packs/ab/new", AsBytes(std::string_view("stored"))));
  EXPECT_EQ(this->GetString("packs/ab/new", 1, 3), "tor");
}

TYPED_TEST(ObjectStoreTest, LargeObjectsOfAnySizeReadBackExactly) {
  // Packs are written with O_DIRECT in whole 4 KiB blocks and the tail
  // buffered: sizes around those edges must all come back byte for byte.
  for (size_t size : {(size_t{1} << 20) - 1, size_t{1} << 20, (size_t{5} << 20) + 4096,
                      (size_t{9} << 20) + 77}) {
    SCOPED_TRACE(size);
    Buffer data(size);
    for (size_t i = 0; i < size; ++i) data[i] = std::byte(static_cast<uint8_t>(i * 131 + i / 4099));
    std::string key = "packs/cd/" + std::to_string(size);
    Result<bool> put = this->store_->PutIfAbsent(key, data);
    ASSERT_OK(put);
    EXPECT_TRUE(*put);
    Result<Buffer> whole = this->store_->Get(key);
    ASSERT_OK(whole);
    EXPECT_TRUE(*whole == data);
    Result<Buffer> tail = this->store_->Get(key, size - 100, 100);
    ASSERT_OK(tail);
    EXPECT_TRUE(std::equal(tail->begin(), tail->end(), data.end() - 100));
  }
}

// Packs are streamed: appended in pieces of any size, named at the end.
Result<bool> Upload(ObjectStore* store, std::string_view key, ByteSpan data,
                    std::initializer_list<size_t> pieces) {
  SNAP_ASSIGN_OR_RETURN(std::unique_ptr<ObjectUpload> up, store->StartUpload("packs"));
  for (size_t n : pieces) {
    n = std::min(n, data.size());
    SNAP_RETURN_IF_ERROR(up->Append(data.first(n)));
    data = data.subspan(n);
  }
  SNAP_RETURN_IF_ERROR(up->Append(data));
  return up->Commit(key);
}

TYPED_TEST(ObjectStoreTest, UploadsInPiecesOfAnySizeReadBackExactly) {
  // Pieces that end inside and across the 4 MiB direct-write buffer and
  // its 4 KiB blocks, and a total that is no multiple of either.
  size_t size = (size_t{9} << 20) + 77;
  Buffer data(size);
  for (size_t i = 0; i < size; ++i) data[i] = std::byte(static_cast<uint8_t>(i * 7 + i / 5003));
  Result<bool> put = Upload(this->store_.get(), "packs/ef/whole", data,
                            {1, 4095, (size_t{3} << 20) + 5, size_t{1} << 20, 0, 8191});
  ASSERT_OK(put);
  EXPECT_TRUE(*put);
  Result<Buffer> whole = this->store_->Get("packs/ef/whole");
  ASSERT_OK(whole);
  EXPECT_TRUE(*whole == data);
  EXPECT_EQ(this->ListAll("packs/"),
            (std::vector<std::pair<std::string, uint64_t>>{{"packs/ef/whole", size}}));

  // Put-if-absent: a second upload under the name keeps the first bytes.
  Buffer other(1000, std::byte{9});
  put = Upload(this->store_.get(), "packs/ef/whole", other, {10});
  ASSERT_OK(put);
  EXPECT_FALSE(*put);
  whole = this->store_->Get("packs/ef/whole");
  ASSERT_OK(whole);
  EXPECT_TRUE(*whole == data);
}

TYPED_TEST(ObjectStoreTest, AnUploadNotCommittedStoresNothing) {
  {
    Result<std::unique_ptr<ObjectUpload>> up = this->store_->StartUpload("packs");
    ASSERT_OK(up);
    ASSERT_OK((*up)->Append(Buffer(5u << 20, std::byte{1})));
  }
  EXPECT_TRUE(this->ListAll("").empty());
  EXPECT_FALSE(this->store_->StartUpload("../packs").ok());
}

// ---- local store only: what the directory looks like ----

TEST(LocalStore, ListSkipsTempFiles) {
  TempDir dir;
  Result<std::unique_ptr<ObjectStore>> store = OpenLocalStore(dir.path());
  ASSERT_OK(store);
  ASSERT_OK((*store)->PutIfAbsent("packs/ab/ab01", AsBytes("pack")));
  std::ofstream(dir.Sub("packs/ab/ab02.tmp-0123456789abcdef")) << "half written";
  std::vector<std::string> keys;
  ASSERT_OK((*store)->List("packs/", [&](std::string_view key, uint64_t) {
    keys.emplace_back(key);
    return Status::OK();
  }));
  EXPECT_EQ(keys, std::vector<std::string>{"packs/ab/ab01"});
}

TEST(LocalStore, PutLeavesNoTempFileAndCreatesDirectories) {
  TempDir dir;
  Result<std::unique_ptr<ObjectStore>> store = OpenLocalStore(dir.Sub("new/repo"));
  ASSERT_OK(store);
  ASSERT_OK((*store)->PutIfAbsent("packs/ab/ab01", AsBytes("pack")));
  ASSERT_OK((*store)->PutIfAbsent("packs/ab/ab01", AsBytes("again")));
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (e.is_regular_file()) files.push_back(e.path().lexically_relative(dir.path()).string());
  }
  EXPECT_EQ(files, std::vector<std::string>{"new/repo/packs/ab/ab01"});
}

TEST(LocalStore, UploadsLeaveNoTempFileCommittedOrNot) {
  TempDir dir;
  Result<std::unique_ptr<ObjectStore>> store = OpenLocalStore(dir.path());
  ASSERT_OK(store);
  Buffer data((6u << 20) + 3, std::byte{7});
  ASSERT_OK(Upload(store->get(), "packs/ab/ab01", data, {100}));
  ASSERT_OK(Upload(store->get(), "packs/ab/ab01", data, {100}));  // exists: temp removed
  {
    Result<std::unique_ptr<ObjectUpload>> abandoned = (*store)->StartUpload("packs");
    ASSERT_OK(abandoned);
    ASSERT_OK((*abandoned)->Append(data));
  }
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (e.is_regular_file()) files.push_back(e.path().lexically_relative(dir.path()).string());
  }
  EXPECT_EQ(files, std::vector<std::string>{"packs/ab/ab01"});
}

TEST(LocalStore, ObjectsSurviveReopen) {
  TempDir dir;
  {
    Result<std::unique_ptr<ObjectStore>> store = OpenLocalStore(dir.path());
    ASSERT_OK(store);
    ASSERT_OK((*store)->PutIfAbsent("snapshots/01", AsBytes("record")));
  }
  Result<std::unique_ptr<ObjectStore>> store = OpenLocalStore(dir.path());
  ASSERT_OK(store);
  Result<Buffer> data = (*store)->Get("snapshots/01");
  ASSERT_OK(data);
  EXPECT_EQ(AsChars(*data), "record");
}

TEST(LocalStore, DirectoryIsNotAnObject) {
  TempDir dir;
  Result<std::unique_ptr<ObjectStore>> store = OpenLocalStore(dir.path());
  ASSERT_OK(store);
  ASSERT_OK((*store)->PutIfAbsent("packs/ab/ab01", AsBytes("pack")));
  EXPECT_TRUE((*store)->Get("packs/ab").status().IsNotFound());
  EXPECT_TRUE((*store)->Head("packs").status().IsNotFound());
  ASSERT_OK((*store)->Delete("packs/ab"));
  EXPECT_TRUE(std::filesystem::exists(dir.Sub("packs/ab/ab01")));
}

TEST(LocalStore, ErrorsNameTheKeyAndTheSyscall) {
  TempDir dir;
  Result<std::unique_ptr<ObjectStore>> store = OpenLocalStore(dir.path());
  ASSERT_OK(store);
  ASSERT_OK((*store)->PutIfAbsent("config", AsBytes("c")));
  Status s = (*store)->PutIfAbsent("config/sub", AsBytes("x")).status();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("config/sub: open dir config: Not a directory", 0), 0u)
      << s.ToString();
}

TEST(LocalStore, PutOntoADirectoryNameFails) {
  TempDir dir;
  Result<std::unique_ptr<ObjectStore>> store = OpenLocalStore(dir.path());
  ASSERT_OK(store);
  ASSERT_OK((*store)->PutIfAbsent("packs/ab/ab01", AsBytes("pack")));
  Status s = (*store)->PutIfAbsent("packs/ab", AsBytes("x")).status();
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
}

TEST(LocalStore, OpenFailsWhenRootIsAFile) {
  TempDir dir;
  std::ofstream(dir.Sub("file")) << "x";
  EXPECT_FALSE(OpenLocalStore(dir.Sub("file")).ok());
}

}  // namespace
}  // namespace snap::engine::store

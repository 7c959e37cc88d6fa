#include "engine/index/chunk_index.h"

#include <gtest/gtest.h>

#include "engine/index/gc_state.h"
#include "tests/support/test_util.h"

namespace snap::engine::index {
namespace {

ChunkId Id(uint8_t first, uint8_t last = 0) {
  ChunkId id;
  id.bytes[0] = std::byte{first};
  id.bytes[31] = std::byte{last};
  return id;
}

PackId Pack(uint8_t b) {
  PackId p;
  p.fill(std::byte{b});
  return p;
}

pack::PackEntry Entry(const ChunkId& id, uint64_t offset) {
  pack::PackEntry e;
  e.id = id;
  e.kind = pack::EntryKind::kTree;
  e.flags = pack::kFlagCompressed | pack::kFlagSealed;
  e.offset = offset;
  e.length = 4096 + 60;
  e.raw_length = 8000;
  return e;
}

std::string ChunkKey(const ChunkId& id) { return "c" + std::string(AsChars(id.span())); }

class ChunkIndexTest : public ::testing::Test {
 protected:
  std::unique_ptr<KvStore> kv_ = NewMemKv();
  ChunkIndex index_{kv_.get()};
};

TEST_F(ChunkIndexTest, AddPackIsVisibleToMultiGet) {
  std::vector<pack::PackEntry> entries = {Entry(Id(1), 12), Entry(Id(2), 5000)};
  ASSERT_OK(index_.AddPack(Pack(7), entries));
  std::vector<ChunkId> ids = {Id(2), Id(3), Id(1)};
  std::vector<std::optional<ChunkLocation>> got;
  ASSERT_OK(index_.MultiGet(ids, &got));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], (ChunkLocation{Pack(7), entries[1]}));
  EXPECT_EQ(got[1], std::nullopt);
  EXPECT_EQ(got[2], (ChunkLocation{Pack(7), entries[0]}));
}

TEST_F(ChunkIndexTest, GetOfAbsentIdIsNullopt) {
  auto r = index_.Get(Id(9));
  ASSERT_OK(r);
  EXPECT_FALSE(r->has_value());
}

TEST_F(ChunkIndexTest, GetRoundTripsLargeOffsets) {
  pack::PackEntry e = Entry(Id(1), uint64_t{1} << 40);
  e.length = UINT32_MAX;
  e.raw_length = UINT32_MAX;
  e.kind = pack::EntryKind::kStream;
  ASSERT_OK(index_.AddPack(Pack(1), std::span(&e, 1)));
  auto r = index_.Get(Id(1));
  ASSERT_OK(r);
  EXPECT_EQ(*r, (ChunkLocation{Pack(1), e}));
}

TEST_F(ChunkIndexTest, AddPackRepointsAnIndexedId) {
  pack::PackEntry e = Entry(Id(1), 12);
  ASSERT_OK(index_.AddPack(Pack(1), std::span(&e, 1)));
  e.offset = 99;
  ASSERT_OK(index_.AddPack(Pack(2), std::span(&e, 1)));
  EXPECT_EQ(*index_.Get(Id(1)), (ChunkLocation{Pack(2), e}));
}

TEST_F(ChunkIndexTest, ForEachVisitsInIdOrderAndStops) {
  std::vector<pack::PackEntry> entries = {Entry(Id(3), 1), Entry(Id(1, 9), 2),
                                          Entry(Id(1, 2), 3), Entry(Id(0xff), 4)};
  ASSERT_OK(index_.AddPack(Pack(1), entries));
  std::vector<ChunkId> seen;
  ASSERT_OK(index_.ForEach([&](const ChunkId& id, const ChunkLocation& loc) {
    EXPECT_EQ(loc.entry.id, id);
    seen.push_back(id);
    return seen.size() < 3;
  }));
  EXPECT_EQ(seen, (std::vector<ChunkId>{Id(1, 2), Id(1, 9), Id(3)}));
}

TEST_F(ChunkIndexTest, ClearDropsChunksButNotOtherKeyspaces) {
  pack::PackEntry e = Entry(Id(1), 12);
  ASSERT_OK(index_.AddPack(Pack(1), std::span(&e, 1)));
  WriteBatch other;
  other.Put("s-other", "x");
  ASSERT_OK(kv_->Write(other));
  ASSERT_OK(index_.Clear());
  EXPECT_FALSE(index_.Get(Id(1))->has_value());
  EXPECT_TRUE(kv_->Get("s-other")->has_value());
}

TEST_F(ChunkIndexTest, CorruptValueIsCorruptionNamingTheChunk) {
  pack::PackEntry e = Entry(Id(0xab), 12);
  ASSERT_OK(index_.AddPack(Pack(1), std::span(&e, 1)));
  std::string good = kv_->Get(ChunkKey(Id(0xab)))->value();
  for (std::string bad : {std::string(), good.substr(0, good.size() - 1), good + "x",
                          "\x02" + good.substr(1)}) {
    WriteBatch b;
    b.Put(ChunkKey(Id(0xab)), bad);
    ASSERT_OK(kv_->Write(b));
    auto r = index_.Get(Id(0xab));
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsCorruption());
    EXPECT_EQ(r.status().message(),
              "index: chunk " + Id(0xab).ShortHex() + ": bad location record");
  }
}

TEST_F(ChunkIndexTest, UnknownKindIsCorruption) {
  pack::PackEntry e = Entry(Id(1), 12);
  ASSERT_OK(index_.AddPack(Pack(1), std::span(&e, 1)));
  std::string v = kv_->Get(ChunkKey(Id(1)))->value();
  v[33] = 9;  // version(1) + pack(32), then kind
  WriteBatch b;
  b.Put(ChunkKey(Id(1)), v);
  ASSERT_OK(kv_->Write(b));
  std::vector<std::optional<ChunkLocation>> got;
  EXPECT_TRUE(index_.MultiGet(std::vector<ChunkId>{Id(1)}, &got).IsCorruption());
}

TEST_F(ChunkIndexTest, ForEachReportsAShortKey) {
  WriteBatch b;
  b.Put("cshort", "x");
  ASSERT_OK(kv_->Write(b));
  Status s = index_.ForEach([](const ChunkId&, const ChunkLocation&) { return true; });
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST(ChunkIndex, AddPackSurvivesReopenOfRocksKv) {
  test::TempDir dir;
  pack::PackEntry e = Entry(Id(5), 777);
  {
    auto kv = OpenRocksKv(dir.path());
    ASSERT_OK(kv);
    ASSERT_OK(ChunkIndex(kv->get()).AddPack(Pack(3), std::span(&e, 1)));
  }
  auto kv = OpenRocksKv(dir.path());
  ASSERT_OK(kv);
  auto r = ChunkIndex(kv->get()).Get(Id(5));
  ASSERT_OK(r);
  EXPECT_EQ(*r, (ChunkLocation{Pack(3), e}));
}

TEST_F(ChunkIndexTest, HiddenPacksAreAbsentForReuseButStillLocated) {
  ASSERT_OK(index_.AddPack(Pack(1), std::vector<pack::PackEntry>{Entry(Id(1), 12)}));
  ASSERT_OK(index_.AddPack(Pack(2), std::vector<pack::PackEntry>{Entry(Id(2), 12)}));
  index_.set_hidden_packs({Pack(1)});
  EXPECT_FALSE(index_.Get(Id(1))->has_value());
  EXPECT_TRUE(index_.Get(Id(2))->has_value());
  EXPECT_TRUE(index_.Locate(Id(1))->has_value());
  std::vector<ChunkId> ids = {Id(1), Id(2)};
  std::vector<std::optional<ChunkLocation>> got;
  ASSERT_OK(index_.MultiGet(ids, &got));
  EXPECT_FALSE(got[0].has_value());
  EXPECT_TRUE(got[1].has_value());
  // A copy stored again elsewhere is reusable.
  ASSERT_OK(index_.AddPack(Pack(3), std::vector<pack::PackEntry>{Entry(Id(1), 12)}));
  EXPECT_EQ((*index_.Get(Id(1)))->pack, Pack(3));
}

TEST_F(ChunkIndexTest, DropPacksRemovesOnlyLocationsInThosePacks) {
  std::vector<pack::PackEntry> in_one;
  for (uint8_t i = 0; i < 10; ++i) in_one.push_back(Entry(Id(i), 12 + i * 5000));
  ASSERT_OK(index_.AddPack(Pack(1), in_one));
  ASSERT_OK(index_.AddPack(Pack(2), std::vector<pack::PackEntry>{Entry(Id(100), 12)}));
  ASSERT_OK(index_.AddPack(Pack(3), std::vector<pack::PackEntry>{Entry(Id(3), 12)}));  // moved
  ASSERT_OK(index_.DropPacks({Pack(1)}));
  int left = 0;
  ASSERT_OK(index_.ForEach([&](const ChunkId&, const ChunkLocation& l) {
    EXPECT_NE(l.pack, Pack(1));
    ++left;
    return true;
  }));
  EXPECT_EQ(left, 2);
  EXPECT_TRUE(index_.Locate(Id(3))->has_value());
}

TEST_F(ChunkIndexTest, ClearAlsoForgetsTheGcRecordsApplied) {
  WriteBatch b;
  GcState::SetApplied(&b, "gc/00000000000000000001-00000000");
  GcState::Hide(&b, Pack(4));
  ASSERT_OK(kv_->Write(b));
  GcState state(kv_.get());
  EXPECT_EQ(*state.Applied(), "gc/00000000000000000001-00000000");
  EXPECT_EQ(state.HiddenPacks()->size(), 1u);
  ASSERT_OK(index_.Clear());
  EXPECT_EQ(*state.Applied(), "");
  EXPECT_TRUE(state.HiddenPacks()->empty());
}

}  // namespace
}  // namespace snap::engine::index

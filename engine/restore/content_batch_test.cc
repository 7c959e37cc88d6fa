#include "engine/restore/content_batch.h"

#include <gtest/gtest.h>

namespace snap::engine::restore {
namespace {

index::PackId Pack(int n) {
  index::PackId p{};
  p[0] = std::byte(n);
  return p;
}

// Adds a chunk located at `offset` (a frame of `length`) in pack `pack`,
// with one target; pack < 0: not located.
void Add(Batch* b, int pack, uint64_t offset, uint32_t length) {
  BatchChunk c;
  c.id.bytes[0] = std::byte(b->chunks.size());
  c.id.bytes[1] = std::byte(b->chunks.size() >> 8);
  if (pack >= 0) {
    index::ChunkLocation loc;
    loc.pack = Pack(pack);
    loc.entry.offset = offset;
    loc.entry.length = length;
    c.loc = loc;
  }
  c.targets.push_back(ChunkTarget{0, 0});
  b->chunks.push_back(std::move(c));
}

std::vector<uint32_t> ReadOrder(const Batch& b, const PackRead& r) {
  return std::vector<uint32_t>(b.order.begin() + r.first, b.order.begin() + r.end);
}

TEST(PlanReads, GroupsByPackInFirstUseOrderThenOffset) {
  Batch b;
  Add(&b, 7, 300, 100);  // 0
  Add(&b, 3, 0, 100);    // 1
  Add(&b, 7, 0, 100);    // 2
  Add(&b, 3, 100, 100);  // 3
  Add(&b, 7, 100, 200);  // 4
  PlanReads(&b, 1 << 20, 0);
  ASSERT_EQ(b.reads.size(), 2u);
  EXPECT_EQ(b.reads[0].pack, Pack(7));
  EXPECT_EQ(b.reads[0].offset, 0u);
  EXPECT_EQ(b.reads[0].length, 400u);
  EXPECT_EQ(ReadOrder(b, b.reads[0]), (std::vector<uint32_t>{2, 4, 0}));
  EXPECT_EQ(b.reads[1].pack, Pack(3));
  EXPECT_EQ(b.reads[1].length, 200u);
  EXPECT_EQ(ReadOrder(b, b.reads[1]), (std::vector<uint32_t>{1, 3}));
}

TEST(PlanReads, SplitsAtLargeGapsAndAtTheReadLimit) {
  Batch b;
  Add(&b, 1, 0, 100);
  Add(&b, 1, 150, 100);   // gap 50: same read
  Add(&b, 1, 1000, 100);  // gap 750: new read
  Add(&b, 1, 1100, 900);  // would make the read 1000 bytes: new read at limit 999
  Add(&b, 1, 5000, 4000); // larger than the limit: a read of its own
  PlanReads(&b, 999, 64);
  ASSERT_EQ(b.reads.size(), 4u);
  EXPECT_EQ(b.reads[0].length, 250u);
  EXPECT_EQ(b.reads[0].end - b.reads[0].first, 2u);
  EXPECT_EQ(b.reads[1].offset, 1000u);
  EXPECT_EQ(b.reads[1].length, 100u);
  EXPECT_EQ(b.reads[2].offset, 1100u);
  EXPECT_EQ(b.reads[2].length, 900u);
  EXPECT_EQ(b.reads[3].offset, 5000u);
  EXPECT_EQ(b.reads[3].length, 4000u);
}

TEST(PlanReads, LeavesOutUnlocatedChunksAndChunksNobodyNeeds) {
  Batch b;
  Add(&b, -1, 0, 0);
  Add(&b, 2, 0, 100);
  Add(&b, 2, 100, 100);
  b.chunks[2].targets.clear();  // every file holding it is lost
  PlanReads(&b, 1 << 20, 1 << 10);
  EXPECT_EQ(b.order, (std::vector<uint32_t>{1}));
  ASSERT_EQ(b.reads.size(), 1u);
  EXPECT_EQ(b.reads[0].length, 100u);
}

}  // namespace
}  // namespace snap::engine::restore

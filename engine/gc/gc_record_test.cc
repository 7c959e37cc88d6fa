#include "engine/gc/gc_record.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace snap::engine::gc {
namespace {

PackId P(uint8_t b) {
  PackId p{};
  p.fill(std::byte(b));
  return p;
}

TEST(GcRecord, RoundTripsEveryList) {
  GcRecord r;
  r.time_ns = 1763607600000000000;
  r.condemned = {P(1), P(2)};
  r.replaced = {P(3)};
  r.added = {P(4)};
  r.deleted = {P(5)};
  r.restored = {P(6), P(7)};
  Buffer bytes;
  r.EncodeTo(&bytes);
  Result<GcRecord> back = GcRecord::Decode(bytes);
  ASSERT_OK(back);
  EXPECT_EQ(back->time_ns, r.time_ns);
  EXPECT_EQ(back->condemned, r.condemned);
  EXPECT_EQ(back->replaced, r.replaced);
  EXPECT_EQ(back->added, r.added);
  EXPECT_EQ(back->deleted, r.deleted);
  EXPECT_EQ(back->restored, r.restored);
}

TEST(GcRecord, EmptyRecordHasTheDocumentedBytes) {
  GcRecord r;
  r.time_ns = 1;
  Buffer bytes;
  r.EncodeTo(&bytes);
  // "SNAPGCRC", version 1, time 1 (zig-zag 2), five empty lists, XXH3.
  EXPECT_EQ(ToHex(bytes), "534e41504743524301020000000000157d403ef66ace53");
}

TEST(GcRecord, RejectsDamageTruncationAndOtherVersions) {
  GcRecord r;
  r.condemned = {P(9)};
  Buffer bytes;
  r.EncodeTo(&bytes);
  Buffer flipped = bytes;
  flipped[20] ^= std::byte{1};
  EXPECT_EQ(GcRecord::Decode(flipped).status().code(), Status::Code::kCorruption);
  EXPECT_EQ(GcRecord::Decode(ByteSpan(bytes).first(bytes.size() - 1)).status().code(),
            Status::Code::kCorruption);
}

TEST(GcRecordKey, SortsByTimeAndParsesBack) {
  std::string a = GcRecordKey(999, 0xabcdef01), b = GcRecordKey(1000, 0);
  EXPECT_EQ(a, "gc/00000000000000000999-abcdef01");
  EXPECT_LT(a, b);
  EXPECT_EQ(GcRecordKeyTime(a), 999);
  EXPECT_EQ(GcRecordKeyTime("gc/0000000000000000099x-abcdef01"), -1);
  EXPECT_EQ(GcRecordKeyTime("gc/notes"), -1);
}

TEST(ReadGcRecords, ListsRecordsAfterAKeyInOrder) {
  auto store = store::NewMemStore();
  for (int64_t t : {30, 10, 20}) {
    GcRecord r;
    r.time_ns = t;
    Buffer bytes;
    r.EncodeTo(&bytes);
    ASSERT_OK(store->PutIfAbsent(GcRecordKey(t, 1), bytes));
  }
  ASSERT_OK(store->PutIfAbsent("gc/README", ToBuffer("not a record")));
  Result<std::vector<NamedGcRecord>> all = ReadGcRecords(*store);
  ASSERT_OK(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].record.time_ns, 10);
  EXPECT_EQ((*all)[2].record.time_ns, 30);
  Result<std::vector<NamedGcRecord>> later = ReadGcRecords(*store, (*all)[0].key);
  ASSERT_OK(later);
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ((*later)[0].record.time_ns, 20);
}

TEST(ReadGcRecords, FailsOnARecordThatDoesNotDecode) {
  auto store = store::NewMemStore();
  ASSERT_OK(store->PutIfAbsent(GcRecordKey(5, 1), ToBuffer("SNAPGCRC garbage")));
  EXPECT_EQ(ReadGcRecords(*store).status().code(), Status::Code::kCorruption);
}

}  // namespace
}  // namespace snap::engine::gc

#include "engine/snapshot/stream_list.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace snap::engine::snapshot {
namespace {

TEST(StreamList, RoundTrips) {
  StreamList s;
  s.level = 1;
  for (int i = 0; i < 3; ++i) {
    ChunkId id;
    id.bytes[0] = static_cast<std::byte>(i);
    s.ids.push_back(id);
  }
  Buffer b;
  s.EncodeTo(&b);
  auto d = StreamList::Decode(b);
  ASSERT_OK(d);
  EXPECT_EQ(d->level, 1);
  EXPECT_EQ(d->ids, s.ids);
}

TEST(StreamList, RejectsTruncationAndTrailingBytes) {
  StreamList s;
  s.ids.resize(2);
  Buffer b;
  s.EncodeTo(&b);
  for (size_t n = 0; n < b.size(); ++n)
    EXPECT_FALSE(StreamList::Decode(ByteSpan(b).first(n)).ok()) << n;
  b.push_back(std::byte{0});
  EXPECT_FALSE(StreamList::Decode(b).ok());
}

TEST(StreamList, RejectsLevelAboveOne) {
  StreamList s;
  s.level = 2;
  Buffer b;
  s.EncodeTo(&b);
  EXPECT_FALSE(StreamList::Decode(b).ok());
}

}  // namespace
}  // namespace snap::engine::snapshot

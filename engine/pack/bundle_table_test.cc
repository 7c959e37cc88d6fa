#include "engine/pack/bundle_table.h"

#include <vector>

#include "engine/codec/varint.h"
#include "tests/support/test_util.h"

namespace snap::engine::pack {
namespace {

Buffer Members(const std::vector<uint32_t>& lengths) {
  Buffer plain;
  for (uint32_t n : lengths) plain.insert(plain.end(), n, std::byte{0x61});
  return plain;
}

// plain = members | the varints given | their byte length (fixed32).
Buffer WithRawTable(Buffer plain, const Buffer& varints) {
  plain.insert(plain.end(), varints.begin(), varints.end());
  codec::Encoder(&plain).PutFixed32(static_cast<uint32_t>(varints.size()));
  return plain;
}

std::string Error(const Buffer& plain) { return ParseBundleTable(plain).status().message(); }

TEST(BundleTable, RoundTripsTheMembersLengths) {
  for (const std::vector<uint32_t>& lengths :
       {std::vector<uint32_t>{1, 1}, {127, 128, 16384}, {65535, 3, 70000, 12}}) {
    Buffer plain = Members(lengths);
    const size_t members = plain.size();
    AppendBundleTable(lengths, &plain);
    Result<BundleLayout> got = ParseBundleTable(plain);
    ASSERT_OK(got);
    EXPECT_EQ(got->lengths, lengths);
    EXPECT_EQ(got->members_bytes, members);
  }
}

// FORMAT.md "Slices", worked example.
TEST(BundleTable, EndsThePlaintextAsDocumented) {
  Buffer plain = ToBuffer("abcde");
  AppendBundleTable(std::vector<uint32_t>{2, 3}, &plain);
  EXPECT_EQ(ToHex(plain), "6162636465020302000000");
}

TEST(BundleTable, HoldsAtMostTheBoundItsWritersKeep) {
  std::vector<uint32_t> lengths(kMaxBundleMembers, 1);
  Buffer plain = Members(lengths);
  AppendBundleTable(lengths, &plain);
  EXPECT_LE(plain.size() - kMaxBundleMembers, kMaxBundleTableBytes);
  ASSERT_OK(ParseBundleTable(plain));
  lengths.push_back(1);
  plain = Members(lengths);
  AppendBundleTable(lengths, &plain);
  EXPECT_EQ(Error(plain), "bundle table: more than 8192 members");
}

// The plaintext is untrusted: only a table that accounts for exactly the
// bytes before it, in two or more members of at least one byte, parses.
TEST(BundleTable, RejectsEveryMalformedTable) {
  auto varints = [](std::vector<uint64_t> values) {
    Buffer b;
    for (uint64_t v : values) codec::Encoder(&b).PutVarint(v);
    return b;
  };
  EXPECT_EQ(Error(Buffer(3)), "bundle table: 3 bytes, no table length");
  Buffer long_table = Members({2});
  codec::Encoder(&long_table).PutFixed32(10);
  EXPECT_EQ(Error(long_table), "bundle table: length 10 exceeds the 2 bytes before it");
  EXPECT_EQ(Error(WithRawTable(Members({2}), Buffer{std::byte{0x82}})),
            "bundle table: malformed member length");
  EXPECT_EQ(Error(WithRawTable(Members({2}), Buffer{std::byte{0x82}, std::byte{0x00}})),
            "bundle table: malformed member length");  // not the shortest form
  EXPECT_EQ(Error(WithRawTable(Buffer(8), varints({1ull << 32}))),
            "bundle table: malformed member length");
  EXPECT_EQ(Error(WithRawTable(Members({2}), varints({2, 0}))), "bundle table: empty member");
  EXPECT_EQ(Error(WithRawTable(Members({4}), varints({4}))),
            "bundle table: 1 member(s), not a bundle");
  EXPECT_EQ(Error(WithRawTable({}, {})), "bundle table: 0 member(s), not a bundle");
  EXPECT_EQ(Error(WithRawTable(Members({5}), varints({2, 2}))),
            "bundle table: members of 4 bytes where 5 precede the table");
  EXPECT_EQ(Error(WithRawTable(Members({3}), varints({2, 2}))),
            "bundle table: members of 4 bytes where 3 precede the table");
}

}  // namespace
}  // namespace snap::engine::pack

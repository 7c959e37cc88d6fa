#include "engine/codec/checksummed.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/codec/checksum.h"
#include "tests/support/test_util.h"

namespace snap::engine::codec {
namespace {

constexpr std::string_view kMagic = "TESTMAGC";

// A frame holding `body`, after `prefix` already in the buffer.
Buffer Frame(std::string_view body, std::string_view prefix = "") {
  Buffer out = ToBuffer(prefix);
  size_t start = BeginChecksummed(&out, kMagic);
  Append(&out, AsBytes(body));
  EndChecksummed(&out, start);
  return out;
}

TEST(Checksummed, RoundTripsBody) {
  Buffer b = Frame("hello");
  ASSERT_EQ(b.size(), kMagic.size() + 5 + 8);
  Result<ByteSpan> body = OpenChecksummed(b, kMagic, "thing");
  ASSERT_OK(body);
  EXPECT_EQ(AsChars(*body), "hello");
}

TEST(Checksummed, RoundTripsEmptyBody) {
  Buffer b = Frame("");
  Result<ByteSpan> body = OpenChecksummed(b, kMagic, "thing");
  ASSERT_OK(body);
  EXPECT_TRUE(body->empty());
}

TEST(Checksummed, LaysOutMagicBodyAndChecksumLittleEndian) {
  Buffer b = Frame("xy");
  EXPECT_EQ(AsChars(ByteSpan(b).first(kMagic.size())), kMagic);
  uint64_t sum = Xxh3(ByteSpan(b).first(b.size() - 8));
  for (size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(b[b.size() - 8 + i], std::byte(sum >> (8 * i))) << "byte " << i;
  }
}

TEST(Checksummed, CoversOnlyTheFrameNotEarlierBytes) {
  Buffer b = Frame("body", "prefix");
  Result<ByteSpan> body = OpenChecksummed(ByteSpan(b).subspan(6), kMagic, "thing");
  ASSERT_OK(body);
  EXPECT_EQ(AsChars(*body), "body");
}

TEST(Checksummed, RejectsBadMagic) {
  Buffer b = Frame("hello");
  b[0] = std::byte{'X'};
  Result<ByteSpan> body = OpenChecksummed(b, kMagic, "thing");
  ASSERT_TRUE(body.status().IsCorruption());
  EXPECT_EQ(body.status().message(), "thing: bad magic");
}

TEST(Checksummed, WordsBadMagicAsTheCallerAsks) {
  Buffer b = Frame("hello");
  Result<ByteSpan> body = OpenChecksummed(b, "OTHERMAG", "config", "not a config (bad magic)");
  ASSERT_TRUE(body.status().IsCorruption());
  EXPECT_EQ(body.status().message(), "config: not a config (bad magic)");
}

TEST(Checksummed, RejectsEveryFlippedByte) {
  Buffer good = Frame("hello");
  for (size_t i = 0; i < good.size(); ++i) {
    Buffer b = good;
    b[i] ^= std::byte{0x01};
    Result<ByteSpan> body = OpenChecksummed(b, kMagic, "thing");
    ASSERT_TRUE(body.status().IsCorruption()) << "byte " << i;
    EXPECT_EQ(body.status().message(),
              i < kMagic.size() ? "thing: bad magic" : "thing: checksum mismatch")
        << "byte " << i;
  }
}

TEST(Checksummed, RejectsTruncation) {
  Buffer good = Frame("hello");
  for (size_t n = 0; n < good.size(); ++n) {
    Result<ByteSpan> body = OpenChecksummed(ByteSpan(good).first(n), kMagic, "thing");
    ASSERT_TRUE(body.status().IsCorruption()) << "length " << n;
    EXPECT_EQ(body.status().message(),
              n < kMagic.size() + 8 ? "thing: bad magic" : "thing: checksum mismatch")
        << "length " << n;
  }
}

TEST(Checksummed, RejectsTrailingBytes) {
  Buffer b = Frame("hello");
  b.push_back(std::byte{0});
  Result<ByteSpan> body = OpenChecksummed(b, kMagic, "thing");
  EXPECT_EQ(body.status().message(), "thing: checksum mismatch");
}

}  // namespace
}  // namespace snap::engine::codec

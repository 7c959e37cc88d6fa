#include "engine/codec/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace snap::engine::codec {
namespace {

Buffer Hex(std::string_view hex) {
  Buffer b;
  EXPECT_TRUE(FromHex(hex, &b)) << hex;
  return b;
}

std::string EncodeVarint(uint64_t v) {
  Buffer b;
  Encoder(&b).PutVarint(v);
  return ToHex(b);
}

TEST(Varint, EncodesDocumentedExamples) {
  EXPECT_EQ(EncodeVarint(0), "00");
  EXPECT_EQ(EncodeVarint(1), "01");
  EXPECT_EQ(EncodeVarint(127), "7f");
  EXPECT_EQ(EncodeVarint(128), "8001");
  EXPECT_EQ(EncodeVarint(300), "ac02");
  EXPECT_EQ(EncodeVarint(16384), "808001");
  EXPECT_EQ(EncodeVarint(std::numeric_limits<uint64_t>::max()), "ffffffffffffffffff01");
}

TEST(Varint, RoundTripsEdgeValues) {
  std::vector<uint64_t> values = {0, 1, 127, 128, 255, 256, 16383, 16384};
  for (int shift = 7; shift < 64; shift += 7) {
    values.push_back((uint64_t{1} << shift) - 1);
    values.push_back(uint64_t{1} << shift);
  }
  values.push_back(uint64_t{1} << 63);
  values.push_back(std::numeric_limits<uint64_t>::max());
  Buffer b;
  Encoder enc(&b);
  for (uint64_t v : values) enc.PutVarint(v);

  Decoder dec(b);
  for (uint64_t want : values) {
    uint64_t got = 0;
    ASSERT_TRUE(dec.GetVarint(&got));
    EXPECT_EQ(got, want);
  }
  EXPECT_TRUE(dec.done());
  EXPECT_TRUE(dec.ok());
}

TEST(Varint, SignedValuesUseZigZag) {
  Buffer b;
  Encoder enc(&b);
  for (int64_t v : {0, -1, 1, -2, 2}) enc.PutSignedVarint(v);
  EXPECT_EQ(ToHex(b), "0001020304");
}

TEST(Varint, SignedRoundTripsExtremes) {
  const std::vector<int64_t> values = {0,
                                       -1,
                                       1,
                                       -64,
                                       64,
                                       -65,
                                       std::numeric_limits<int64_t>::min(),
                                       std::numeric_limits<int64_t>::max()};
  Buffer b;
  Encoder enc(&b);
  for (int64_t v : values) enc.PutSignedVarint(v);
  Decoder dec(b);
  for (int64_t want : values) {
    int64_t got = 0;
    ASSERT_TRUE(dec.GetSignedVarint(&got));
    EXPECT_EQ(got, want);
  }
  EXPECT_TRUE(dec.done());
}

TEST(Varint, RejectsTruncatedInput) {
  for (std::string_view hex : {"", "80", "ff", "8080", "ffffffffffffffffff"}) {
    Buffer b = Hex(hex);
    Decoder dec(b);
    uint64_t v;
    EXPECT_FALSE(dec.GetVarint(&v)) << hex;
    EXPECT_FALSE(dec.ok()) << hex;
  }
}

TEST(Varint, RejectsEncodingsLongerThanTenBytes) {
  Buffer b = Hex("8080808080808080808000");
  Decoder dec(b);
  uint64_t v;
  EXPECT_FALSE(dec.GetVarint(&v));
}

TEST(Varint, RejectsValuesAbove64Bits) {
  // Ten bytes whose last one carries more than bit 63.
  Buffer b = Hex("ffffffffffffffffff02");
  Decoder dec(b);
  uint64_t v;
  EXPECT_FALSE(dec.GetVarint(&v));
}

TEST(Varint, Varint32RejectsValuesAbove32Bits) {
  Buffer b;
  Encoder(&b).PutVarint(uint64_t{1} << 32);
  Decoder dec(b);
  uint32_t v;
  EXPECT_FALSE(dec.GetVarint32(&v));

  Buffer ok;
  Encoder(&ok).PutVarint(0xffffffffu);
  Decoder dec2(ok);
  ASSERT_TRUE(dec2.GetVarint32(&v));
  EXPECT_EQ(v, 0xffffffffu);
}

TEST(Varint, FailureIsSticky) {
  Buffer b = Hex("80");
  Decoder dec(b);
  uint64_t v;
  EXPECT_FALSE(dec.GetVarint(&v));
  uint8_t u;
  EXPECT_FALSE(dec.GetU8(&u));
  EXPECT_FALSE(dec.ok());
}

TEST(FixedInt, IsLittleEndian) {
  Buffer b;
  Encoder enc(&b);
  enc.PutFixed32(0x01020304);
  enc.PutFixed64(0x0102030405060708);
  EXPECT_EQ(ToHex(b),
            "04030201"
            "0807060504030201");
  Decoder dec(b);
  uint32_t a;
  uint64_t c;
  ASSERT_TRUE(dec.GetFixed32(&a));
  ASSERT_TRUE(dec.GetFixed64(&c));
  EXPECT_EQ(a, 0x01020304u);
  EXPECT_EQ(c, 0x0102030405060708u);
  EXPECT_TRUE(dec.done());
}

TEST(FixedInt, RejectsTruncatedInput) {
  Buffer b = Hex("010203");
  Decoder dec(b);
  uint32_t v;
  EXPECT_FALSE(dec.GetFixed32(&v));
  Buffer b8 = Hex("01020304050607");
  Decoder dec8(b8);
  uint64_t w;
  EXPECT_FALSE(dec8.GetFixed64(&w));
}

TEST(LengthPrefixedString, RoundTripsIncludingEmptyAndBinary) {
  const std::string binary("a\0b\xff", 4);
  Buffer b;
  Encoder enc(&b);
  enc.PutString("");
  enc.PutString("snap");
  enc.PutString(binary);
  EXPECT_EQ(ToHex(b).substr(0, 12), "0004736e6170");
  Decoder dec(b);
  std::string s;
  ASSERT_TRUE(dec.GetString(&s));
  EXPECT_EQ(s, "");
  ASSERT_TRUE(dec.GetString(&s));
  EXPECT_EQ(s, "snap");
  ASSERT_TRUE(dec.GetString(&s));
  EXPECT_EQ(s, binary);
  EXPECT_TRUE(dec.done());
}

TEST(LengthPrefixedString, RejectsLengthBeyondInput) {
  Buffer b = Hex("0561626364");  // claims 5 bytes, holds 4
  Decoder dec(b);
  std::string s;
  EXPECT_FALSE(dec.GetString(&s));
}

TEST(LengthPrefixedString, RejectsLengthAboveCallerLimit) {
  Buffer b;
  Encoder(&b).PutString("abcdef");
  Decoder dec(b);
  std::string s;
  EXPECT_FALSE(dec.GetString(&s, 5));
}

TEST(LengthPrefixedString, HugeLengthDoesNotAllocate) {
  Buffer b = Hex("ffffffffffffffff7f");  // 2^63 - 1
  Decoder dec(b);
  std::string s;
  EXPECT_FALSE(dec.GetString(&s, std::numeric_limits<size_t>::max()));
}

TEST(Decoder, RawAndIdViewsStayInBounds) {
  ChunkId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = std::byte(i);
  Buffer b;
  Encoder enc(&b);
  enc.PutId(id);
  enc.PutRaw(AsBytes("xyz"));
  Decoder dec(b);
  ChunkId got;
  ByteSpan raw;
  ASSERT_TRUE(dec.GetId(&got));
  EXPECT_EQ(got, id);
  EXPECT_FALSE(dec.GetRaw(4, &raw));
  Decoder dec2(b);
  ASSERT_TRUE(dec2.GetId(&got));
  ASSERT_TRUE(dec2.GetRaw(3, &raw));
  EXPECT_EQ(AsChars(raw), "xyz");
  EXPECT_TRUE(dec2.done());
}

}  // namespace
}  // namespace snap::engine::codec

namespace snap::engine::codec {
namespace {

TEST(Varint, RejectsZeroPaddedEncodings) {
  const std::byte padded[] = {std::byte{0x80}, std::byte{0x00}};
  Decoder d(padded);
  uint64_t v;
  EXPECT_FALSE(d.GetVarint(&v));
  const std::byte padded300[] = {std::byte{0xac}, std::byte{0x82}, std::byte{0x00}};
  Decoder d2(padded300);
  EXPECT_FALSE(d2.GetVarint(&v));
}

}  // namespace
}  // namespace snap::engine::codec

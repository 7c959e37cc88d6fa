#include "engine/codec/compress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

#include "tests/support/test_util.h"

namespace snap::engine::codec {
namespace {

// Log-like lines: compressible, but not trivially.
Buffer TextLike(size_t size, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  static const char* kWords[] = {"INSERT", "INTO",   "products",   "VALUES", "(",     ")", "NULL",
                                 "'red'",  "'blue'", "2026-11-20", "sku",    "price", ",", ";\n"};
  std::string s;
  while (s.size() < size) {
    s += kWords[rng() % std::size(kWords)];
    s += std::to_string(rng() % 1000);
    s += ' ';
  }
  s.resize(size);
  return ToBuffer(s);
}

Buffer Random(size_t size, uint32_t seed = 2) {
  std::mt19937_64 rng(seed);
  Buffer b(size);
  for (auto& x : b) x = std::byte(rng());
  return b;
}

TEST(Compress, RoundTripsTextLikeData) {
  Buffer raw = TextLike(256 * 1024);
  Buffer z;
  ASSERT_TRUE(Compress(raw, kDefaultZstdLevel, &z));
  EXPECT_LT(z.size(), raw.size() / 2);
  Result<Buffer> back = Decompress(z, raw.size());
  ASSERT_OK(back);
  EXPECT_EQ(*back, raw);
}

TEST(Compress, ReturnsFalseForIncompressibleData) {
  Buffer z;
  EXPECT_FALSE(Compress(Random(64 * 1024), kDefaultZstdLevel, &z));
}

// A large chunk is tried in samples first: media is stored raw without a
// whole pass, but a chunk with a compressible stretch is still compressed.
TEST(Compress, LargeIncompressibleChunkIsStoredRaw) {
  Buffer out;
  EXPECT_FALSE(Compress(Random(1u << 20), kDefaultZstdLevel, &out));
}

TEST(Compress, LargeChunkWithOneCompressibleEighthIsCompressed) {
  Buffer in = Random(1u << 20);
  Buffer text = TextLike(160u << 10);
  std::copy(text.begin(), text.end(), in.begin() + (480u << 10));
  Buffer out;
  ASSERT_TRUE(Compress(in, kDefaultZstdLevel, &out));
  EXPECT_LT(out.size(), in.size() - (64u << 10));
  auto back = Decompress(out, in.size());
  ASSERT_OK(back);
  EXPECT_EQ(*back, in);
}

TEST(Compress, LargeTextChunkRoundTrips) {
  Buffer in = TextLike(3u << 20);
  Buffer out;
  ASSERT_TRUE(Compress(in, kDefaultZstdLevel, &out));
  EXPECT_LT(out.size(), in.size() / 2);
  auto back = Decompress(out, in.size());
  ASSERT_OK(back);
  EXPECT_EQ(*back, in);
}

TEST(Compress, ReturnsFalseForEmptyAndTinyInput) {
  Buffer z;
  EXPECT_FALSE(Compress({}, kDefaultZstdLevel, &z));
  EXPECT_FALSE(Compress(AsBytes("a"), kDefaultZstdLevel, &z));
}

TEST(Compress, CorruptedFrameIsCorruption) {
  Buffer raw = TextLike(64 * 1024);
  Buffer z;
  ASSERT_TRUE(Compress(raw, kDefaultZstdLevel, &z));
  // Damage the block data, not the header, so decoding itself must notice
  // (or produce a size mismatch).
  for (size_t i = z.size() / 2; i < z.size() / 2 + 16; ++i) z[i] ^= std::byte{0x5a};
  Result<Buffer> back = Decompress(z, raw.size());
  if (back.ok()) {
    EXPECT_NE(*back, raw) << "corruption went unnoticed and unchanged";
  } else {
    EXPECT_TRUE(back.status().IsCorruption()) << back.status().ToString();
  }
}

TEST(Compress, GarbageIsCorruption) {
  Buffer junk = ToBuffer("definitely not a zstd frame");
  Result<Buffer> back = Decompress(junk, 100);
  ASSERT_FALSE(back.ok());
  EXPECT_TRUE(back.status().IsCorruption());
}

TEST(Compress, TruncatedFrameIsCorruption) {
  Buffer raw = TextLike(64 * 1024);
  Buffer z;
  ASSERT_TRUE(Compress(raw, kDefaultZstdLevel, &z));
  z.resize(z.size() - 3);
  Result<Buffer> back = Decompress(z, raw.size());
  ASSERT_FALSE(back.ok());
  EXPECT_TRUE(back.status().IsCorruption());
}

TEST(Compress, TrailingBytesAreCorruption) {
  Buffer raw = TextLike(4096);
  Buffer z;
  ASSERT_TRUE(Compress(raw, kDefaultZstdLevel, &z));
  z.push_back(std::byte{0});
  EXPECT_TRUE(Decompress(z, raw.size()).status().IsCorruption());
}

TEST(Compress, WrongRawSizeIsCorruption) {
  Buffer raw = TextLike(64 * 1024);
  Buffer z;
  ASSERT_TRUE(Compress(raw, kDefaultZstdLevel, &z));
  EXPECT_TRUE(Decompress(z, raw.size() - 1).status().IsCorruption());
  EXPECT_TRUE(Decompress(z, raw.size() + 1).status().IsCorruption());
}

TEST(Compress, RawSizeAbove64MiBIsRejectedBeforeAllocating) {
  Buffer z;
  ASSERT_TRUE(Compress(TextLike(4096), kDefaultZstdLevel, &z));
  Result<Buffer> back = Decompress(z, (size_t{64} << 20) + 1);
  ASSERT_FALSE(back.ok());
  EXPECT_TRUE(back.status().IsCorruption());
}

TEST(Compress, ContextIsReusedCleanlyAcrossPlainAndDelta) {
  Buffer base = TextLike(128 * 1024, 7);
  Buffer raw = TextLike(128 * 1024, 8);
  Buffer d, z;
  ASSERT_TRUE(CompressDelta(raw, base, kDefaultZstdLevel, &d));
  // A plain frame after a delta one must not depend on the old prefix.
  ASSERT_TRUE(Compress(raw, kDefaultZstdLevel, &z));
  Result<Buffer> back = Decompress(z, raw.size());
  ASSERT_OK(back);
  EXPECT_EQ(*back, raw);
}

Buffer Modified(const Buffer& base) {
  Buffer b = base;
  std::mt19937 rng(9);
  // Scattered row updates: a few bytes every ~20 KiB.
  for (size_t at = 1000; at + 8 < b.size(); at += 20000 + rng() % 1000) {
    for (size_t i = 0; i < 8; ++i) b[at + i] = std::byte(rng());
  }
  return b;
}

TEST(CompressDelta, RoundTrips) {
  Buffer base = TextLike(1 << 20, 3);
  Buffer raw = Modified(base);
  Buffer d;
  ASSERT_TRUE(CompressDelta(raw, base, kDefaultZstdLevel, &d));
  Result<Buffer> back = DecompressDelta(d, base, raw.size());
  ASSERT_OK(back);
  EXPECT_EQ(*back, raw);
}

TEST(CompressDelta, IsMuchSmallerThanPlainForASlightlyModifiedBase) {
  Buffer base = TextLike(1 << 20, 4);
  Buffer raw = Modified(base);
  Buffer plain, delta;
  ASSERT_TRUE(Compress(raw, kDefaultZstdLevel, &plain));
  ASSERT_TRUE(CompressDelta(raw, base, kDefaultZstdLevel, &delta));
  EXPECT_LT(delta.size() * 10, plain.size())
      << "delta " << delta.size() << " vs plain " << plain.size();
}

TEST(CompressDelta, IncompressibleDataAgainstAnEqualBaseIsTiny) {
  Buffer base = Random(1 << 20, 5);
  Buffer raw = base;
  Buffer d;
  ASSERT_TRUE(CompressDelta(raw, base, kDefaultZstdLevel, &d));
  EXPECT_LT(d.size(), 1024u);
  Result<Buffer> back = DecompressDelta(d, base, raw.size());
  ASSERT_OK(back);
  EXPECT_EQ(*back, raw);
}

TEST(CompressDelta, WorksWhenBaseAndInputShareMemory) {
  // zstd ignores a prefix overlapping the input unless we copy it.
  Buffer data = Random(1 << 20, 6);
  ByteSpan base = ByteSpan(data).first(600 << 10);
  ByteSpan in = ByteSpan(data).subspan(100 << 10, 500 << 10);
  Buffer d;
  ASSERT_TRUE(CompressDelta(in, base, kDefaultZstdLevel, &d));
  EXPECT_LT(d.size(), 1024u);
  Result<Buffer> back = DecompressDelta(d, base, in.size());
  ASSERT_OK(back);
  EXPECT_TRUE(std::equal(back->begin(), back->end(), in.begin(), in.end()));
}

TEST(CompressDelta, WrongBaseIsCorruptionOrDifferentBytes) {
  Buffer base = TextLike(64 * 1024, 5);
  Buffer raw = Modified(base);
  Buffer d;
  ASSERT_TRUE(CompressDelta(raw, base, kDefaultZstdLevel, &d));
  Buffer other = TextLike(64 * 1024, 6);
  Result<Buffer> back = DecompressDelta(d, other, raw.size());
  if (back.ok()) {
    EXPECT_NE(*back, raw);
  } else {
    EXPECT_TRUE(back.status().IsCorruption());
  }
}

TEST(CompressDelta, WrongRawSizeIsCorruption) {
  Buffer base = TextLike(64 * 1024, 5);
  Buffer raw = Modified(base);
  Buffer d;
  ASSERT_TRUE(CompressDelta(raw, base, kDefaultZstdLevel, &d));
  EXPECT_TRUE(DecompressDelta(d, base, raw.size() + 1).status().IsCorruption());
}

}  // namespace
}  // namespace snap::engine::codec

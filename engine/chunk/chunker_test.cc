#include "engine/chunk/chunker.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <set>
#include <vector>

#include "engine/codec/checksum.h"
#include "tests/support/test_util.h"

namespace snap::engine::chunk {
namespace {

// Small bounds keep the tests fast while giving hundreds of chunks.
constexpr ChunkerParams kParams{.min_size = 2048, .avg_size = 8192, .max_size = 65536};

// SplitMix64 bytes: random enough, and reproducible by any reference
// implementation (FORMAT.md's worked example uses the same generator).
Buffer SplitMix(size_t n, uint64_t seed) {
  Buffer out;
  out.reserve(n + 8);
  uint64_t x = seed;
  while (out.size() < n) {
    x += 0x9e3779b97f4a7c15;
    uint64_t z = x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    z ^= z >> 31;
    for (int i = 0; i < 8; ++i) out.push_back(std::byte(z >> (8 * i)));
  }
  out.resize(n);
  return out;
}

Buffer Seed(uint8_t first) {
  Buffer s(32);
  for (size_t i = 0; i < s.size(); ++i) s[i] = std::byte(first + i);
  return s;
}

// Chunks `data` held entirely in memory.
std::vector<size_t> ChunkWhole(const Chunker& c, ByteSpan data) {
  std::vector<size_t> lengths;
  for (size_t off = 0; off < data.size();) {
    size_t n = c.NextBoundary(data.subspan(off), true);
    EXPECT_GT(n, 0u);
    if (n == 0) break;
    lengths.push_back(n);
    off += n;
  }
  return lengths;
}

// A caller that keeps a buffer, appends reads of `next_read()` bytes, and
// asks for a boundary after each read, as a pipe reader would.
std::vector<size_t> ChunkStream(const Chunker& c, ByteSpan data,
                                const std::function<size_t()>& next_read) {
  std::vector<size_t> lengths;
  Buffer buf;
  size_t pos = 0;
  bool eof = data.empty();
  for (;;) {
    size_t n = c.NextBoundary(buf, eof);
    if (n > 0) {
      lengths.push_back(n);
      buf.erase(buf.begin(), buf.begin() + static_cast<ptrdiff_t>(n));
      continue;
    }
    if (eof) break;
    size_t r = std::min(std::max<size_t>(next_read(), 1), data.size() - pos);
    Append(&buf, data.subspan(pos, r));
    pos += r;
    eof = pos == data.size();
  }
  return lengths;
}

std::multiset<uint64_t> ChunkDigests(ByteSpan data, const std::vector<size_t>& lengths) {
  std::multiset<uint64_t> out;
  size_t off = 0;
  for (size_t n : lengths) {
    out.insert(codec::Xxh3(data.subspan(off, n)));
    off += n;
  }
  return out;
}

class ChunkerTest : public ::testing::Test {
 protected:
  ChunkerTest() : chunker_(kParams, MakeGearTable(Seed(0))) {}
  Chunker chunker_;
};

TEST(ChunkerParams, DefaultsAreValid) { ASSERT_OK(ChunkerParams{}.Validate()); }

TEST(ChunkerParams, RejectsBoundsOutOfOrderOrOutOfRange) {
  const ChunkerParams bad[] = {
      {.min_size = 32, .avg_size = 128, .max_size = 1024},       // min < 64
      {.min_size = 4096, .avg_size = 4096, .max_size = 65536},   // min == avg
      {.min_size = 1024, .avg_size = 65536, .max_size = 65536},  // avg == max
      {.min_size = 1024, .avg_size = 3000, .max_size = 65536},   // avg not 2^k
      {.min_size = 1 << 20, .avg_size = 1 << 22, .max_size = (64 << 20) + 1},
  };
  for (const ChunkerParams& p : bad) {
    Status s = p.Validate();
    EXPECT_TRUE(s.IsInvalidArgument()) << p.min_size << "/" << p.avg_size << "/" << p.max_size;
  }
  ASSERT_OK((ChunkerParams{.min_size = 64, .avg_size = 128, .max_size = 64 << 20}.Validate()));
}

TEST(MakeGearTable, MatchesHmacDefinition) {
  // HMAC-SHA-256(32 zero bytes, "snapctl-gear-v1" | LE32(block)), 8 bytes LE each.
  GearTable t = MakeGearTable(Buffer(32));
  EXPECT_EQ(t[0], 0xf22449f3d0503b12u);
  EXPECT_EQ(t[1], 0xc9e31568e96c3e3du);
  EXPECT_EQ(t[3], 0xe3fa44447f146a6cu);
  EXPECT_EQ(t[255], 0x9f8ee8fec102024au);
}

TEST(MakeGearTable, IsDeterministicAndSeedDependent) {
  EXPECT_EQ(MakeGearTable(Seed(1)), MakeGearTable(Seed(1)));
  EXPECT_NE(MakeGearTable(Seed(1)), MakeGearTable(Seed(2)));
}

TEST_F(ChunkerTest, BoundariesMatchTheReferenceImplementation) {
  // From a direct transcription of FORMAT.md "Chunker" (hash from offset 0).
  Buffer data = SplitMix(1 << 20, 42);
  std::vector<size_t> got = ChunkWhole(chunker_, data);
  ASSERT_EQ(got.size(), 107u);
  const std::vector<size_t> want = {10623, 13355, 4839, 10796, 9182, 9421,
                                    14207, 10997, 8350, 10884, 8314, 8930};
  EXPECT_EQ(std::vector<size_t>(got.begin(), got.begin() + 12), want);
}

TEST_F(ChunkerTest, EveryChunkButTheLastIsWithinMinAndMax) {
  Buffer data = SplitMix(4 << 20, 1);
  std::vector<size_t> lengths = ChunkWhole(chunker_, data);
  ASSERT_GT(lengths.size(), 100u);
  for (size_t i = 0; i + 1 < lengths.size(); ++i) {
    EXPECT_GE(lengths[i], kParams.min_size) << i;
    EXPECT_LE(lengths[i], kParams.max_size) << i;
  }
  EXPECT_LE(lengths.back(), kParams.max_size);
}

TEST_F(ChunkerTest, LowEntropyInputIsCutAtMax) {
  Buffer zeros(3 * kParams.max_size + 100);
  std::vector<size_t> lengths = ChunkWhole(chunker_, zeros);
  for (size_t i = 0; i + 1 < lengths.size(); ++i) {
    EXPECT_GE(lengths[i], kParams.min_size);
    EXPECT_LE(lengths[i], kParams.max_size);
  }
}

TEST_F(ChunkerTest, BoundariesDoNotDependOnReadBufferSizes) {
  Buffer data = SplitMix(2 << 20, 3);
  const std::vector<size_t> want = ChunkWhole(chunker_, data);
  std::mt19937 rng(4);
  for (size_t max_read : {size_t{300}, size_t{5000}, size_t{70000}, size_t{1} << 20}) {
    std::vector<size_t> got = ChunkStream(chunker_, data, [&] { return 1 + rng() % max_read; });
    EXPECT_EQ(got, want) << "reads up to " << max_read;
  }
}

TEST_F(ChunkerTest, AskForMoreInputUntilACutIsCertain) {
  Buffer data = SplitMix(kParams.max_size * 2, 5);
  size_t first = chunker_.NextBoundary(data, false);
  ASSERT_GT(first, 0u);
  EXPECT_EQ(chunker_.NextBoundary(ByteSpan(data).first(first - 1), false), 0u);
  EXPECT_EQ(chunker_.NextBoundary(ByteSpan(data).first(first), false), first);
  EXPECT_EQ(chunker_.NextBoundary(ByteSpan(data).first(first - 1), true), first - 1);
  EXPECT_EQ(chunker_.NextBoundary(ByteSpan(data).first(10), false), 0u);
  EXPECT_EQ(chunker_.NextBoundary(ByteSpan(data).first(10), true), 10u);
  EXPECT_EQ(chunker_.NextBoundary({}, true), 0u);
}

TEST_F(ChunkerTest, DifferentSeedsGiveDifferentBoundaries) {
  Buffer data = SplitMix(1 << 20, 6);
  Chunker other(kParams, MakeGearTable(Seed(100)));
  std::vector<size_t> a = ChunkWhole(chunker_, data);
  std::vector<size_t> b = ChunkWhole(other, data);
  std::set<size_t> cuts_a, cuts_b;
  for (size_t off = 0, i = 0; i < a.size(); ++i) cuts_a.insert(off += a[i]);
  for (size_t off = 0, i = 0; i < b.size(); ++i) cuts_b.insert(off += b[i]);
  size_t shared = 0;
  for (size_t c : cuts_a) shared += cuts_b.count(c);
  // Only the end of the data should be common (plus rare coincidences).
  EXPECT_LT(shared, cuts_a.size() / 10) << shared << " of " << cuts_a.size();
}

TEST_F(ChunkerTest, InsertingBytesNearTheStartChangesOnlyAFewChunks) {
  Buffer data = SplitMix(4 << 20, 7);
  Buffer edited = data;
  Buffer insert = SplitMix(100, 8);
  edited.insert(edited.begin() + 5000, insert.begin(), insert.end());

  std::multiset<uint64_t> before = ChunkDigests(data, ChunkWhole(chunker_, data));
  std::vector<size_t> after_lengths = ChunkWhole(chunker_, edited);
  std::multiset<uint64_t> after = ChunkDigests(edited, after_lengths);
  size_t new_chunks = 0;
  for (uint64_t d : after) new_chunks += before.count(d) == 0;
  EXPECT_LE(new_chunks, 3u) << "of " << after_lengths.size();
}

TEST_F(ChunkerTest, AverageChunkSizeIsNearTheTarget) {
  Buffer data = SplitMix(8 << 20, 9);
  std::vector<size_t> lengths = ChunkWhole(chunker_, data);
  double mean = static_cast<double>(data.size()) / static_cast<double>(lengths.size());
  EXPECT_GT(mean, 0.5 * kParams.avg_size);
  EXPECT_LT(mean, 2.0 * kParams.avg_size);
}

}  // namespace
}  // namespace snap::engine::chunk

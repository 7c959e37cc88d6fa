// Chunks written through a PackSink: packs stay within their buffer,
// chunks read back through one reused ChunkScratch are exactly their bytes
// whatever the sizes of the reads before (the scratch buffers only grow),
// and trees are stored with their refs as zstd prefix.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "engine/capture/encode_pool.h"
#include "engine/codec/compress.h"
#include "engine/codec/crypto.h"
#include "engine/pack/bundle_table.h"
#include "engine/repo/pack_sink.h"
#include "engine/repository.h"
#include "engine/snapshot/tree.h"
#include "tests/support/test_util.h"

namespace snap::engine {
namespace {

Buffer Random(size_t n) {
  Buffer b(n);
  codec::RandomBytes(b);
  return b;
}

Buffer Text(size_t n, char seed) {
  Buffer b;
  for (size_t i = 0; b.size() < n; ++i) Append(&b, AsBytes("line " + std::to_string(i * seed) + "\n"));
  b.resize(n);
  return b;
}

class ChunkReadsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    InitOptions o;
    o.encrypted = GetParam();
    o.key_file = tmp_.Sub("key");
    o.config.pack_target_size = 1u << 20;  // several packs
    ASSERT_OK(Repository::Init(tmp_.Sub("repo"), o));
    Credentials c;
    if (o.encrypted) c.key_file = o.key_file;
    Result<std::unique_ptr<Repository>> r = Repository::Open(tmp_.Sub("repo"), c);
    ASSERT_OK(r);
    repo_ = std::move(*r);
  }

  // Stores `chunks` through one PackSink and flushes it: their IDs; the
  // number of packs written in *packs.
  std::vector<ChunkId> PutAll(const std::vector<Buffer>& chunks, uint64_t* packs = nullptr) {
    repo::PackSink sink(repo_.get());
    std::vector<ChunkId> ids;
    for (const Buffer& c : chunks) {
      Result<ChunkId> id = sink.Put(pack::EntryKind::kData, c);
      EXPECT_OK(id);
      ids.push_back(id.ok() ? *id : ChunkId{});
    }
    EXPECT_OK(sink.Flush());
    if (packs) *packs = sink.stats().packs;
    return ids;
  }

  // Stores `plain` as a slice of `of` at `offset`, whatever `of` holds
  // there: its ID.
  ChunkId PutSlice(const Buffer& plain, const ChunkId& of, uint32_t offset) {
    pack::EntryHeader h;
    h.kind = pack::EntryKind::kData;
    h.id = repo_->Hash(plain);
    h.flags = pack::kFlagSlice;
    h.raw_length = static_cast<uint32_t>(plain.size());
    h.refs = {of};
    Buffer payload;
    pack::EncodeSlicePayload(offset, &payload);
    repo::PackSink sink(repo_.get());
    EXPECT_OK(sink.Add(h, payload));
    EXPECT_OK(sink.Flush());
    return h.id;
  }

  // Stores `tree` through a sink and flushes it: its plaintext, its ID and
  // the frame it was stored in.
  struct StoredTree {
    Buffer plain;
    ChunkId id;
    Buffer frame;
  };
  StoredTree PutTree(const snapshot::Tree& tree) {
    StoredTree t;
    tree.EncodeTo(&t.plain);
    repo::PackSink sink(repo_.get());
    Result<ChunkId> id = sink.Put(pack::EntryKind::kTree, t.plain, tree.Refs());
    EXPECT_OK(id);
    EXPECT_OK(sink.Flush());
    if (!id.ok()) return t;
    t.id = *id;
    Result<Buffer> frame = repo_->ReadFrame(t.id);
    EXPECT_OK(frame);
    if (frame.ok()) t.frame = std::move(*frame);
    return t;
  }

  test::TempDir tmp_;
  std::unique_ptr<Repository> repo_;
};

TEST_P(ChunkReadsTest, OneScratchReadsChunksOfEverySizeExactly) {
  // Large then small then large again, compressible and not: a read that
  // followed a larger one must not return its tail, nor a stale prefix.
  std::vector<Buffer> chunks = {Random(900 * 1024), Text(300 * 1024, 3), Random(10),
                                Text(5, 7),          Random(64 * 1024),  Text(2 << 20, 11),
                                Random(1),           Random(1500 * 1024)};
  uint64_t packs = 0;
  std::vector<ChunkId> ids = PutAll(chunks, &packs);
  EXPECT_GE(packs, 2u);  // reads cross packs
  ChunkScratch scratch;
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < chunks.size(); ++i) {
      SCOPED_TRACE(i);
      Result<ByteSpan> got = repo_->ReadChunk(ids[i], &scratch);
      ASSERT_OK(got);
      ASSERT_EQ(Buffer(got->begin(), got->end()), chunks[i]);
      Result<Buffer> owned = repo_->ReadChunk(ids[i]);
      ASSERT_OK(owned);
      EXPECT_EQ(*owned, chunks[i]);
    }
    std::reverse(chunks.begin(), chunks.end());
    std::reverse(ids.begin(), ids.end());
  }
}

TEST_P(ChunkReadsTest, ADamagedFrameReadThroughAScratchIsCorruption) {
  Buffer plain = Text(100 * 1024, 5);
  ChunkId id = PutAll({plain})[0];
  ChunkScratch scratch;
  ASSERT_OK(repo_->ReadChunk(id, &scratch));  // the buffers hold the good bytes now
  Result<std::optional<index::ChunkLocation>> loc = repo_->chunk_index().Locate(id);
  ASSERT_OK(loc);
  ASSERT_TRUE(*loc);
  std::string key = Repository::PackKey((*loc)->pack);
  Result<Buffer> pack = repo_->store().Get(key);
  ASSERT_OK(pack);
  (*pack)[(*loc)->entry.offset + (*loc)->entry.length - 3] ^= std::byte{0x20};
  ASSERT_OK(repo_->store().Replace(key, *pack));
  Result<ByteSpan> got = repo_->ReadChunk(id, &scratch);
  EXPECT_TRUE(got.status().IsCorruption()) << got.status().ToString();
}

TEST_P(ChunkReadsTest, PacksCloseBeforeAnEntryWouldOutgrowTheirBuffer) {
  // Target 1 MiB, buffers of target + 1 MiB: 900 KiB then 1.5 MiB must
  // close the first pack before the second entry, not grow it to 2.4 MiB.
  std::vector<Buffer> chunks = {Random(900 * 1024), Random(1536 * 1024), Random(300 * 1024),
                                Random(700 * 1024), Random(1900 * 1024), Random(40 * 1024)};
  std::vector<ChunkId> ids = PutAll(chunks);
  int packs = 0;
  ASSERT_OK(repo_->store().List("packs/", [&](std::string_view key, uint64_t size) {
    ++packs;
    EXPECT_LE(size, uint64_t{2} << 20) << key;
    return Status::OK();
  }));
  EXPECT_GE(packs, 4);
  ChunkScratch scratch;
  for (size_t i = 0; i < chunks.size(); ++i) {
    Result<ByteSpan> got = repo_->ReadChunk(ids[i], &scratch);
    ASSERT_OK(got);
    EXPECT_EQ(Buffer(got->begin(), got->end()), chunks[i]) << i;
  }
}

// A tree of `files` files, one random content chunk each.
snapshot::Tree TreeOf(int files) {
  snapshot::Tree tree;
  for (int i = 0; i < files; ++i) {
    snapshot::Node n;
    n.name = "file-" + std::to_string(i) + ".txt";
    n.type = snapshot::NodeType::kFile;
    n.mode = 0644;
    n.mtime_ns = n.atime_ns = 1'700'000'000'000'000'000 + i;
    n.size = 1000 + i;
    ChunkId id;
    codec::RandomBytes(id.bytes);
    n.content = {id};
    tree.nodes.push_back(std::move(n));
  }
  tree.Sort();
  return tree;
}

TEST_P(ChunkReadsTest, TreesAreCompressedWithTheirRefsAsPrefix) {
  // Each content ID is in the tree's clear refs and again in its plaintext;
  // with the refs as zstd prefix the plaintext's copy costs a few bytes.
  snapshot::Tree tree = TreeOf(500);
  StoredTree t = PutTree(tree);
  const Buffer& plain = t.plain;
  Result<pack::DecodedFrame> f = pack::DecodeFrame(t.frame);
  ASSERT_OK(f);
  EXPECT_TRUE(f->header.flags & pack::kFlagRefsPrefix);
  EXPECT_EQ(f->header.refs, tree.Refs());
  Buffer alone;
  ASSERT_TRUE(codec::Compress(plain, repo_->config().zstd_level, &alone));
  EXPECT_LT(f->payload.size() + 500 * 24, alone.size());
  Result<Buffer> got = repo_->ReadChunk(t.id);
  ASSERT_OK(got);
  EXPECT_EQ(*got, plain);
  Result<snapshot::Tree> decoded = snapshot::Tree::Decode(*got);
  ASSERT_OK(decoded);
  EXPECT_EQ(decoded->nodes[499].content, tree.nodes[499].content);
}

TEST_P(ChunkReadsTest, ATreeFrameWithChangedRefsIsCorruption) {
  // Refs are in clear, outside the AEAD: a frame whose refs were swapped
  // (checksum recomputed) decodes to other bytes, which the ID check refuses.
  StoredTree t = PutTree(TreeOf(20));
  Result<pack::DecodedFrame> f = pack::DecodeFrame(t.frame);
  ASSERT_OK(f);
  pack::EntryHeader h = f->header;
  std::swap(h.refs[3], h.refs[7]);
  Buffer forged;
  pack::EncodeFrame(h, f->payload, &forged);
  Result<pack::DecodedFrame> g = pack::DecodeFrame(forged);
  ASSERT_OK(g);  // the frame itself is well formed
  Status s = repo_->DecodePayload(*g).status();
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
}

TEST_P(ChunkReadsTest, PacksWrittenInPiecesByConcurrentWritersAreNamedByTheirBytes) {
  // Packs of 16 MiB go to disk in 4 MiB pieces while they fill, by whichever
  // thread adds the piece: the pieces must land in order, and each pack
  // must be named by the SHA-256 of what ends up in the file.
  test::TempDir tmp;
  InitOptions o;
  o.encrypted = GetParam();
  o.key_file = tmp.Sub("key");
  o.config.pack_target_size = 16u << 20;
  ASSERT_OK(Repository::Init(tmp.Sub("repo"), o));
  Credentials c;
  if (o.encrypted) c.key_file = o.key_file;
  Result<std::unique_ptr<Repository>> repo = Repository::Open(tmp.Sub("repo"), c);
  ASSERT_OK(repo);

  constexpr int kThreads = 3, kPerThread = 60;
  std::vector<std::vector<Buffer>> chunks(kThreads);
  std::vector<std::vector<ChunkId>> ids(kThreads);
  {
    repo::PackSink sink(repo->get());
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          chunks[t].push_back(Random(100 * 1024 + (t * kPerThread + i) * 997));
          Result<ChunkId> id = sink.Put(pack::EntryKind::kData, chunks[t].back());
          EXPECT_OK(id);
          ids[t].push_back(id.ok() ? *id : ChunkId{});
        }
      });
    }
    for (std::thread& th : threads) th.join();
    ASSERT_OK(sink.Flush());
    EXPECT_GE(sink.stats().packs, 2u);  // ~29 MiB in packs of 16
  }
  int packs = 0;
  ASSERT_OK((*repo)->store().List("packs/", [&](std::string_view key, uint64_t) {
    ++packs;
    Result<Buffer> bytes = (*repo)->store().Get(key);
    EXPECT_OK(bytes);
    if (bytes.ok()) {
      EXPECT_EQ(Repository::PackKey(codec::Sha256(*bytes)), key);
    }
    return Status::OK();
  }));
  EXPECT_GE(packs, 2);
  ChunkScratch scratch;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      Result<ByteSpan> got = (*repo)->ReadChunk(ids[t][i], &scratch);
      ASSERT_OK(got);
      EXPECT_TRUE(Buffer(got->begin(), got->end()) == chunks[t][i]) << t << " " << i;
    }
  }
}

// Through an encode pool, as a capture stores them: chunks under 64 KiB
// become slices of ~256 KiB bundles, larger ones and empty ones do not,
// and every one reads back exactly, alone or one after another.
TEST_P(ChunkReadsTest, SmallChunksAreStoredAsSlicesOfBundlesAndReadBackExactly) {
  std::vector<Buffer> chunks;
  for (int i = 0; i < 300; ++i)
    chunks.push_back(i % 3 ? Text(100 + (i * 397) % 9000, static_cast<char>(i)) : Random(1 + i * 13));
  chunks.push_back(Text(100 * 1024, 1));                     // not small
  chunks.push_back(Text(capture::EncodePool::kMaxBundleMember, 2));  // not small either
  std::vector<ChunkId> ids;
  uint64_t raw = 0;
  std::atomic<uint64_t> stored{0};
  {
    repo::PackSink sink(repo_.get());
    capture::EncodePool pool(repo_.get(), &sink, 2, 1u << 20);
    for (const Buffer& c : chunks) {
      pack::EntryHeader h;
      h.kind = pack::EntryKind::kData;
      h.id = repo_->Hash(c);
      ids.push_back(h.id);
      Result<bool> fresh = sink.Claim(h.id);
      ASSERT_OK(fresh);
      ASSERT_TRUE(*fresh);
      raw += c.size();
      ASSERT_OK(pool.Submit(h, c, {}, &stored));
    }
    ASSERT_OK(pool.Drain());
    ASSERT_OK(sink.Flush());
  }
  std::set<ChunkId> bundles;
  size_t alone = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    SCOPED_TRACE(i);
    Result<std::optional<index::ChunkLocation>> loc = repo_->chunk_index().Get(ids[i]);
    ASSERT_OK(loc);
    ASSERT_TRUE(*loc);
    bool small = chunks[i].size() < capture::EncodePool::kMaxBundleMember;
    const bool slice = (*loc)->entry.flags == pack::kFlagSlice;
    if (!small) {
      EXPECT_FALSE(slice);
    }
    // A bundle left with one member when the pool drains is stored as
    // that chunk: at most one per worker.
    if (small && !slice) alone++;
    if (slice) {
      Result<Buffer> frame = repo_->ReadFrame(ids[i]);
      ASSERT_OK(frame);
      Result<pack::DecodedFrame> f = pack::DecodeFrame(*frame);
      ASSERT_OK(f);
      ASSERT_EQ(f->header.refs.size(), 1u);
      bundles.insert(f->header.refs[0]);
    }
    Result<Buffer> got = repo_->ReadChunk(ids[i]);
    ASSERT_OK(got);
    EXPECT_EQ(*got, chunks[i]);
  }
  // ~1.4 MB of small chunks in 256 KiB bundles, one per worker left open
  // at the end: a handful, not one per chunk.
  EXPECT_GE(bundles.size(), 5u);
  EXPECT_LE(bundles.size(), 8u);
  EXPECT_LE(alone, 2u);
  for (const ChunkId& b : bundles) {
    Result<std::optional<index::ChunkLocation>> loc = repo_->chunk_index().Get(b);
    ASSERT_OK(loc);
    ASSERT_TRUE(*loc) << "bundle " << b.ShortHex() << " is not indexed";
    EXPECT_FALSE(pack::HasBaseRefs((*loc)->entry.flags));
    // Named by its members' IDs, which its table lets a reader recompute.
    EXPECT_TRUE((*loc)->entry.flags & pack::kFlagBundle);
    Result<Buffer> frame = repo_->ReadFrame(b);
    ASSERT_OK(frame);
    Result<pack::DecodedFrame> f = pack::DecodeFrame(*frame);
    ASSERT_OK(f);
    Result<Buffer> plain = repo_->DecodePayload(*f);
    ASSERT_OK(plain);
    Result<pack::BundleLayout> layout = pack::ParseBundleTable(*plain);
    ASSERT_OK(layout);
    std::vector<ChunkId> members;
    size_t offset = 0;
    for (uint32_t n : layout->lengths) {
      members.push_back(repo_->Hash(ByteSpan(*plain).subspan(offset, n)));
      EXPECT_NE(std::find(ids.begin(), ids.end(), members.back()), ids.end());
      offset += n;
    }
    EXPECT_EQ(repo_->BundleId(members), b);
  }
  // Stored bytes are attributed: some, and less than the text compresses to
  // plus the random chunks.
  EXPECT_GT(stored.load(), 0u);
  EXPECT_LT(stored.load(), raw);
  // Read again in reverse through one scratch: a bundle already decoded
  // or not, the same bytes.
  ChunkScratch scratch;
  for (size_t i = chunks.size(); i-- > 0;) {
    Result<ByteSpan> got = repo_->ReadChunk(ids[i], &scratch);
    ASSERT_OK(got);
    ASSERT_EQ(Buffer(got->begin(), got->end()), chunks[i]) << i;
  }
}

// Slices are untrusted like any frame: an offset beyond the bundle, one
// that cuts the wrong bytes, a slice of a chunk too large to be a bundle
// and a slice of a slice are Corruption.
TEST_P(ChunkReadsTest, AHostileSliceIsCorruption) {
  Buffer bundle = Text(20000, 3);
  Buffer member(bundle.begin() + 1000, bundle.begin() + 3000);
  Buffer other = Text(500, 9);
  ChunkId bundle_id = PutAll({bundle})[0];
  ChunkId good = PutSlice(member, bundle_id, 1000);
  Result<Buffer> got = repo_->ReadChunk(good);
  ASSERT_OK(got);
  EXPECT_EQ(*got, member);

  ChunkId beyond = PutSlice(other, bundle_id, 19800);
  got = repo_->ReadChunk(beyond);
  EXPECT_TRUE(got.status().IsCorruption());
  EXPECT_NE(got.status().message().find("beyond its bundle's 20000 bytes"), std::string::npos)
      << got.status().ToString();

  ChunkId wrong = PutSlice(other, bundle_id, 7);
  got = repo_->ReadChunk(wrong);
  EXPECT_TRUE(got.status().IsCorruption());
  EXPECT_NE(got.status().message().find("content does not match its ID"), std::string::npos)
      << got.status().ToString();

  Buffer huge = Text(pack::kMaxBundleLength + 1, 5);
  ChunkId huge_id = PutAll({huge})[0];
  got = repo_->ReadChunk(PutSlice(Buffer(huge.begin(), huge.begin() + 100), huge_id, 0));
  EXPECT_TRUE(got.status().IsCorruption());
  EXPECT_NE(got.status().message().find("too large for a bundle"), std::string::npos)
      << got.status().ToString();

  ChunkId nested = PutSlice(Buffer(member.begin(), member.begin() + 10), good, 0);
  got = repo_->ReadChunk(nested);
  EXPECT_TRUE(got.status().IsCorruption());
  EXPECT_NE(got.status().message().find("is not a bundle (a slice itself)"), std::string::npos)
      << got.status().ToString();
}

// A bundle's ID is checked through its member table: members that are not
// the ones it was named by, a malformed table, or a slice cut from the
// table are Corruption, and no chunk's content hashes to a bundle's ID.
TEST_P(ChunkReadsTest, ABundleIsCheckedAgainstItsMemberTable) {
  const Buffer a = Text(3000, 1), b = Text(5000, 2), c = Text(5000, 3);
  auto store_bundle = [&](Buffer plain, const ChunkId& id) {
    pack::EntryHeader h;
    h.kind = pack::EntryKind::kData;
    h.id = id;
    Buffer scratch;
    ByteSpan payload = repo_->EncodePayload(plain, &h, &scratch);
    h.flags |= pack::kFlagBundle;
    repo::PackSink sink(repo_.get());
    EXPECT_OK(sink.Add(h, payload));
    EXPECT_OK(sink.Flush());
  };
  auto with_table = [](std::vector<Buffer> members) {
    Buffer plain;
    std::vector<uint32_t> lengths;
    for (const Buffer& m : members) {
      plain.insert(plain.end(), m.begin(), m.end());
      lengths.push_back(static_cast<uint32_t>(m.size()));
    }
    pack::AppendBundleTable(lengths, &plain);
    return plain;
  };
  auto read_frame = [&](const ChunkId& id) {
    Result<Buffer> frame = repo_->ReadFrame(id);
    EXPECT_OK(frame);
    Result<pack::DecodedFrame> f = pack::DecodeFrame(*frame);
    EXPECT_OK(f);
    return repo_->DecodePayload(*f).status();
  };
  const ChunkId ia = repo_->Hash(a), ib = repo_->Hash(b), ic = repo_->Hash(c);

  const ChunkId good = repo_->BundleId(std::vector<ChunkId>{ia, ib});
  EXPECT_NE(good, repo_->Hash(with_table({a, b})));
  EXPECT_NE(good, repo_->BundleId(std::vector<ChunkId>{ib, ia}));
  store_bundle(with_table({a, b}), good);
  EXPECT_OK(read_frame(good));
  Result<Buffer> got = repo_->ReadChunk(PutSlice(b, good, 3000));
  ASSERT_OK(got);
  EXPECT_EQ(*got, b);
  // Only the members are the bundle's bytes: its table is beyond them.
  got = repo_->ReadChunk(PutSlice(Buffer(2, std::byte{5}), good, 7999));
  EXPECT_TRUE(got.status().IsCorruption());
  EXPECT_NE(got.status().message().find("beyond its bundle's 8000 bytes"), std::string::npos)
      << got.status().ToString();

  // Stored under the ID of other members: the frame fails, and so does
  // any slice that claims bytes it does not hold.
  const ChunkId forged = repo_->BundleId(std::vector<ChunkId>{ia, ic});
  store_bundle(with_table({a, b}), forged);
  Status s = read_frame(forged);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("content does not match its ID"), std::string::npos) << s.ToString();
  got = repo_->ReadChunk(PutSlice(c, forged, 3000));
  EXPECT_TRUE(got.status().IsCorruption());
  EXPECT_NE(got.status().message().find("content does not match its ID"), std::string::npos)
      << got.status().ToString();

  // A table that does not add up.
  Buffer bad = with_table({a, b});
  bad[bad.size() - 5] = std::byte{0x01};  // the last length, 5000, becomes 136
  const ChunkId bad_id = repo_->BundleId(std::vector<ChunkId>{ia, ic, ib});
  store_bundle(bad, bad_id);
  s = read_frame(bad_id);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_NE(s.message().find("bundle table"), std::string::npos) << s.ToString();
  got = repo_->ReadChunk(PutSlice(a, bad_id, 0));
  EXPECT_TRUE(got.status().IsCorruption());
  EXPECT_NE(got.status().message().find("bundle table"), std::string::npos) << got.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(EncryptedAndClear, ChunkReadsTest, ::testing::Bool());

}  // namespace
}  // namespace snap::engine

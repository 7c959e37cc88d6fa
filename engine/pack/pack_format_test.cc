#include "engine/pack/pack_format.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/codec/checksum.h"
#include "engine/codec/varint.h"
#include "tests/support/test_util.h"

namespace snap::engine::pack {
namespace {

namespace fs = std::filesystem;

ChunkId Id(uint8_t fill) {
  ChunkId id;
  id.bytes.fill(std::byte{fill});
  return id;
}

Buffer Payload(size_t n, uint8_t seed) {
  Buffer b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte(static_cast<uint8_t>(seed + i * 7));
  return b;
}

EntryHeader Header(EntryKind kind, uint8_t flags, uint8_t id, std::vector<ChunkId> refs = {},
                   uint32_t raw_length = 16) {
  EntryHeader h;
  h.kind = kind;
  h.flags = flags;
  h.raw_length = raw_length;
  h.id = Id(id);
  h.refs = std::move(refs);
  return h;
}

struct Sample {
  EntryHeader header;
  Buffer payload;
};

// Several entries of each kind, with and without refs and flags.
std::vector<Sample> Samples() {
  return {
      {Header(EntryKind::kData, 0, 1), Payload(16, 1)},
      {Header(EntryKind::kData, kFlagCompressed, 2, {}, 4096), Payload(40, 2)},
      {Header(EntryKind::kData, kFlagCompressed | kFlagDelta, 3, {Id(1)}, 4096), Payload(9, 3)},
      {Header(EntryKind::kData, kFlagSealed | kFlagCompressed, 4, {}, 100), Payload(60, 4)},
      {Header(EntryKind::kTree, 0, 5, {Id(1), Id(2), Id(3)}, 77), Payload(77, 5)},
      {Header(EntryKind::kTree, kFlagCompressed, 6, {Id(5)}, 300), Payload(50, 6)},
      {Header(EntryKind::kStream, 0, 7, {Id(1), Id(2)}, 64), Payload(64, 7)},
      {Header(EntryKind::kStream, kFlagSealed, 8, {}, 0), Payload(28, 8)},
  };
}

Buffer BuildPack(const std::vector<Sample>& samples) {
  PackWriter w;
  for (const Sample& s : samples) w.Add(s.header, s.payload);
  return w.Finish();
}

Buffer OneFrame(const EntryHeader& h, ByteSpan payload) {
  Buffer out;
  EncodeFrame(h, payload, &out);
  return out;
}

// Recomputes a frame's checksum after a test patched its header.
void Reseal(Buffer* frame) {
  size_t body = frame->size() - kFrameChecksumSize;
  uint64_t sum = codec::Xxh3(ByteSpan(*frame).first(body));
  for (size_t i = 0; i < kFrameChecksumSize; ++i) (*frame)[body + i] = std::byte(sum >> (8 * i));
}

// A footer + trailer whose checksum holds, from raw footer bytes.
Buffer Tail(const Buffer& footer) {
  Buffer out = footer;
  codec::Encoder e(&out);
  e.PutFixed32(static_cast<uint32_t>(footer.size()));
  e.PutFixed64(codec::Xxh3(footer));
  e.PutRaw(AsBytes({kPackEndMagic, sizeof kPackEndMagic}));
  return out;
}

Buffer FooterBytes(const std::vector<PackEntry>& entries) {
  Buffer f;
  codec::Encoder e(&f);
  e.PutVarint(entries.size());
  for (const PackEntry& x : entries) {
    e.PutId(x.id);
    e.PutU8(static_cast<uint8_t>(x.kind));
    e.PutU8(x.flags);
    e.PutVarint(x.offset);
    e.PutVarint(x.length);
    e.PutVarint(x.raw_length);
  }
  return f;
}

// Decodes a footer listing `entries` in a pack whose frame area ends at
// `frames_end`.
Result<std::vector<PackEntry>> DecodeEntries(const std::vector<PackEntry>& entries,
                                             uint64_t frames_end) {
  Buffer tail = Tail(FooterBytes(entries));
  return DecodeFooter(tail, frames_end + tail.size());
}

std::vector<PackEntry> SampleEntries(uint64_t* frames_end) {
  PackWriter w;
  for (const Sample& s : Samples()) w.Add(s.header, s.payload);
  *frames_end = w.size();
  return w.entries();
}

Result<std::vector<PackEntry>> DecodePackFooter(ByteSpan pack) {
  Result<uint32_t> fl = DecodeTrailer(pack);
  if (!fl.ok()) return fl.status();
  size_t tail = std::min<size_t>(pack.size(), size_t{*fl} + kTrailerSize);
  return DecodeFooter(pack.last(tail), pack.size());
}

bool Contains(const Status& s, std::string_view what) {
  return s.message().find(what) != std::string::npos;
}

// Runs ScanFrames, returning the entries it delivered.
std::vector<PackEntry> Scan(ByteSpan pack, Status* status) {
  std::vector<PackEntry> seen;
  *status = ScanFrames(pack, [&](const PackEntry& e, const DecodedFrame& f) {
    EXPECT_EQ(f.header.id, e.id);
    seen.push_back(e);
  });
  return seen;
}

// ---- round trip ----

TEST(PackWriter, StartsWithMagicAndVersion) {
  Buffer pack = PackWriter().Finish();
  ASSERT_GE(pack.size(), kPackHeaderSize);
  EXPECT_EQ(std::memcmp(pack.data(), "SNAPPACK\x01\0\0\0", kPackHeaderSize), 0);
  EXPECT_EQ(std::memcmp(pack.data() + pack.size() - 8, "SNAPPEND", 8), 0);
}

TEST(PackWriter, EmptyPackDecodesToNoEntries) {
  Buffer pack = PackWriter().Finish();
  EXPECT_EQ(pack.size(), kPackHeaderSize + 1 + kTrailerSize);
  Result<std::vector<PackEntry>> entries = DecodePackFooter(pack);
  ASSERT_OK(entries);
  EXPECT_TRUE(entries->empty());
}

TEST(PackFormat, RoundTripsEntriesOfEveryKindWithRefs) {
  std::vector<Sample> samples = Samples();
  PackWriter w;
  for (const Sample& s : samples) w.Add(s.header, s.payload);
  std::vector<PackEntry> written = w.entries();
  Buffer pack = w.Finish();

  Result<std::vector<PackEntry>> entries = DecodePackFooter(pack);
  ASSERT_OK(entries);
  ASSERT_EQ(*entries, written);
  for (size_t i = 0; i < samples.size(); ++i) {
    const PackEntry& e = (*entries)[i];
    Result<DecodedFrame> f = DecodeFrame(ByteSpan(pack).subspan(e.offset, e.length));
    ASSERT_OK(f);
    EXPECT_EQ(f->header.id, samples[i].header.id);
    EXPECT_EQ(f->header.kind, samples[i].header.kind);
    EXPECT_EQ(f->header.flags, samples[i].header.flags);
    EXPECT_EQ(f->header.raw_length, samples[i].header.raw_length);
    EXPECT_EQ(f->header.refs, samples[i].header.refs);
    EXPECT_TRUE(std::ranges::equal(f->payload, samples[i].payload));
    EXPECT_EQ(e.id, samples[i].header.id);
  }
}

TEST(PackFormat, FramesAreContiguousFromTheHeader) {
  uint64_t frames_end = 0;
  std::vector<PackEntry> entries = SampleEntries(&frames_end);
  uint64_t next = kPackHeaderSize;
  for (const PackEntry& e : entries) {
    EXPECT_EQ(e.offset, next);
    next += e.length;
  }
  EXPECT_EQ(next, frames_end);
}

// ---- frames ----

TEST(PackFormat, FrameSizeComesFromTheHeaderAlone) {
  Buffer frame = OneFrame(Header(EntryKind::kTree, 0, 9, {Id(1), Id(2)}), Payload(30, 0));
  Result<size_t> size = FrameSize(ByteSpan(frame).first(kFrameHeaderSize));
  ASSERT_OK(size);
  EXPECT_EQ(*size, frame.size());
  EXPECT_EQ(*size, kFrameHeaderSize + 2 * 32 + 30 + kFrameChecksumSize);
}

TEST(PackFormat, FrameSizeOfShortHeaderIsNotFound) {
  Buffer frame = OneFrame(Header(EntryKind::kData, 0, 9), Payload(16, 0));
  for (size_t n = 0; n < kFrameHeaderSize; ++n) {
    EXPECT_TRUE(FrameSize(ByteSpan(frame).first(n)).status().IsNotFound()) << n;
  }
}

TEST(PackFormat, RejectsFrameWithAnyFlippedByte) {
  Buffer frame = OneFrame(Header(EntryKind::kData, kFlagDelta, 9, {Id(3)}, 20), Payload(20, 0));
  for (size_t i = 0; i < frame.size(); ++i) {
    for (int mask : {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff}) {
      Buffer bad = frame;
      bad[i] ^= std::byte(mask);
      EXPECT_FALSE(DecodeFrame(bad).ok()) << "byte " << i << " mask " << mask;
    }
  }
}

TEST(PackFormat, RejectsFrameWithFlippedPayloadByte) {
  Buffer frame = OneFrame(Header(EntryKind::kData, 0, 9), Payload(16, 0));
  frame[kFrameHeaderSize + 3] ^= std::byte{0x10};
  Status s = DecodeFrame(frame).status();
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_EQ(s.message(), "pack frame: checksum mismatch");
}

TEST(PackFormat, RejectsTruncatedFrame) {
  Buffer frame = OneFrame(Header(EntryKind::kStream, 0, 9, {Id(1)}), Payload(16, 0));
  for (size_t n = 0; n < frame.size(); ++n) {
    Status s = DecodeFrame(ByteSpan(frame).first(n)).status();
    EXPECT_TRUE(s.IsCorruption()) << n << " " << s.ToString();
  }
}

TEST(PackFormat, RejectsFrameWithTrailingBytes) {
  Buffer frame = OneFrame(Header(EntryKind::kData, 0, 9), Payload(16, 0));
  frame.push_back(std::byte{0});
  EXPECT_TRUE(Contains(DecodeFrame(frame).status(), "1 trailing bytes"));
}

// Patches one header byte, reseals, and returns what DecodeFrame says.
Status DecodePatched(EntryHeader h, size_t at, uint8_t value) {
  Buffer frame = OneFrame(h, Payload(16, 0));
  frame[at] = std::byte{value};
  Reseal(&frame);
  Status from_size = FrameSize(frame).status();
  Status s = DecodeFrame(frame).status();
  EXPECT_EQ(from_size.message(), s.message());
  return s;
}

TEST(PackFormat, RejectsFrameOfUnknownKind) {
  EntryHeader h = Header(EntryKind::kData, 0, 9);
  EXPECT_EQ(DecodePatched(h, 0, 0).message(), "pack frame: unknown kind 0");
  EXPECT_EQ(DecodePatched(h, 0, 4).message(), "pack frame: unknown kind 4");
}

TEST(PackFormat, RejectsFrameWithUnknownFlagBits) {
  Status s = DecodePatched(Header(EntryKind::kData, 0, 9), 1, 0x41);
  EXPECT_EQ(s.message(), "pack frame: unknown flag bits 0x40");
}

TEST(PackFormat, RejectsFrameWithRawLengthAboveMax) {
  // raw_length's top byte sits at offset 11; 0x05 << 24 exceeds 64 MiB.
  Status s = DecodePatched(Header(EntryKind::kData, 0, 9), 11, 0x05);
  EXPECT_TRUE(Contains(s, "raw_length 83886096 exceeds 67108864")) << s.ToString();
}

TEST(PackFormat, RejectsFrameWithImplausibleStoredLength) {
  Status s = DecodePatched(Header(EntryKind::kData, 0, 9), 15, 0x80);
  EXPECT_TRUE(Contains(s, "stored_length")) << s.ToString();
}

TEST(PackFormat, RejectsRefsPrefixFrameWithoutRefsOrCompressionOrWithDelta) {
  EXPECT_EQ(DecodePatched(Header(EntryKind::kTree, 0, 9), 1, kFlagRefsPrefix | kFlagCompressed)
                .message(),
            "pack frame: refs prefix without refs");
  EntryHeader with_ref = Header(EntryKind::kTree, 0, 9, {Id(1)});
  EXPECT_EQ(DecodePatched(with_ref, 1, kFlagRefsPrefix).message(),
            "pack frame: refs prefix on an uncompressed payload");
  EXPECT_EQ(DecodePatched(with_ref, 1, kFlagRefsPrefix | kFlagDelta | kFlagCompressed).message(),
            "pack frame: flags 0x0d name two prefixes");
  EXPECT_OK(DecodePatched(with_ref, 1, kFlagRefsPrefix | kFlagCompressed));
}

TEST(PackFormat, RejectsDeltaFrameWithoutBaseRef) {
  Status s = DecodePatched(Header(EntryKind::kData, 0, 9), 1, kFlagDelta);
  EXPECT_EQ(s.message(), "pack frame: delta entry without a base ref");
}

// A slice is an offset into the one chunk it names: nothing else fits.
TEST(PackFormat, RejectsSliceFramesOfAnyOtherShape) {
  EntryHeader slice = Header(EntryKind::kData, kFlagSlice, 9, {Id(1)});
  Buffer offset;
  EncodeSlicePayload(300, &offset);
  Buffer good = OneFrame(slice, offset);
  ASSERT_OK(DecodeFrame(good));
  EXPECT_EQ(DecodeSlicePayload(DecodeFrame(good)->payload).value(), 300u);

  EXPECT_EQ(DecodePatched(slice, 1, kFlagSlice | kFlagCompressed).message(),
            "pack frame: slice with flags 0x11");
  EXPECT_EQ(DecodePatched(slice, 1, kFlagSlice | kFlagSealed).message(),
            "pack frame: slice with flags 0x12");
  EXPECT_EQ(DecodePatched(slice, 0, 2).message(), "pack frame: slice of kind 2");
  EXPECT_EQ(DecodePatched(Header(EntryKind::kData, kFlagSlice, 9), 1, kFlagSlice).message(),
            "pack frame: slice with 0 refs, not 1");
  EXPECT_EQ(DecodePatched(Header(EntryKind::kData, kFlagSlice, 9, {Id(1), Id(2)}), 1, kFlagSlice)
                .message(),
            "pack frame: slice with 2 refs, not 1");
  // DecodePatched's payload is 16 bytes: no varint is that long.
  EXPECT_EQ(DecodePatched(slice, 1, kFlagSlice).message(), "pack frame: slice payload of 16 bytes");
  EXPECT_EQ(DecodeFrame(OneFrame(slice, {})).status().message(), "pack frame: slice payload of 0 bytes");
}

// A bundle is a data entry of no refs that no other prefix or slice rule
// applies to, and no larger than a slice may be cut from.
TEST(PackFormat, RejectsBundleFramesOfAnyOtherShape) {
  EntryHeader bundle = Header(EntryKind::kData, kFlagBundle | kFlagCompressed | kFlagSealed, 9);
  ASSERT_OK(DecodeFrame(OneFrame(bundle, Payload(16, 0))));
  EXPECT_EQ(DecodePatched(bundle, 1, kFlagBundle | kFlagSlice).message(), "pack frame: slice with flags 0x30");
  EXPECT_EQ(DecodePatched(bundle, 1, kFlagBundle | kFlagCompressed | kFlagRefsPrefix).message(),
            "pack frame: refs prefix without refs");
  EXPECT_EQ(DecodePatched(Header(EntryKind::kData, kFlagBundle, 9, {Id(1)}), 1, kFlagBundle | kFlagDelta)
                .message(),
            "pack frame: bundle with flags 0x24");
  EXPECT_EQ(DecodePatched(bundle, 0, 2).message(), "pack frame: bundle of kind 2");
  EXPECT_EQ(DecodePatched(Header(EntryKind::kData, kFlagBundle, 9, {Id(1)}), 1, kFlagBundle).message(),
            "pack frame: bundle with 1 refs");
  EXPECT_EQ(DecodeFrame(OneFrame(Header(EntryKind::kData, kFlagBundle, 9, {}, kMaxBundleLength + 1),
                                 Payload(16, 0)))
                .status()
                .message(),
            "pack frame: bundle of 1048577 bytes exceeds 1048576");
}

TEST(PackFormat, SliceOffsetIsOneShortestVarint) {
  for (uint32_t v : {0u, 127u, 128u, 1u << 20, UINT32_MAX}) {
    Buffer b;
    EncodeSlicePayload(v, &b);
    EXPECT_EQ(DecodeSlicePayload(b).value(), v);
  }
  const Buffer padded = {std::byte{0x81}, std::byte{0x00}};  // 1, not in shortest form
  EXPECT_EQ(DecodeSlicePayload(padded).status().message(), "pack frame: malformed slice offset");
  const Buffer trailing = {std::byte{0x01}, std::byte{0x01}};
  EXPECT_EQ(DecodeSlicePayload(trailing).status().message(), "pack frame: malformed slice offset");
  const Buffer too_big = {std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff},
                          std::byte{0x1f}};  // 2^35 - 1
  EXPECT_EQ(DecodeSlicePayload(too_big).status().message(), "pack frame: malformed slice offset");
}

TEST(PackFormat, RejectsFrameWithNonzeroReservedField) {
  EntryHeader h = Header(EntryKind::kData, 0, 9);
  EXPECT_EQ(DecodePatched(h, 2, 0x01).message(), "pack frame: reserved field is 1, not 0");
  EXPECT_EQ(DecodePatched(h, 3, 0x80).message(), "pack frame: reserved field is 32768, not 0");
}

TEST(PackFormat, RejectsFrameWithRefCountAboveMax) {
  // ref_count's third byte sits at offset 6; 1 + (0x41 << 16) exceeds 1 << 22.
  Status s = DecodePatched(Header(EntryKind::kTree, 0, 9, {Id(1)}), 6, 0x41);
  EXPECT_EQ(s.message(), "pack frame: ref_count 4259841 exceeds 4194304");
}

TEST(PackFormat, RejectsRefCountThatOverrunsTheFrame) {
  // A plausible header claiming kMaxRefs refs, on a frame holding one: the
  // decoder must notice from the sizes, before reading or allocating refs.
  Buffer frame = OneFrame(Header(EntryKind::kTree, 0, 9, {Id(1)}), Payload(16, 0));
  uint32_t claimed = kMaxRefs;
  for (size_t i = 0; i < 4; ++i) frame[4 + i] = std::byte(claimed >> (8 * i));
  Reseal(&frame);
  Result<size_t> size = FrameSize(frame);
  ASSERT_OK(size);
  EXPECT_EQ(*size, kFrameHeaderSize + size_t{kMaxRefs} * 32 + 16 + kFrameChecksumSize);
  Status s = DecodeFrame(frame).status();
  EXPECT_TRUE(s.IsCorruption());
  std::string want =
      "truncated: " + std::to_string(frame.size()) + " of " + std::to_string(*size) + " bytes";
  EXPECT_TRUE(Contains(s, want)) << s.ToString();
}

TEST(PackFormat, FrameHeaderFieldsSitWhereTheLayoutSays) {
  EntryHeader h = Header(EntryKind::kTree, kFlagCompressed, 9, {Id(1), Id(2)}, 0x01020304);
  Buffer frame = OneFrame(h, Payload(5, 0));
  ASSERT_EQ(frame.size(), kFrameHeaderSize + 2 * 32 + 5 + kFrameChecksumSize);
  EXPECT_EQ(kFrameHeaderSize, 48u);
  uint8_t kind = 0, flags = 0, reserved_lo = 0xff, reserved_hi = 0xff;
  uint32_t ref_count = 0, raw_length = 0, stored_length = 0;
  ChunkId id, ref0, ref1;
  codec::Decoder d(frame);
  ASSERT_TRUE(d.GetU8(&kind) && d.GetU8(&flags) && d.GetU8(&reserved_lo) && d.GetU8(&reserved_hi) &&
              d.GetFixed32(&ref_count) && d.GetFixed32(&raw_length) &&
              d.GetFixed32(&stored_length) && d.GetId(&id) && d.GetId(&ref0) && d.GetId(&ref1));
  EXPECT_EQ(kind, 2);
  EXPECT_EQ(flags, kFlagCompressed);
  EXPECT_EQ(reserved_lo | reserved_hi, 0);
  EXPECT_EQ(ref_count, 2u);
  EXPECT_EQ(raw_length, 0x01020304u);
  EXPECT_EQ(stored_length, 5u);
  EXPECT_EQ(id, Id(9));
  EXPECT_EQ(ref0, Id(1));
  EXPECT_EQ(ref1, Id(2));
}

// A directory of 20,000 files of a few chunks each: more refs than a u16.
TEST(PackFormat, FrameHoldsMoreThan65535Refs) {
  constexpr uint32_t kRefs = 100000;
  std::vector<ChunkId> refs(kRefs);
  for (uint32_t i = 0; i < kRefs; ++i) {
    for (size_t b = 0; b < 4; ++b) refs[i].bytes[b] = std::byte(static_cast<uint8_t>(i >> (8 * b)));
    refs[i].bytes[31] = std::byte{0xee};
  }
  EntryHeader h = Header(EntryKind::kTree, kFlagCompressed, 9, refs, 1 << 20);
  Buffer payload = Payload(1000, 3);

  Buffer frame = OneFrame(h, payload);
  EXPECT_EQ(frame.size(), kFrameHeaderSize + size_t{kRefs} * 32 + 1000 + kFrameChecksumSize);
  Result<size_t> size = FrameSize(ByteSpan(frame).first(kFrameHeaderSize));
  ASSERT_OK(size);
  EXPECT_EQ(*size, frame.size());
  Result<DecodedFrame> f = DecodeFrame(frame);
  ASSERT_OK(f);
  EXPECT_EQ(f->header.refs, refs);
  EXPECT_EQ(f->header.id, h.id);
  EXPECT_TRUE(std::ranges::equal(f->payload, payload));

  // And inside a pack, found through the footer and by a scan.
  std::vector<Sample> samples = Samples();
  samples.insert(samples.begin() + 2, Sample{h, payload});
  PackWriter w;
  for (const Sample& s : samples) w.Add(s.header, s.payload);
  std::vector<PackEntry> written = w.entries();
  Buffer pack = w.Finish();
  Result<std::vector<PackEntry>> entries = DecodePackFooter(pack);
  ASSERT_OK(entries);
  ASSERT_EQ(*entries, written);
  Result<DecodedFrame> again =
      DecodeFrame(ByteSpan(pack).subspan((*entries)[2].offset, (*entries)[2].length));
  ASSERT_OK(again);
  EXPECT_EQ(again->header.refs, refs);
  Status scan;
  EXPECT_EQ(Scan(pack, &scan), written);
  EXPECT_OK(scan);
}

// ---- trailer and footer ----

TEST(PackFormat, RejectsTrailerWithBadEndMagic) {
  Buffer pack = BuildPack(Samples());
  pack.back() ^= std::byte{1};
  EXPECT_EQ(DecodeTrailer(pack).status().message(), "pack trailer: bad end magic");
  EXPECT_TRUE(DecodeTrailer(ByteSpan(pack).first(kTrailerSize - 1)).status().IsCorruption());
}

TEST(PackFormat, RejectsFooterWithFlippedByte) {
  Buffer pack = BuildPack(Samples());
  uint32_t fl = *DecodeTrailer(pack);
  for (size_t i = pack.size() - kTrailerSize - fl; i < pack.size(); ++i) {
    Buffer bad = pack;
    bad[i] ^= std::byte{0x40};
    EXPECT_FALSE(DecodePackFooter(bad).ok()) << "byte " << i;
  }
}

TEST(PackFormat, RejectsFooterChecksumMismatch) {
  Buffer pack = BuildPack(Samples());
  pack[pack.size() - kTrailerSize - 5] ^= std::byte{1};
  EXPECT_EQ(DecodePackFooter(pack).status().message(), "pack footer: checksum mismatch");
}

TEST(PackFormat, RejectsEveryTruncationOfThePack) {
  Buffer pack = BuildPack(Samples());
  for (size_t n = 0; n < pack.size(); ++n) {
    EXPECT_FALSE(DecodePackFooter(ByteSpan(pack).first(n)).ok()) << n;
  }
}

TEST(PackFormat, RejectsFooterLongerThanThePack) {
  Buffer tail = Tail(FooterBytes({}));
  Status s = DecodeFooter(tail, tail.size() + kPackHeaderSize - 1).status();
  EXPECT_TRUE(Contains(s, "does not fit a pack")) << s.ToString();
  Buffer pack = BuildPack(Samples());
  s = DecodeFooter(ByteSpan(pack).last(kTrailerSize + 3), pack.size()).status();
  EXPECT_TRUE(Contains(s, "bytes given")) << s.ToString();
}

TEST(PackFormat, AcceptsMoreTailBytesThanTheFooter) {
  Buffer pack = BuildPack(Samples());
  Result<std::vector<PackEntry>> entries = DecodeFooter(pack, pack.size());
  ASSERT_OK(entries);
  EXPECT_EQ(entries->size(), Samples().size());
}

TEST(PackFormat, RejectsFooterEntryThatOverrunsThePack) {
  uint64_t end = 0;
  std::vector<PackEntry> entries = SampleEntries(&end);
  ASSERT_OK(DecodeEntries(entries, end));
  entries[3].length += static_cast<uint32_t>(end);  // reaches into the footer
  entries.resize(4);
  EXPECT_EQ(DecodeEntries(entries, end).status().message(),
            "pack footer: entry 3 overruns the pack");
}

TEST(PackFormat, RejectsFooterEntryInTheHeader) {
  uint64_t end = 0;
  std::vector<PackEntry> entries = SampleEntries(&end);
  entries[0].offset = 4;
  EXPECT_EQ(DecodeEntries(entries, end).status().message(),
            "pack footer: entry 0 starts in the header");
}

TEST(PackFormat, RejectsFooterEntryShorterThanAFrame) {
  uint64_t end = 0;
  std::vector<PackEntry> entries = SampleEntries(&end);
  entries[1].length = kFrameHeaderSize;
  EXPECT_TRUE(Contains(DecodeEntries(entries, end).status(), "entry 1 length 48 is below"));
}

TEST(PackFormat, RejectsUnsortedFooterEntries) {
  uint64_t end = 0;
  std::vector<PackEntry> entries = SampleEntries(&end);
  std::swap(entries[2], entries[5]);
  EXPECT_EQ(DecodeEntries(entries, end).status().message(),
            "pack footer: entry 3 is out of order or overlaps entry 2");
}

TEST(PackFormat, RejectsOverlappingFooterEntries) {
  uint64_t end = 0;
  std::vector<PackEntry> entries = SampleEntries(&end);
  entries[4].offset -= 1;
  EXPECT_EQ(DecodeEntries(entries, end).status().message(),
            "pack footer: entry 4 is out of order or overlaps entry 3");
}

TEST(PackFormat, RejectsFooterEntryOfUnknownKindOrFlags) {
  uint64_t end = 0;
  std::vector<PackEntry> entries = SampleEntries(&end);
  std::vector<PackEntry> kind = entries, flags = entries;
  kind[2].kind = static_cast<EntryKind>(9);
  flags[6].flags = 0x80;
  EXPECT_EQ(DecodeEntries(kind, end).status().message(), "pack footer: entry 2: unknown kind 9");
  EXPECT_EQ(DecodeEntries(flags, end).status().message(),
            "pack footer: entry 6: unknown flag bits 0x80");
}

TEST(PackFormat, RejectsEntryCountThatCannotFitTheFooter) {
  Buffer footer;
  codec::Encoder(&footer).PutVarint(1000);
  footer.resize(footer.size() + 100);
  Buffer tail = Tail(footer);
  Status s = DecodeFooter(tail, 1 << 20).status();
  EXPECT_TRUE(Contains(s, "1000 entries cannot fit in 102 bytes")) << s.ToString();
}

TEST(PackFormat, RejectsFooterWithTrailingBytes) {
  uint64_t end = 0;
  Buffer footer = FooterBytes(SampleEntries(&end));
  footer.push_back(std::byte{0});
  Buffer tail = Tail(footer);
  EXPECT_EQ(DecodeFooter(tail, end + tail.size()).status().message(),
            "pack footer: 1 trailing bytes");
}

// ---- ScanFrames ----

TEST(PackFormat, ScanFramesFindsEveryFrameOfAnIntactPack) {
  PackWriter w;
  for (const Sample& s : Samples()) w.Add(s.header, s.payload);
  std::vector<PackEntry> written = w.entries();
  Buffer pack = w.Finish();
  Status s;
  EXPECT_EQ(Scan(pack, &s), written);
  EXPECT_OK(s);
}

TEST(PackFormat, ScanFramesFindsAllFramesWhenFooterIsDamaged) {
  PackWriter w;
  for (const Sample& s : Samples()) w.Add(s.header, s.payload);
  std::vector<PackEntry> written = w.entries();
  size_t footer_start = w.size();
  Buffer pack = w.Finish();
  pack[footer_start + 10] ^= std::byte{0xff};
  ASSERT_FALSE(DecodePackFooter(pack).ok());
  Status s;
  EXPECT_EQ(Scan(pack, &s), written);
  EXPECT_TRUE(s.IsCorruption());
  EXPECT_TRUE(Contains(s, "pack: frame at offset " + std::to_string(footer_start))) << s.ToString();
}

TEST(PackFormat, ScanFramesStopsAtFirstBadFrameAndNamesItsOffset) {
  PackWriter w;
  for (const Sample& s : Samples()) w.Add(s.header, s.payload);
  std::vector<PackEntry> written = w.entries();
  Buffer pack = w.Finish();
  pack[written[3].offset + kFrameHeaderSize + 1] ^= std::byte{1};
  Status s;
  std::vector<PackEntry> seen = Scan(pack, &s);
  EXPECT_EQ(seen, std::vector<PackEntry>(written.begin(), written.begin() + 3));
  EXPECT_EQ(s.message(), "pack: frame at offset " + std::to_string(written[3].offset) +
                             ": pack frame: checksum mismatch");
}

TEST(PackFormat, ScanFramesOfTruncatedPackDeliversWholeFrames) {
  PackWriter w;
  for (const Sample& s : Samples()) w.Add(s.header, s.payload);
  std::vector<PackEntry> written = w.entries();
  Buffer pack = w.Finish();
  ByteSpan cut = ByteSpan(pack).first(written[5].offset + 50);
  Status s;
  EXPECT_EQ(Scan(cut, &s), std::vector<PackEntry>(written.begin(), written.begin() + 5));
  EXPECT_TRUE(Contains(s, "offset " + std::to_string(written[5].offset))) << s.ToString();
}

TEST(PackFormat, ScanFramesRejectsBadHeader) {
  Buffer pack = BuildPack(Samples());
  Buffer magic = pack, version = pack;
  magic[0] = std::byte{'X'};
  version[8] = std::byte{2};
  Status s;
  EXPECT_TRUE(Scan(magic, &s).empty());
  EXPECT_EQ(s.message(), "pack: bad magic");
  EXPECT_TRUE(Scan(version, &s).empty());
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_FALSE(Scan(ByteSpan(pack).first(5), &s).size());
  EXPECT_TRUE(s.IsCorruption());
}

// ---- fuzz corpus: seeds from this encoder, replayed as an ordinary test ----

fs::path CorpusDir(std::string_view target) {
  // This file is engine/pack/pack_format_test.cc below the repository root.
  return fs::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" / "corpus" /
         std::string(target);
}

Buffer ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ToBuffer(s);
}

void WriteFile(const fs::path& p, ByteSpan data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

// Run by hand to regenerate the seeds:
//   unit_tests --gtest_also_run_disabled_tests --gtest_filter='*WriteFuzzSeedCorpus'
TEST(PackFormat, DISABLED_WriteFuzzSeedCorpus) {
  std::vector<Sample> samples = Samples();
  for (size_t i : {0, 2, 4, 6}) {
    WriteFile(CorpusDir("pack_frame") / ("frame_" + std::to_string(i)),
              OneFrame(samples[i].header, samples[i].payload));
  }
  WriteFile(CorpusDir("pack_footer") / "empty_pack", PackWriter().Finish());
  WriteFile(CorpusDir("pack_footer") / "one_entry_pack", BuildPack({samples[0]}));
  WriteFile(CorpusDir("pack_footer") / "sample_pack", BuildPack(samples));
}

TEST(PackFormat, FuzzCorpusDecodesWithoutCrashing) {
  size_t files = 0;
  for (std::string_view target : {"pack_frame", "pack_footer"}) {
    fs::path dir = CorpusDir(target);
    if (!fs::is_directory(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      Buffer data = ReadFile(entry.path());
      ++files;
      (void)DecodeFrame(data);
      (void)FrameSize(data);
      (void)DecodePackFooter(data);
      (void)ScanFrames(data, [](const PackEntry&, const DecodedFrame&) {});
    }
  }
  if (files == 0) GTEST_SKIP() << "no corpus next to " << __FILE__;
}

}  // namespace
}  // namespace snap::engine::pack

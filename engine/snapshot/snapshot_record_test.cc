#include "engine/snapshot/snapshot_record.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/codec/varint.h"
#include "tests/support/test_util.h"

namespace snap::engine::snapshot {
namespace {

using codec::Encoder;

ChunkId IdOf(uint8_t seed) {
  ChunkId id;
  for (size_t i = 0; i < ChunkId::kSize; ++i) id.bytes[i] = std::byte(seed ^ i);
  return id;
}

SourceRecord DirSource(std::string name) {
  SourceRecord s;
  s.name = std::move(name);
  s.path = "/var/www/pim/" + s.name;
  s.root = IdOf(1);
  return s;
}

// A record with every field set, both kinds of source, and odd bytes.
SnapshotRecord Full() {
  SnapshotRecord r;
  r.time_ns = 1732330800000000000;
  r.host = "web-1", r.user = "root";
  r.tags = {"nightly", "", "with space\n", "\xff\xfe"};
  r.parent = IdOf(7);
  r.program_version = "snapctl 0.1.0";
  SourceRecord dump;
  dump.name = "catalog", dump.kind = SourceKind::kDump, dump.root = IdOf(2);
  dump.command = "mysqldump --single-transaction pim", dump.restore_command = "mysql pim";
  dump.exit_status = -2147483647 - 1;
  dump.start_ns = -5, dump.end_ns = 1732330801000000000;
  dump.stats = {0, 0, 1, 1ull << 40, 3, 9, ~uint64_t{0}};
  SourceRecord uploads = DirSource("uploads");
  uploads.notes = {"file kept changing: a\xff.log", ""};
  uploads.stats.files = 10, uploads.stats.dirs = 2;
  r.sources = {DirSource("archive"), dump, uploads};
  return r;
}

Buffer Encode(const SnapshotRecord& r) {
  Buffer b;
  r.EncodeTo(&b);
  return b;
}

// A record spelled field by field as FORMAT.md "Snapshot record" lays it
// out, so a test can write values EncodeTo never would.
struct RawSource {
  std::string name = "s";
  uint8_t kind = 1;
  std::string path = "/p";
  ChunkId root;
  std::string command, restore_command;
  int64_t exit_status = 0, start_ns = 0, end_ns = 0;
  std::vector<std::string> notes;
  std::string extra;  // after the last known field
};

struct RawRecord {
  uint64_t version = kSnapshotVersion;
  int64_t time_ns = 0;
  std::string host = "h", user = "u";
  uint64_t tag_count = ~uint64_t{0};  // default: tags.size()
  std::vector<std::string> tags;
  uint8_t parent_presence = 0;
  std::string program_version = "v";
  std::string header_extra;
  std::vector<RawSource> sources;
};

Buffer RawSourceBody(const RawSource& s) {
  Buffer b;
  Encoder e(&b);
  e.PutString(s.name);
  e.PutU8(s.kind);
  e.PutString(s.path);
  e.PutId(s.root);
  e.PutString(s.command);
  e.PutString(s.restore_command);
  for (int64_t v : {s.exit_status, s.start_ns, s.end_ns}) e.PutSignedVarint(v);
  e.PutVarint(s.notes.size());
  for (const std::string& n : s.notes) e.PutString(n);
  for (int i = 0; i < 7; ++i) e.PutVarint(i);
  e.PutRaw(AsBytes(s.extra));
  return b;
}

Buffer RawHeader(const RawRecord& r) {
  Buffer b;
  Encoder e(&b);
  e.PutSignedVarint(r.time_ns);
  e.PutString(r.host);
  e.PutString(r.user);
  e.PutVarint(r.tag_count != ~uint64_t{0} ? r.tag_count : r.tags.size());
  for (const std::string& t : r.tags) e.PutString(t);
  e.PutU8(r.parent_presence);
  if (r.parent_presence == 1) e.PutId(IdOf(3));
  e.PutString(r.program_version);
  e.PutRaw(AsBytes(r.header_extra));
  return b;
}

Buffer Raw(const RawRecord& r) {
  Buffer b;
  Encoder e(&b);
  e.PutVarint(r.version);
  e.PutBytes(RawHeader(r));
  e.PutVarint(r.sources.size());
  for (const RawSource& s : r.sources) e.PutBytes(RawSourceBody(s));
  return b;
}

RawRecord WithSources(std::vector<std::string> names) {
  RawRecord r;
  for (std::string& n : names) {
    r.sources.emplace_back();
    r.sources.back().name = std::move(n);
  }
  return r;
}

void ExpectCorrupt(const Buffer& b, std::string_view what) {
  Result<SnapshotRecord> r = SnapshotRecord::Decode(b);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(what), std::string::npos) << r.status().ToString();
}

// ---- round trip and determinism ----

TEST(SnapshotRecord, RoundTripsEveryField) {
  SnapshotRecord r = Full();
  Result<SnapshotRecord> back = SnapshotRecord::Decode(Encode(r));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
}

TEST(SnapshotRecord, RoundTripsWithoutParentOrSources) {
  SnapshotRecord r;
  Result<SnapshotRecord> back = SnapshotRecord::Decode(Encode(r));
  ASSERT_OK(back);
  EXPECT_EQ(*back, r);
  EXPECT_FALSE(back->parent.has_value());
}

TEST(SnapshotRecord, EncodingIsDeterministic) {
  Buffer a = Encode(Full());
  EXPECT_EQ(Encode(Full()), a);
  Result<SnapshotRecord> back = SnapshotRecord::Decode(a);
  ASSERT_OK(back);
  EXPECT_EQ(Encode(*back), a);
}

TEST(SnapshotRecord, EncodesFieldsInDocumentedOrder) {
  SnapshotRecord r;
  r.host = "h", r.user = "u", r.program_version = "v";
  SourceRecord s;
  s.name = "s", s.path = "/p";
  s.stats = {0, 1, 2, 3, 4, 5, 6};
  r.sources = {s};
  EXPECT_EQ(Encode(r), Raw(WithSources({"s"})));
}

// FORMAT.md "Snapshot record", worked example: the documented bytes must stay true.
TEST(SnapshotRecord, EncodesFormatMdWorkedExample) {
  SnapshotRecord r;
  r.time_ns = 1700000000000000000, r.host = "web1", r.user = "root", r.tags = {"nightly"};
  r.program_version = "0.1.0";
  SourceRecord s;
  s.name = "uploads", s.path = "/srv/up";
  s.root.bytes.fill(std::byte{0x22});
  s.start_ns = 1700000000000000000, s.end_ns = 1700000001000000000;
  s.stats = {1, 1, 1, 6, 2, 300, 250};
  r.sources = {s};
  std::string want =
      "01"                       // version
      "23"                       // header length
      "8080d0e2c6bfce972f"       // time
      "0477656231"               // host
      "04726f6f74"               // user
      "01076e696768746c79"       // tags
      "00"                       // no parent
      "05302e312e30"             // program version
      "01"                       // source count
      "50"                       // source length
      "0775706c6f616473"         // name
      "01"                       // kind
      "072f7372762f7570";        // path
  want += std::string(64, '2');  // root
  want +=
      "000000"               // command, restore command, exit status
      "8080d0e2c6bfce972f"   // start
      "80a8a69ccebfce972f"   // end
      "00"                   // notes
      "0101010602ac02fa01";  // stats
  EXPECT_EQ(ToHex(Encode(r)), want);
}

TEST(SnapshotRecord, SkipsFieldsAppendedByLaterRevision) {
  RawRecord raw = WithSources({"a", "b"});
  raw.header_extra = "\x01\x02later";
  raw.sources[0].extra = "\x07";
  Result<SnapshotRecord> r = SnapshotRecord::Decode(Raw(raw));
  ASSERT_OK(r);
  EXPECT_EQ(r->program_version, "v");
  ASSERT_EQ(r->sources.size(), 2u);
  EXPECT_EQ(r->sources[1].name, "b");
}

// ---- validation ----

TEST(SnapshotRecord, RejectsUnsortedSources) {
  ExpectCorrupt(Raw(WithSources({"b", "a"})), "source 1: name does not sort");
}

TEST(SnapshotRecord, RejectsDuplicateSources) {
  ExpectCorrupt(Raw(WithSources({"a", "a"})), "source 1: name does not sort");
}

TEST(SnapshotRecord, SortsSourceNamesBytewise) {
  ASSERT_OK(SnapshotRecord::Decode(Raw(WithSources({"Z", "a", "\x80"}))));
  ExpectCorrupt(Raw(WithSources({"\x80", "a"})), "source 1: name does not sort");
}

TEST(SnapshotRecord, RejectsSourceNameThatIsNotAnEntryName) {
  for (std::string name : {std::string(), std::string("."), std::string(".."), std::string("a/b"),
                           std::string("a\0", 2)}) {
    ExpectCorrupt(Raw(WithSources({name})), "source 0: name is not a valid entry name");
  }
}

TEST(SnapshotRecord, RejectsUnknownKind) {
  for (uint8_t kind : {0, 3, 255}) {
    RawRecord raw = WithSources({"s"});
    raw.sources[0].kind = kind;
    ExpectCorrupt(Raw(raw), "unknown kind " + std::to_string(kind));
  }
}

TEST(SnapshotRecord, RejectsParentPresenceByteOtherThanZeroOrOne) {
  RawRecord raw;
  raw.parent_presence = 2;
  ExpectCorrupt(Raw(raw), "parent presence byte is 2");
}

TEST(SnapshotRecord, RejectsExitStatusOver32Bits) {
  RawRecord raw = WithSources({"s"});
  raw.sources[0].exit_status = int64_t{1} << 31;
  ExpectCorrupt(Raw(raw), "exit status 2147483648 does not fit 32 bits");
}

TEST(SnapshotRecord, RejectsSourceCountOverRemainingInput) {
  Buffer b = Raw(WithSources({"s"}));
  RawRecord header_only;
  size_t count_at = Raw(header_only).size() - 1;
  b[count_at] = std::byte{2};
  ExpectCorrupt(b, "source count 2 exceeds the remaining input");
}

TEST(SnapshotRecord, RejectsTagCountOverRemainingInput) {
  RawRecord raw;
  raw.tag_count = 100;
  ExpectCorrupt(Raw(raw), "tag count 100 exceeds the remaining input");
}

TEST(SnapshotRecord, RejectsHostOverLimit) {
  RawRecord raw;
  raw.host = std::string(4097, 'h');
  ExpectCorrupt(Raw(raw), "host is 4097 bytes");
}

TEST(SnapshotRecord, RejectsNoteOver64KiB) {
  RawRecord raw = WithSources({"s"});
  raw.sources[0].notes = {std::string((64 << 10) + 1, 'n')};
  ExpectCorrupt(Raw(raw), "note is 65537 bytes");
}

TEST(SnapshotRecord, RejectsHeaderLengthPastEnd) {
  Buffer b = Raw(RawRecord{});
  b[1] = std::byte{0x7f};
  ExpectCorrupt(b, "truncated or malformed header length");
}

TEST(SnapshotRecord, RejectsTrailingBytes) {
  Buffer b = Encode(Full());
  b.push_back(std::byte{0});
  ExpectCorrupt(b, "1 trailing bytes after the last source");
}

TEST(SnapshotRecord, RejectsTruncationAtEveryLength) {
  Buffer b = Encode(Full());
  for (size_t n = 0; n < b.size(); ++n) {
    Result<SnapshotRecord> r = SnapshotRecord::Decode(ByteSpan(b).first(n));
    ASSERT_FALSE(r.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  }
}

TEST(SnapshotRecord, RejectsNewerVersionAsNotSupported) {
  RawRecord raw;
  raw.version = kSnapshotVersion + 1;
  Result<SnapshotRecord> r = SnapshotRecord::Decode(Raw(raw));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotSupported);
  EXPECT_EQ(r.status().message(),
            "snapshot record: version 2 is newer than this snapctl understands");
}

TEST(SnapshotRecord, RejectsVersionZero) {
  RawRecord raw;
  raw.version = 0;
  ExpectCorrupt(Raw(raw), "snapshot record: version 0 is not valid");
}

// ---- Refs and FindSource ----

TEST(SnapshotRecord, RefsListsEachSourceRoot) {
  EXPECT_EQ(Full().Refs(), (std::vector<ChunkId>{IdOf(1), IdOf(2), IdOf(1)}));
}

TEST(SnapshotRecord, FindSourceFindsByExactName) {
  SnapshotRecord r = Full();
  ASSERT_NE(r.FindSource("catalog"), nullptr);
  EXPECT_EQ(r.FindSource("catalog")->kind, SourceKind::kDump);
  EXPECT_EQ(r.FindSource("uploads"), &r.sources[2]);
  EXPECT_EQ(r.FindSource("upload"), nullptr);
  EXPECT_EQ(r.FindSource("zzz"), nullptr);
  EXPECT_EQ(SnapshotRecord{}.FindSource("a"), nullptr);
}

// ---- the fuzz corpus, replayed as the fuzz target checks it ----

TEST(SnapshotRecord, SeedCorpusDecodesAndReencodesToEqualValue) {
  auto dir = std::filesystem::path(__FILE__).parent_path() / "../../fuzz/corpus/snapshot_record";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no corpus at " << dir;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), {}};
    Result<SnapshotRecord> r = SnapshotRecord::Decode(AsBytes(bytes));
    if (!r.ok()) continue;
    Result<SnapshotRecord> again = SnapshotRecord::Decode(Encode(*r));
    ASSERT_OK(again);
    EXPECT_EQ(*again, *r) << entry.path();
  }
}

}  // namespace
}  // namespace snap::engine::snapshot

#include "engine/snapshot/tree.h"

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
  for (size_t i = 0; i < ChunkId::kSize; ++i) id.bytes[i] = std::byte(seed + i);
  return id;
}

Node FileNode(std::string name) {
  Node n;
  n.name = std::move(name);
  n.mode = 0644;
  n.content = {IdOf(1)};
  return n;
}

// A tree holding every node type with every field it may carry set.
Tree EveryType() {
  Tree t;
  Node f = FileNode("file with spaces\nand a newline");
  f.mode = 04755;
  f.uid = 1000, f.gid = 0xffffffff;
  f.user = "alice", f.group = "staff";
  f.mtime_ns = 1732363200123456789, f.atime_ns = -1;
  f.size = 1ull << 40, f.inode = 0xffffffffffffffff, f.links = 2, f.hardlink_group = 7;
  f.flags = kNodeChangedWhileRead;
  f.xattrs = {{"security.selinux", std::string("ctx\0x", 5)}, {"user.a", "\xff\xfe"}};
  f.content = {IdOf(1), IdOf(2), IdOf(1)};
  t.nodes.push_back(f);
  Node d;
  d.name = "\xff\xfe invalid utf-8", d.type = NodeType::kDir, d.subtree = IdOf(3);
  t.nodes.push_back(d);
  Node l;
  l.name = "link", l.type = NodeType::kSymlink, l.link_target = "../x\xff", l.size = 5;
  t.nodes.push_back(l);
  for (auto [name, type] : {std::pair{"fifo", NodeType::kFifo},
                            {"chr", NodeType::kCharDevice},
                            {"blk", NodeType::kBlockDevice},
                            {"sock", NodeType::kSocket}}) {
    Node n;
    n.name = name, n.type = type, n.rdev = 0x0801;
    t.nodes.push_back(n);
  }
  t.Sort();
  return t;
}

Buffer Encode(const Tree& t) {
  Buffer b;
  t.EncodeTo(&b);
  return b;
}

// A node spelled field by field as FORMAT.md "Tree" lays it out, so a test
// can set any field to a value Tree::EncodeTo would never write.
struct RawNode {
  std::string name = "a";
  uint8_t type = 1;
  uint64_t mode = 0644, uid = 0, gid = 0;
  std::string user, group;
  int64_t mtime = 0, atime = 0;
  uint64_t size = 0, rdev = 0, inode = 0, links = 1, hardlink_group = 0, flags = 0;
  std::string link_target;
  std::vector<std::pair<std::string, std::string>> xattrs;
  uint64_t content_count = ~uint64_t{0};  // default: content.size()
  std::vector<ChunkId> content;
  uint8_t subtree_presence = 0;
  ChunkId subtree;
  std::string extra;  // appended after the last known field
};

Buffer RawBody(const RawNode& n) {
  Buffer b;
  Encoder e(&b);
  e.PutString(n.name);
  e.PutU8(n.type);
  for (uint64_t v : {n.mode, n.uid, n.gid}) e.PutVarint(v);
  e.PutString(n.user);
  e.PutString(n.group);
  e.PutSignedVarint(n.mtime);
  e.PutSignedVarint(n.atime);
  for (uint64_t v : {n.size, n.rdev, n.inode, n.links, n.hardlink_group, n.flags}) e.PutVarint(v);
  e.PutString(n.link_target);
  e.PutVarint(n.xattrs.size());
  for (const auto& [name, value] : n.xattrs) e.PutString(name), e.PutString(value);
  e.PutVarint(n.content_count != ~uint64_t{0} ? n.content_count : n.content.size());
  for (const ChunkId& id : n.content) e.PutId(id);
  e.PutU8(n.subtree_presence);
  if (n.subtree_presence == 1) e.PutId(n.subtree);
  e.PutRaw(AsBytes(n.extra));
  return b;
}

Buffer RawTree(const std::vector<RawNode>& nodes, uint64_t version = kTreeVersion) {
  Buffer b;
  Encoder e(&b);
  e.PutVarint(version);
  e.PutVarint(nodes.size());
  for (const RawNode& n : nodes) e.PutBytes(RawBody(n));
  return b;
}

RawNode RawDir(std::string name) {
  RawNode n;
  n.name = std::move(name), n.type = 2, n.subtree_presence = 1, n.subtree = IdOf(9);
  return n;
}

RawNode RawSymlink(std::string name, std::string target) {
  RawNode n;
  n.name = std::move(name), n.type = 3, n.link_target = std::move(target);
  return n;
}

// Decodes `b` and expects a Corruption whose message contains `what`.
void ExpectCorrupt(const Buffer& b, std::string_view what) {
  Result<Tree> t = Tree::Decode(b);
  ASSERT_FALSE(t.ok());
  EXPECT_TRUE(t.status().IsCorruption()) << t.status().ToString();
  EXPECT_NE(t.status().message().find(what), std::string::npos) << t.status().ToString();
}

RawNode Named(std::string name) {
  RawNode n;
  n.name = std::move(name);
  return n;
}

// ---- round trip and determinism ----

TEST(Tree, RoundTripsEveryNodeTypeAndField) {
  Tree t = EveryType();
  Result<Tree> back = Tree::Decode(Encode(t));
  ASSERT_OK(back);
  EXPECT_EQ(back->nodes, t.nodes);
}

TEST(Tree, RoundTripsEmptyTree) {
  Result<Tree> back = Tree::Decode(Encode(Tree{}));
  ASSERT_OK(back);
  EXPECT_TRUE(back->nodes.empty());
}

TEST(Tree, EncodingIsDeterministic) {
  Buffer a = Encode(EveryType());
  EXPECT_EQ(Encode(EveryType()), a);
  Result<Tree> back = Tree::Decode(a);
  ASSERT_OK(back);
  EXPECT_EQ(Encode(*back), a);
}

TEST(Tree, EncodesFieldsInDocumentedOrder) {
  Tree t;
  t.nodes = {FileNode("a")};
  RawNode raw;
  raw.content = {IdOf(1)};
  EXPECT_EQ(Encode(t), RawTree({raw}));
}

// FORMAT.md "Tree", worked example: the documented bytes must stay true.
TEST(Tree, EncodesFormatMdWorkedExample) {
  ChunkId chunk;
  chunk.bytes.fill(std::byte{0x11});
  Node f, l;
  for (Node* n : {&f, &l}) {
    n->uid = n->gid = 1000, n->user = n->group = "ann";
    n->mtime_ns = n->atime_ns = 1700000000000000000;
  }
  f.name = "hello.txt", f.mode = 0644, f.size = 6, f.inode = 131, f.content = {chunk};
  l.name = "latest", l.type = NodeType::kSymlink, l.mode = 0777, l.size = 9, l.inode = 132;
  l.link_target = "hello.txt";
  Tree t;
  t.nodes = {f, l};
  const std::string owner =
      "e807e807"           // uid 1000, gid 1000
      "03616e6e03616e6e";  // user, group
  const std::string times =
      "8080d0e2c6bfce972f"   // mtime
      "8080d0e2c6bfce972f";  // atime
  std::string want =
      "0102"                  // version, node count
      "56"                    // node 0 length
      "0968656c6c6f2e747874"  // name
      "01"                    // type file
      "a403";                 // mode 0644
  want += owner + times;
  want +=
      "06008301010000"  // size, rdev, inode, links, hardlink group, flags
      "0000"            // link target, xattrs
      "01";             // content count
  want += std::string(64, '1');
  want +=
      "00"              // no subtree
      "3c"              // node 1 length
      "066c6174657374"  // name
      "03"              // type symlink
      "ff03";           // mode 0777
  want += owner + times;
  want +=
      "09008401010000"        // size, rdev, inode, links, hardlink group, flags
      "0968656c6c6f2e747874"  // link target
      "000000";               // xattrs, content, subtree
  EXPECT_EQ(ToHex(Encode(t)), want);
}

TEST(Tree, KeepsUnknownFlagBits) {
  RawNode n;
  n.flags = 0x80000001;
  Result<Tree> t = Tree::Decode(RawTree({n}));
  ASSERT_OK(t);
  EXPECT_EQ(t->nodes[0].flags, 0x80000001u);
}

TEST(Tree, SkipsFieldsAppendedByLaterRevision) {
  RawNode a = Named("a"), b = Named("b");
  a.extra = "\x05later";
  Result<Tree> t = Tree::Decode(RawTree({a, b}));
  ASSERT_OK(t);
  ASSERT_EQ(t->nodes.size(), 2u);
  EXPECT_EQ(t->nodes[1].name, "b");
}

// ---- bytewise order ----

TEST(Tree, StringOrderIsBytewiseUnsigned) {
  // char may be signed; std::string compares through char_traits<char>::lt,
  // which the standard defines on unsigned char.
  EXPECT_LT(std::string("a"), std::string("\x80"));
  EXPECT_LT(std::string("\x7f"), std::string("\xff"));
  EXPECT_LT(std::string("a"), std::string("a\x01"));
}

TEST(Tree, SortsBytesAbove0x7fAfterAscii) {
  Tree t;
  for (const char* name : {"\xff", "\x80x", "Z", "a", "a b"}) t.nodes.push_back(FileNode(name));
  t.Sort();
  std::vector<std::string> names;
  for (const Node& n : t.nodes) names.push_back(n.name);
  EXPECT_EQ(names, (std::vector<std::string>{"Z", "a", "a b", "\x80x", "\xff"}));
  ASSERT_OK(Tree::Decode(Encode(t)));
}

TEST(Tree, RejectsHighByteNameBeforeAsciiName) {
  ExpectCorrupt(RawTree({Named("\xff"), Named("a")}), "tree: node 1: name does not sort");
}

TEST(Tree, RejectsUnsortedNodes) {
  ExpectCorrupt(RawTree({Named("b"), Named("a")}), "node 1: name does not sort");
}

TEST(Tree, RejectsDuplicateNames) {
  ExpectCorrupt(RawTree({Named("a"), Named("b"), Named("b")}), "node 2: name does not sort");
}

// ---- names ----

TEST(Tree, RejectsNameWithSlash) {
  ExpectCorrupt(RawTree({Named("a"), Named("b/c")}), "tree: node 1: name contains '/'");
}

TEST(Tree, RejectsNameWithNul) {
  ExpectCorrupt(RawTree({Named(std::string("a\0b", 3))}), "node 0: name contains NUL");
}

TEST(Tree, RejectsEmptyName) { ExpectCorrupt(RawTree({Named("")}), "name is empty"); }

TEST(Tree, RejectsDotAndDotDot) {
  ExpectCorrupt(RawTree({Named(".")}), "name is '.' or '..'");
  ExpectCorrupt(RawTree({Named("..")}), "name is '.' or '..'");
}

TEST(Tree, AcceptsDotPrefixedNames) {
  ASSERT_OK(Tree::Decode(RawTree({Named("..."), Named(".hidden")})));
}

TEST(Tree, RejectsNameOverLimit) {
  ASSERT_OK(Tree::Decode(RawTree({Named(std::string(kMaxNameLength, 'x'))})));
  ExpectCorrupt(RawTree({Named(std::string(kMaxNameLength + 1, 'x'))}), "name is 4097 bytes");
}

TEST(Tree, IsValidNameAcceptsOnlyOnePathComponent) {
  EXPECT_TRUE(IsValidName("a"));
  EXPECT_TRUE(IsValidName("\xff\xfe"));
  EXPECT_TRUE(IsValidName(std::string(kMaxNameLength, 'x')));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName("."));
  EXPECT_FALSE(IsValidName(".."));
  EXPECT_FALSE(IsValidName("a/b"));
  EXPECT_FALSE(IsValidName(std::string("a\0", 2)));
  EXPECT_FALSE(IsValidName(std::string(kMaxNameLength + 1, 'x')));
}

// ---- types and the fields each may carry ----

TEST(Tree, RejectsUnknownType) {
  for (uint8_t type : {0, 8, 255}) {
    RawNode n;
    n.type = type;
    ExpectCorrupt(RawTree({n}), "unknown type " + std::to_string(type));
  }
}

TEST(Tree, RejectsModeOutside07777) {
  RawNode n;
  n.mode = 010644;  // S_IFREG bits do not belong here
  ExpectCorrupt(RawTree({n}), "mode has bits outside 07777");
}

TEST(Tree, RejectsUidOver32Bits) {
  RawNode n;
  n.uid = 1ull << 32;
  ExpectCorrupt(RawTree({n}), "truncated or malformed uid");
}

TEST(Tree, RejectsOverlongVarint) {
  Buffer b = RawTree({});
  b.pop_back();  // the node count
  for (int i = 0; i < 11; ++i) b.push_back(std::byte{0x80});
  b.push_back(std::byte{0});
  ExpectCorrupt(b, "truncated or malformed node count");
}

TEST(Tree, RejectsDirWithoutSubtree) {
  RawNode d = RawDir("d");
  d.subtree_presence = 0;
  ExpectCorrupt(RawTree({d}), "directory without a subtree");
}

TEST(Tree, RejectsDirWithContent) {
  RawNode d = RawDir("d");
  d.content = {IdOf(1)};
  ExpectCorrupt(RawTree({d}), "non-file with content");
}

TEST(Tree, RejectsFileWithSubtree) {
  RawNode f;
  f.subtree_presence = 1;
  ExpectCorrupt(RawTree({f}), "non-directory with a subtree");
}

TEST(Tree, RejectsSubtreePresenceByteOtherThanZeroOrOne) {
  RawNode d = RawDir("d");
  d.subtree_presence = 2;
  ExpectCorrupt(RawTree({d}), "subtree presence byte is 2");
}

TEST(Tree, RejectsSymlinkWithContent) {
  RawNode l = RawSymlink("l", "t");
  l.content = {IdOf(1)};
  ExpectCorrupt(RawTree({l}), "non-file with content");
}

TEST(Tree, RejectsSymlinkWithoutTarget) {
  ExpectCorrupt(RawTree({RawSymlink("l", "")}), "symlink without a target");
}

TEST(Tree, RejectsLinkTargetOnNonSymlink) {
  RawNode f;
  f.link_target = "t";
  ExpectCorrupt(RawTree({f}), "non-symlink with a link target");
}

TEST(Tree, RejectsLinkTargetWithNul) {
  ExpectCorrupt(RawTree({RawSymlink("l", std::string("a\0b", 3))}), "link target contains NUL");
}

TEST(Tree, RejectsLinkTargetOver64KiB) {
  ASSERT_OK(Tree::Decode(RawTree({RawSymlink("l", std::string(64 << 10, 't'))})));
  ExpectCorrupt(RawTree({RawSymlink("l", std::string((64 << 10) + 1, 't'))}),
                "link target is 65537 bytes");
}

TEST(Tree, AcceptsContentOnFileOnly) {
  RawNode f;
  f.content = {IdOf(1), IdOf(2)};
  Result<Tree> t = Tree::Decode(RawTree({f}));
  ASSERT_OK(t);
  EXPECT_EQ(t->nodes[0].content, (std::vector<ChunkId>{IdOf(1), IdOf(2)}));
}

// ---- xattrs ----

TEST(Tree, RejectsUnsortedXattrs) {
  RawNode f;
  f.xattrs = {{"user.b", ""}, {"user.a", ""}};
  ExpectCorrupt(RawTree({f}), "xattrs not sorted by name or duplicated");
}

TEST(Tree, RejectsDuplicateXattrs) {
  RawNode f;
  f.xattrs = {{"user.a", "1"}, {"user.a", "2"}};
  ExpectCorrupt(RawTree({f}), "xattrs not sorted by name or duplicated");
}

TEST(Tree, RejectsEmptyXattrName) {
  RawNode f;
  f.xattrs = {{"", "v"}};
  ExpectCorrupt(RawTree({f}), "xattr name is empty or contains NUL");
}

TEST(Tree, RejectsXattrNameOver255Bytes) {
  RawNode f;
  f.xattrs = {{std::string(256, 'n'), ""}};
  ExpectCorrupt(RawTree({f}), "xattr name is 256 bytes");
}

TEST(Tree, RejectsXattrValueOverLimit) {
  RawNode f;
  f.xattrs = {{"user.big", std::string(kMaxXattrValue + 1, 'v')}};
  ExpectCorrupt(RawTree({f}), "xattr value is 1048577 bytes");
}

// ---- counts, lengths, framing ----

TEST(Tree, RejectsNodeCountOverRemainingInput) {
  Buffer b;
  Encoder e(&b);
  e.PutVarint(kTreeVersion);
  e.PutVarint(1000);
  e.PutBytes(RawBody(Named("a")));
  ExpectCorrupt(b, "node count 1000 exceeds the remaining input");
}

TEST(Tree, RejectsNodeCountOverLimit) {
  Buffer b;
  Encoder e(&b);
  e.PutVarint(kTreeVersion);
  e.PutVarint(kMaxTreeEntries + 1);
  ExpectCorrupt(b, "over the limit of 4194304");
}

TEST(Tree, RejectsContentCountOverRemainingInput) {
  RawNode f;
  f.content = {IdOf(1)};
  f.content_count = 2;
  ExpectCorrupt(RawTree({f}), "content count 2 exceeds the remaining input");
}

TEST(Tree, RejectsNodeLengthPastEnd) {
  Buffer b = RawTree({Named("a")});
  b[2] = std::byte{0x7f};  // the node length
  ExpectCorrupt(b, "tree: node 0: truncated or malformed length");
}

TEST(Tree, RejectsNodeShorterThanItsFields) {
  Buffer body = RawBody(Named("a"));
  body.pop_back();  // the subtree presence byte
  Buffer b;
  Encoder e(&b);
  e.PutVarint(kTreeVersion);
  e.PutVarint(1);
  e.PutBytes(body);
  // Other bytes follow so the node count passes; the node must not borrow them.
  e.PutRaw(AsBytes(std::string(40, '\0')));
  ExpectCorrupt(b, "node 0: truncated or malformed subtree");
}

TEST(Tree, RejectsTrailingBytes) {
  Buffer b = Encode(EveryType());
  b.push_back(std::byte{0});
  ExpectCorrupt(b, "1 trailing bytes after the last node");
}

TEST(Tree, RejectsTruncationAtEveryLength) {
  Buffer b = Encode(EveryType());
  for (size_t n = 0; n < b.size(); ++n) {
    Result<Tree> t = Tree::Decode(ByteSpan(b).first(n));
    ASSERT_FALSE(t.ok()) << "prefix of " << n << " bytes decoded";
    EXPECT_TRUE(t.status().IsCorruption()) << t.status().ToString();
  }
}

// ---- versions ----

TEST(Tree, RejectsNewerVersionAsNotSupported) {
  Result<Tree> t = Tree::Decode(RawTree({}, kTreeVersion + 1));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), Status::Code::kNotSupported);
  EXPECT_EQ(t.status().message(), "tree: version 2 is newer than this snapctl understands");
}

TEST(Tree, RejectsVersionZero) { ExpectCorrupt(RawTree({}, 0), "tree: version 0 is not valid"); }

// ---- Refs and Find ----

TEST(Tree, RefsListsEachIdOnceInOrderOfFirstAppearance) {
  Tree t;
  Node d;
  d.name = "d", d.type = NodeType::kDir, d.subtree = IdOf(5);
  Node f = FileNode("f"), g = FileNode("g");
  f.content = {IdOf(1), IdOf(2), IdOf(1)};
  g.content = {IdOf(5), IdOf(3), IdOf(2)};
  t.nodes = {d, f, g};
  EXPECT_EQ(t.Refs(), (std::vector<ChunkId>{IdOf(5), IdOf(1), IdOf(2), IdOf(3)}));
}

TEST(Tree, FindLocatesEveryNodeAndMissesAbsentNames) {
  Tree t = EveryType();
  for (const Node& n : t.nodes) {
    const Node* found = t.Find(n.name);
    ASSERT_NE(found, nullptr) << n.name;
    EXPECT_EQ(found, &n);
  }
  EXPECT_EQ(t.Find("absent"), nullptr);
  EXPECT_EQ(t.Find(""), nullptr);
  EXPECT_EQ(t.Find("\xff"), nullptr);
  EXPECT_EQ(Tree{}.Find("a"), nullptr);
}

// ---- the fuzz corpus, replayed as the fuzz target checks it ----

TEST(Tree, SeedCorpusDecodesAndReencodesToEqualValue) {
  auto dir = std::filesystem::path(__FILE__).parent_path() / "../../fuzz/corpus/tree";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "no corpus at " << dir;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), {}};
    Result<Tree> t = Tree::Decode(AsBytes(bytes));
    if (!t.ok()) continue;
    Result<Tree> again = Tree::Decode(Encode(*t));
    ASSERT_OK(again);
    EXPECT_EQ(again->nodes, t->nodes) << entry.path();
  }
}

}  // namespace
}  // namespace snap::engine::snapshot

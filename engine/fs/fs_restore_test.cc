#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/fs/fs.h"
#include "tests/support/test_util.h"

namespace snap::engine::fs {
namespace {

using snapshot::Node;
using snapshot::NodeType;
using snapshot::Xattr;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct stat Lstat(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

Node Special(NodeType type, std::string target = "") {
  Node n;
  n.type = type;
  n.link_target = std::move(target);
  return n;
}

// A target directory to restore into, and an "outside" directory holding
// what a hostile symlink in the target points at.
class FsRestoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Fd> d = OpenDirPath(target_.path());
    ASSERT_OK(d);
    dir_ = std::move(d).value();
    WriteFile(outside_.Sub("victim"), "precious");
  }
  std::string T(const std::string& rel) const { return target_.Sub(rel); }

  test::TempDir target_, outside_;
  Fd dir_;
};

TEST_F(FsRestoreTest, RefusesDotDotName) {
  EXPECT_TRUE(CreateFileAt(dir_.get(), "..", true).status().IsInvalidArgument());
  EXPECT_TRUE(MakeDirAt(dir_.get(), "..", true).status().IsInvalidArgument());
  EXPECT_TRUE(RemoveAt(dir_.get(), "..").IsInvalidArgument());
  EXPECT_TRUE(MakeDirAt(dir_.get(), ".", true).status().IsInvalidArgument());
  EXPECT_TRUE(MakeDirAt(dir_.get(), "", true).status().IsInvalidArgument());
}

TEST_F(FsRestoreTest, RefusesSlashInName) {
  std::string escape = "../" + outside_.path().substr(outside_.path().rfind('/') + 1) + "/victim";
  EXPECT_TRUE(CreateFileAt(dir_.get(), escape, true).status().IsInvalidArgument());
  EXPECT_TRUE(CreateFileAt(dir_.get(), "a/b", true).status().IsInvalidArgument());
  EXPECT_TRUE(MakeSpecialAt(dir_.get(), "/x", Special(NodeType::kFifo), true).IsInvalidArgument());
  EXPECT_EQ(ReadFile(outside_.Sub("victim")), "precious");
}

TEST_F(FsRestoreTest, RefusesNulInName) {
  std::string nul("a\0b", 3);
  Status s = CreateFileAt(dir_.get(), nul, true).status();
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "a?b: refusing unsafe name");
  EXPECT_FALSE(Exists(T("a")));
  Node n;
  EXPECT_TRUE(ApplyMetadata(dir_.get(), nul, n, false).IsInvalidArgument());
  EXPECT_TRUE(OpenFileForUpdateAt(dir_.get(), nul).status().IsInvalidArgument());
}

TEST_F(FsRestoreTest, LinkAtRefusesUnsafeNameOnEitherSide) {
  WriteFile(T("f"), "x");
  EXPECT_TRUE(LinkAt(dir_.get(), "f", dir_.get(), "../f", true).IsInvalidArgument());
  EXPECT_TRUE(LinkAt(dir_.get(), "..", dir_.get(), "g", true).IsInvalidArgument());
}

TEST_F(FsRestoreTest, DoesNotFollowSymlinkPlantedInTarget) {
  ASSERT_EQ(::symlink(outside_.Sub("victim").c_str(), T("f").c_str()), 0);
  EXPECT_FALSE(CreateFileAt(dir_.get(), "f", false).ok());
  EXPECT_TRUE(S_ISLNK(Lstat(T("f")).st_mode));

  Result<Fd> fd = CreateFileAt(dir_.get(), "f", true);
  ASSERT_OK(fd);
  ASSERT_OK(WriteAt(fd->get(), 0, AsBytes("mine"), "f"));
  EXPECT_TRUE(S_ISREG(Lstat(T("f")).st_mode));
  EXPECT_EQ(ReadFile(T("f")), "mine");
  EXPECT_EQ(ReadFile(outside_.Sub("victim")), "precious");
}

TEST_F(FsRestoreTest, DoesNotFollowDanglingSymlinkPlantedInTarget) {
  ASSERT_EQ(::symlink(outside_.Sub("new").c_str(), T("f").c_str()), 0);
  EXPECT_FALSE(CreateFileAt(dir_.get(), "f", false).ok());
  EXPECT_FALSE(Exists(outside_.Sub("new")));
  ASSERT_OK(CreateFileAt(dir_.get(), "f", true));
  EXPECT_FALSE(Exists(outside_.Sub("new")));
}

TEST_F(FsRestoreTest, MakeDirAtDoesNotFollowSymlinkPlantedInTarget) {
  ASSERT_EQ(::symlink(outside_.path().c_str(), T("d").c_str()), 0);
  EXPECT_FALSE(MakeDirAt(dir_.get(), "d", false).ok());

  Result<Fd> d = MakeDirAt(dir_.get(), "d", true);
  ASSERT_OK(d);
  ASSERT_OK(CreateFileAt(d->get(), "victim", true));
  EXPECT_TRUE(S_ISDIR(Lstat(T("d")).st_mode));
  EXPECT_EQ(Lstat(T("d")).st_mode & 07777, 0700u);
  EXPECT_EQ(ReadFile(outside_.Sub("victim")), "precious");
}

TEST_F(FsRestoreTest, MakeDirAtKeepsExistingDirectoryAndItsContents) {
  ASSERT_EQ(::mkdir(T("d").c_str(), 0755), 0);
  WriteFile(T("d/keep"), "k");
  Result<Fd> d = MakeDirAt(dir_.get(), "d", false);
  ASSERT_OK(d);
  EXPECT_EQ(ReadFile(T("d/keep")), "k");
}

TEST_F(FsRestoreTest, CreateFileAtRefusesExistingFileUnlessReplacing) {
  WriteFile(T("f"), "old");
  EXPECT_FALSE(CreateFileAt(dir_.get(), "f", false).ok());
  EXPECT_EQ(ReadFile(T("f")), "old");
  Result<Fd> fd = CreateFileAt(dir_.get(), "f", true);
  ASSERT_OK(fd);
  EXPECT_EQ(ReadFile(T("f")), "");
  EXPECT_EQ(Lstat(T("f")).st_mode & 07777, 0600u);
}

TEST_F(FsRestoreTest, CreateFileAtReplacesDirectoryTreeWithoutFollowingLinksInIt) {
  ASSERT_EQ(::mkdir(T("d").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(T("d/sub").c_str(), 0500), 0);  // read-only, yet removable
  ASSERT_EQ(::symlink(outside_.path().c_str(), T("d/escape").c_str()), 0);
  EXPECT_FALSE(CreateFileAt(dir_.get(), "d", false).ok());
  ASSERT_OK(CreateFileAt(dir_.get(), "d", true));
  EXPECT_TRUE(S_ISREG(Lstat(T("d")).st_mode));
  EXPECT_EQ(ReadFile(outside_.Sub("victim")), "precious");
}

TEST_F(FsRestoreTest, RemoveAtRemovesTreeWithoutFollowingSymlinks) {
  ASSERT_EQ(::mkdir(T("d").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(T("d/e").c_str(), 0755), 0);
  WriteFile(T("d/e/f"), "x");
  ASSERT_EQ(::symlink(outside_.path().c_str(), T("d/e/out").c_str()), 0);
  ASSERT_OK(RemoveAt(dir_.get(), "d"));
  EXPECT_FALSE(Exists(T("d")));
  EXPECT_EQ(ReadFile(outside_.Sub("victim")), "precious");
}

TEST_F(FsRestoreTest, RemoveAtRemovesSymlinkNotItsTarget) {
  ASSERT_EQ(::symlink(outside_.path().c_str(), T("l").c_str()), 0);
  ASSERT_OK(RemoveAt(dir_.get(), "l"));
  EXPECT_FALSE(Exists(T("l")));
  EXPECT_TRUE(Exists(outside_.Sub("victim")));
}

TEST_F(FsRestoreTest, RemoveAtReportsMissingNameAsNotFound) {
  EXPECT_TRUE(RemoveAt(dir_.get(), "nothing").IsNotFound());
}

TEST_F(FsRestoreTest, OpenFileForUpdateAtOpensOnlyRegularFiles) {
  WriteFile(T("f"), "abc");
  Result<Fd> fd = OpenFileForUpdateAt(dir_.get(), "f");
  ASSERT_OK(fd);
  ASSERT_OK(WriteAt(fd->get(), 1, AsBytes("X"), "f"));
  EXPECT_EQ(ReadFile(T("f")), "aXc");

  EXPECT_TRUE(OpenFileForUpdateAt(dir_.get(), "missing").status().IsNotFound());
  ASSERT_EQ(::symlink(outside_.Sub("victim").c_str(), T("l").c_str()), 0);
  EXPECT_TRUE(OpenFileForUpdateAt(dir_.get(), "l").status().IsInvalidArgument());
  ASSERT_EQ(::mkfifo(T("p").c_str(), 0600), 0);
  EXPECT_TRUE(OpenFileForUpdateAt(dir_.get(), "p").status().IsInvalidArgument());
  ASSERT_EQ(::mkdir(T("d").c_str(), 0700), 0);
  EXPECT_TRUE(OpenFileForUpdateAt(dir_.get(), "d").status().IsInvalidArgument());
}

TEST_F(FsRestoreTest, MakeSpecialAtCreatesDanglingAndAbsoluteSymlinks) {
  ASSERT_OK(MakeSpecialAt(dir_.get(), "dangling", Special(NodeType::kSymlink, "no/such"), false));
  ASSERT_OK(MakeSpecialAt(dir_.get(), "abs", Special(NodeType::kSymlink, "/etc/passwd"), false));
  char buf[64];
  ssize_t n = ::readlink(T("dangling").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "no/such");
  n = ::readlink(T("abs").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "/etc/passwd");
}

TEST_F(FsRestoreTest, MakeSpecialAtReplacesOnlyWhenAsked) {
  WriteFile(T("l"), "file");
  Node link = Special(NodeType::kSymlink, "elsewhere");
  EXPECT_FALSE(MakeSpecialAt(dir_.get(), "l", link, false).ok());
  EXPECT_EQ(ReadFile(T("l")), "file");
  ASSERT_OK(MakeSpecialAt(dir_.get(), "l", link, true));
  EXPECT_TRUE(S_ISLNK(Lstat(T("l")).st_mode));
}

TEST_F(FsRestoreTest, MakeSpecialAtRefusesSymlinkTargetWithNul) {
  Node link = Special(NodeType::kSymlink, std::string("/etc\0/x", 7));
  EXPECT_TRUE(MakeSpecialAt(dir_.get(), "l", link, false).IsInvalidArgument());
  EXPECT_TRUE(
      MakeSpecialAt(dir_.get(), "l", Special(NodeType::kSymlink), false).IsInvalidArgument());
  EXPECT_FALSE(Exists(T("l")));
}

TEST_F(FsRestoreTest, MakeSpecialAtRefusesFilesAndDirectories) {
  EXPECT_TRUE(MakeSpecialAt(dir_.get(), "f", Special(NodeType::kFile), false).IsInvalidArgument());
  EXPECT_TRUE(MakeSpecialAt(dir_.get(), "d", Special(NodeType::kDir), false).IsInvalidArgument());
}

TEST_F(FsRestoreTest, MakeSpecialAtCreatesFifoAndSocket) {
  ASSERT_OK(MakeSpecialAt(dir_.get(), "p", Special(NodeType::kFifo), false));
  ASSERT_OK(MakeSpecialAt(dir_.get(), "s", Special(NodeType::kSocket), false));
  EXPECT_TRUE(S_ISFIFO(Lstat(T("p")).st_mode));
  EXPECT_TRUE(S_ISSOCK(Lstat(T("s")).st_mode));
}

TEST_F(FsRestoreTest, MakeSpecialAtCreatesDevicesWhenPrivileged) {
  Node dev = Special(NodeType::kCharDevice);
  dev.rdev = makedev(1, 3);
  Status s = MakeSpecialAt(dir_.get(), "null", dev, false);
  if (!s.ok() && ::geteuid() != 0) {
    EXPECT_NE(s.message().find("null: mknodat"), std::string::npos) << s.ToString();
    GTEST_SKIP() << s.ToString();
  }
  ASSERT_OK(s);
  struct stat st = Lstat(T("null"));
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(1, 3));
  dev.type = NodeType::kBlockDevice;
  dev.rdev = makedev(7, 200);
  ASSERT_OK(MakeSpecialAt(dir_.get(), "loop", dev, false));
  EXPECT_TRUE(S_ISBLK(Lstat(T("loop")).st_mode));
}

TEST_F(FsRestoreTest, LinkAtSharesTheInode) {
  ASSERT_EQ(::mkdir(T("d").c_str(), 0700), 0);
  WriteFile(T("a"), "x");
  Result<Fd> d = OpenDirAt(dir_.get(), "d");
  ASSERT_OK(d);
  ASSERT_OK(LinkAt(dir_.get(), "a", d->get(), "b", false));
  EXPECT_EQ(Lstat(T("a")).st_ino, Lstat(T("d/b")).st_ino);
  EXPECT_EQ(Lstat(T("a")).st_nlink, 2u);
}

TEST_F(FsRestoreTest, LinkAtReplacesOtherFileOnlyWhenAsked) {
  WriteFile(T("a"), "new");
  WriteFile(T("b"), "old");
  EXPECT_FALSE(LinkAt(dir_.get(), "a", dir_.get(), "b", false).ok());
  ASSERT_OK(LinkAt(dir_.get(), "a", dir_.get(), "b", true));
  EXPECT_EQ(ReadFile(T("b")), "new");
}

TEST_F(FsRestoreTest, LinkAtToAnExistingLinkOrItselfKeepsTheFile) {
  WriteFile(T("a"), "x");
  ASSERT_OK(LinkAt(dir_.get(), "a", dir_.get(), "b", false));
  ASSERT_OK(LinkAt(dir_.get(), "a", dir_.get(), "b", true));
  ASSERT_OK(LinkAt(dir_.get(), "a", dir_.get(), "a", true));
  EXPECT_EQ(ReadFile(T("a")), "x");
  EXPECT_EQ(Lstat(T("a")).st_nlink, 2u);
}

TEST_F(FsRestoreTest, LinkAtLinksSymlinkItselfNotItsTarget) {
  ASSERT_EQ(::symlink(outside_.Sub("victim").c_str(), T("l").c_str()), 0);
  ASSERT_OK(LinkAt(dir_.get(), "l", dir_.get(), "l2", false));
  EXPECT_TRUE(S_ISLNK(Lstat(T("l2")).st_mode));
  EXPECT_EQ(Lstat(outside_.Sub("victim")).st_nlink, 1u);
}

TEST_F(FsRestoreTest, WriteAtWithZerosLeavesHoles) {
  Result<Fd> fd = CreateFileAt(dir_.get(), "sparse", false);
  ASSERT_OK(fd);
  Buffer data(1 << 20, std::byte{0});
  data[100] = std::byte{1};  // one nonzero block at the start
  ASSERT_OK(WriteAt(fd->get(), 0, data, "sparse"));
  ASSERT_OK(WriteAt(fd->get(), data.size(), Buffer(1 << 20, std::byte{0}), "sparse"));
  ASSERT_EQ(::ftruncate(fd->get(), 2 << 20), 0);
  struct stat st = Lstat(T("sparse"));
  EXPECT_EQ(st.st_size, 2 << 20);
  EXPECT_LT(st.st_blocks * 512, 64 * 1024) << "blocks " << st.st_blocks;
  std::string back = ReadFile(T("sparse"));
  ASSERT_EQ(back.size(), 2u << 20);
  EXPECT_EQ(back[100], '\1');
  EXPECT_EQ(back.find_first_not_of('\0', 101), std::string::npos);
}

TEST_F(FsRestoreTest, WriteAtRoundTripsUnalignedMixedData) {
  Result<Fd> fd = CreateFileAt(dir_.get(), "f", false);
  ASSERT_OK(fd);
  std::string content(3 * 4096 + 123, '\0');
  for (size_t i = 0; i < 700; ++i) content[i] = 'a';
  for (size_t i = 9000; i < 9100; ++i) content[i] = 'b';
  content.back() = 'z';
  ASSERT_OK(WriteAt(fd->get(), 1000, AsBytes(content), "f"));
  std::string back = ReadFile(T("f"));
  EXPECT_EQ(back, std::string(1000, '\0') + content);
}

TEST_F(FsRestoreTest, WriteAtZerosOverwriteExistingData) {
  WriteFile(T("f"), std::string(64 * 1024, 'x'));
  Result<Fd> fd = OpenFileForUpdateAt(dir_.get(), "f");
  ASSERT_OK(fd);
  ASSERT_OK(WriteAt(fd->get(), 100, Buffer(20000, std::byte{0}), "f"));
  std::string want = std::string(100, 'x') + std::string(20000, '\0');
  want += std::string(64 * 1024 - want.size(), 'x');
  EXPECT_EQ(ReadFile(T("f")), want);
}

TEST_F(FsRestoreTest, WriteAtNamesTheFileInErrors) {
  Fd ro(::open(outside_.Sub("victim").c_str(), O_RDONLY | O_CLOEXEC));
  Status s = WriteAt(ro.get(), 0, AsBytes("x"), "uploads/a.jpg");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().rfind("uploads/a.jpg: write: ", 0), 0u) << s.ToString();
}

TEST_F(FsRestoreTest, ApplyMetadataRoundTripsTimesInNanoseconds) {
  WriteFile(T("f"), "x");
  Node n;
  n.mode = 0640;
  n.mtime_ns = 1700000000123456789;
  n.atime_ns = -1500000001;  // before 1970
  ASSERT_OK(ApplyMetadata(dir_.get(), "f", n, false));
  struct stat st = Lstat(T("f"));
  EXPECT_EQ(st.st_mtim.tv_sec, 1700000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(st.st_atim.tv_sec, -2);
  EXPECT_EQ(st.st_atim.tv_nsec, 499999999);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST_F(FsRestoreTest, ApplyMetadataRoundTripsThroughNodeFromStat) {
  WriteFile(T("src"), "x");
  ASSERT_EQ(::chmod(T("src").c_str(), 0604), 0);
  if (::setxattr(T("src").c_str(), "user.tag", "v", 1, 0) != 0 && errno == ENOTSUP) {
    GTEST_SKIP() << "no user xattrs on this file system";
  }
  Result<struct stat> st = StatAt(dir_.get(), "src");
  ASSERT_OK(st);
  Result<Node> src = NodeFromStat(dir_.get(), "src", *st);
  ASSERT_OK(src);
  WriteFile(T("dst"), "x");
  int failures = 0;
  ASSERT_OK(ApplyMetadata(dir_.get(), "dst", *src, ::geteuid() == 0, &failures));
  EXPECT_EQ(failures, 0);
  Result<struct stat> st2 = StatAt(dir_.get(), "dst");
  ASSERT_OK(st2);
  Result<Node> dst = NodeFromStat(dir_.get(), "dst", *st2);
  ASSERT_OK(dst);
  EXPECT_EQ(dst->mode, src->mode);
  EXPECT_EQ(dst->mtime_ns, src->mtime_ns);
  EXPECT_EQ(dst->atime_ns, src->atime_ns);
  EXPECT_EQ(dst->xattrs, src->xattrs);
  EXPECT_EQ(dst->xattrs, (std::vector<Xattr>{{"user.tag", "v"}}));
}

TEST_F(FsRestoreTest, ApplyMetadataSetsXattrsOnReadOnlyFile) {
  WriteFile(T("probe"), "");
  if (::setxattr(T("probe").c_str(), "user.p", "", 0, 0) != 0 && errno == ENOTSUP) {
    GTEST_SKIP() << "no user xattrs on this file system";
  }
  WriteFile(T("f"), "x");
  Node n;
  n.mode = 0400;  // a non-root owner may not set user.* xattrs once it applies
  n.xattrs = {{"user.a", "1"}, {"user.b", std::string("\0\1", 2)}};
  int failures = 0;
  ASSERT_OK(ApplyMetadata(dir_.get(), "f", n, false, &failures));
  EXPECT_EQ(failures, 0);
  char buf[8];
  EXPECT_EQ(::getxattr(T("f").c_str(), "user.b", buf, sizeof buf), 2);
  EXPECT_EQ(Lstat(T("f")).st_mode & 07777, 0400u);
}

TEST_F(FsRestoreTest, ApplyMetadataCountsXattrsTheFileSystemRefuses) {
  ASSERT_EQ(::symlink("t", T("l").c_str()), 0);
  Node n = Special(NodeType::kSymlink, "t");
  // user.* is not allowed on symlinks; a NUL cannot be passed to the kernel.
  n.xattrs = {{"user.a", "1"}, {std::string("user.b\0c", 8), "2"}};
  int failures = 0;
  ASSERT_OK(ApplyMetadata(dir_.get(), "l", n, false, &failures));
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(::getxattr(T("l").c_str(), "user.b", nullptr, 0), -1);
}

TEST_F(FsRestoreTest, ApplyMetadataLeavesSymlinkTargetAlone) {
  ASSERT_EQ(::symlink(outside_.Sub("victim").c_str(), T("l").c_str()), 0);
  struct stat before = Lstat(outside_.Sub("victim"));
  Node n = Special(NodeType::kSymlink);
  n.mode = 0;
  n.mtime_ns = 1000000000;
  n.uid = 4242;
  n.gid = 4242;
  ASSERT_OK(ApplyMetadata(dir_.get(), "l", n, ::geteuid() == 0));
  struct stat after = Lstat(outside_.Sub("victim"));
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(Lstat(T("l")).st_mtim.tv_sec, 1);
  if (::geteuid() == 0) {
    EXPECT_EQ(Lstat(T("l")).st_uid, 4242u);
  }
}

TEST_F(FsRestoreTest, ApplyMetadataChownsOnlyAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  WriteFile(T("f"), "x");
  Node n;
  n.mode = 0644;
  n.uid = 1234;
  n.gid = 5678;
  ASSERT_OK(ApplyMetadata(dir_.get(), "f", n, false));
  EXPECT_EQ(Lstat(T("f")).st_uid, 0u);
  ASSERT_OK(ApplyMetadata(dir_.get(), "f", n, true));
  EXPECT_EQ(Lstat(T("f")).st_uid, 1234u);
  EXPECT_EQ(Lstat(T("f")).st_gid, 5678u);
}

TEST_F(FsRestoreTest, SetuidBitSurvivesChown) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  WriteFile(T("f"), "x");
  Node n;
  n.mode = 06755;
  n.uid = 1234;
  n.gid = 1234;
  ASSERT_OK(ApplyMetadata(dir_.get(), "f", n, true));
  EXPECT_EQ(Lstat(T("f")).st_mode & 07777, 06755u);
}

TEST_F(FsRestoreTest, FileCapabilitySurvivesChown) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  WriteFile(T("f"), "x");
  // vfs_cap_data v2, effective, permitted = CAP_NET_RAW (bit 13).
  const uint32_t cap[5] = {0x02000001, 1u << 13, 0, 0, 0};
  std::string value(reinterpret_cast<const char*>(cap), sizeof cap);
  Node n;
  n.mode = 0755;
  n.uid = 1234;
  n.gid = 1234;
  n.xattrs = {{"security.capability", value}};
  int failures = 0;
  ASSERT_OK(ApplyMetadata(dir_.get(), "f", n, true, &failures));
  if (failures > 0) GTEST_SKIP() << "file capabilities not supported here";
  std::string back(64, '\0');
  ssize_t len = ::getxattr(T("f").c_str(), "security.capability", back.data(), back.size());
  ASSERT_GT(len, 0) << std::strerror(errno);
  back.resize(static_cast<size_t>(len));
  EXPECT_EQ(back, value);
}

TEST_F(FsRestoreTest, ApplyMetadataOnMissingNameIsNotFound) {
  Node n;
  EXPECT_TRUE(ApplyMetadata(dir_.get(), "nothing", n, false).IsNotFound());
}

}  // namespace
}  // namespace snap::engine::fs

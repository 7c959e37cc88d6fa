#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "engine/fs/fs.h"
#include "engine/fs/fs_internal.h"
#include "tests/support/test_util.h"

namespace snap::engine::fs {
namespace {

using snapshot::Node;
using snapshot::NodeType;
using snapshot::Xattr;

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

// NodeFromStat of `name` in `dir`, as capture calls it.
Result<Node> Describe(const Fd& dir, const std::string& name) {
  Result<struct stat> st = StatAt(dir.get(), name);
  if (!st.ok()) return st.status();
  return NodeFromStat(dir.get(), name, *st);
}

class FsCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Fd> d = OpenDirPath(tmp_.path());
    ASSERT_OK(d);
    dir_ = std::move(d).value();
  }
  test::TempDir tmp_;
  Fd dir_;
};

TEST(FsCapture, RefusesUnsafeNames) {
  test::TempDir tmp;
  Result<Fd> dir = OpenDirPath(tmp.path());
  ASSERT_OK(dir);
  struct stat st {};
  for (std::string bad : {std::string(""), std::string("."), std::string(".."), std::string("a/b"),
                          std::string("/etc"), std::string("a\0b", 3)}) {
    EXPECT_TRUE(OpenDirAt(dir->get(), bad).status().IsInvalidArgument()) << bad;
    EXPECT_TRUE(OpenFileAt(dir->get(), bad).status().IsInvalidArgument()) << bad;
    EXPECT_TRUE(StatAt(dir->get(), bad).status().IsInvalidArgument()) << bad;
    EXPECT_TRUE(NodeFromStat(dir->get(), bad, st).status().IsInvalidArgument()) << bad;
  }
  Status s = OpenFileAt(dir->get(), "..").status();
  EXPECT_EQ(s.message(), "..: refusing unsafe name");
}

TEST(FsCapture, FdClosesOnDestructionAndHandsOverOnMove) {
  int raw = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(raw, 0);
  {
    Fd a(raw);
    Fd b(std::move(a));
    EXPECT_FALSE(a.valid());
    EXPECT_EQ(b.get(), raw);
    EXPECT_EQ(::fcntl(raw, F_GETFD), FD_CLOEXEC);
  }
  EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
}

TEST_F(FsCaptureTest, ListDirSortsBytewiseWithoutDots) {
  for (const char* n : {"b", "a", "B", "\xc3\xa9", "a.txt"}) WriteFile(tmp_.Sub(n), "");
  Result<std::vector<std::string>> names = ListDir(dir_.get());
  ASSERT_OK(names);
  std::vector<std::string> want = {"B", "a", "a.txt", "b", "\xc3\xa9"};
  EXPECT_EQ(*names, want);
  Result<std::vector<std::string>> again = ListDir(dir_.get());  // rewinds the shared offset
  ASSERT_OK(again);
  EXPECT_EQ(*again, want);
}

// Capture must not change what it captures: a bumped atime would change the
// directory's node and with it every tree ID up to the root.
TEST_F(FsCaptureTest, ReadingLeavesAtimesAlone) {
  ASSERT_EQ(::mkdir(tmp_.Sub("d").c_str(), 0700), 0);
  WriteFile(tmp_.Sub("d/f"), "data");
  struct timespec old[2] = {{1000, 0}, {2000, 0}};  // atime < mtime: relatime would update
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp_.Sub("d/f").c_str(), old, 0), 0);
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp_.Sub("d").c_str(), old, 0), 0);
  Result<Fd> d = OpenDirAt(dir_.get(), "d");
  ASSERT_OK(d);
  ASSERT_OK(ListDir(d->get()));
  Result<Fd> f = OpenFileAt(d->get(), "f");
  ASSERT_OK(f);
  char buf[8];
  ASSERT_EQ(::read(f->get(), buf, sizeof buf), 4);
  Result<Node> dn = Describe(dir_, "d");
  ASSERT_OK(dn);
  EXPECT_EQ(dn->atime_ns, 1000000000000);
  Result<Node> fn = Describe(*d, "f");
  ASSERT_OK(fn);
  EXPECT_EQ(fn->atime_ns, 1000000000000);
}

TEST_F(FsCaptureTest, OpenFileAtReadsRegularFile) {
  WriteFile(tmp_.Sub("f"), "hello");
  struct stat st;
  Result<Fd> fd = OpenFileAt(dir_.get(), "f", &st);
  ASSERT_OK(fd);
  EXPECT_EQ(st.st_size, 5);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  // O_NONBLOCK stays set; reads of a regular file ignore it.
  char buf[8];
  EXPECT_EQ(::read(fd->get(), buf, sizeof buf), 5);
  EXPECT_EQ(::read(fd->get(), buf, sizeof buf), 0);
}

TEST(FsCapture, OpenFileAtReadsFilesItDoesNotOwn) {
  // Not root: O_NOATIME is refused (EPERM) on others' files, and dropped.
  Result<Fd> etc = OpenDirPath("/etc");
  ASSERT_OK(etc);
  Result<Fd> fd = OpenFileAt(etc->get(), "passwd");
  ASSERT_OK(fd);
  char c;
  EXPECT_EQ(::read(fd->get(), &c, 1), 1);
}

TEST_F(FsCaptureTest, OpenFileAtDoesNotFollowSymlink) {
  WriteFile(tmp_.Sub("target"), "secret");
  ASSERT_EQ(::symlink("target", tmp_.Sub("link").c_str()), 0);
  EXPECT_FALSE(OpenFileAt(dir_.get(), "link").ok());
}

TEST_F(FsCaptureTest, OpenFileAtRefusesFifoWithoutBlocking) {
  ASSERT_EQ(::mkfifo(tmp_.Sub("fifo").c_str(), 0600), 0);
  EXPECT_TRUE(OpenFileAt(dir_.get(), "fifo").status().IsInvalidArgument());
}

TEST_F(FsCaptureTest, OpenFileAtReportsMissingFileAsNotFound) {
  Status s = OpenFileAt(dir_.get(), "gone").status();
  EXPECT_TRUE(s.IsNotFound());
  EXPECT_NE(s.message().find("gone: openat"), std::string::npos) << s.ToString();
}

TEST_F(FsCaptureTest, OpenDirAtDoesNotFollowSymlinkToDirectory) {
  ASSERT_EQ(::mkdir(tmp_.Sub("real").c_str(), 0700), 0);
  ASSERT_EQ(::symlink("real", tmp_.Sub("link").c_str()), 0);
  EXPECT_OK(OpenDirAt(dir_.get(), "real"));
  EXPECT_FALSE(OpenDirAt(dir_.get(), "link").ok());
}

TEST_F(FsCaptureTest, NodeFromStatDescribesRegularFile) {
  WriteFile(tmp_.Sub("f"), "12345");
  ASSERT_EQ(::chmod(tmp_.Sub("f").c_str(), 04751), 0);
  struct timespec ts[2] = {{1000, 7}, {1700000000, 123456789}};
  ASSERT_EQ(::utimensat(AT_FDCWD, tmp_.Sub("f").c_str(), ts, 0), 0);
  Result<Node> n = Describe(dir_, "f");
  ASSERT_OK(n);
  EXPECT_EQ(n->name, "f");
  EXPECT_EQ(n->type, NodeType::kFile);
  EXPECT_EQ(n->mode, 04751u);
  EXPECT_EQ(n->size, 5u);
  EXPECT_EQ(n->mtime_ns, 1700000000123456789);
  EXPECT_EQ(n->atime_ns, 1000000000007);
  EXPECT_EQ(n->uid, ::geteuid());
  EXPECT_EQ(n->links, 1u);
  EXPECT_NE(n->inode, 0u);
  EXPECT_TRUE(n->content.empty());
  EXPECT_FALSE(n->subtree.has_value());
}

TEST_F(FsCaptureTest, NodeFromStatNamesOwnerAndGroup) {
  WriteFile(tmp_.Sub("f"), "");
  Result<Node> n = Describe(dir_, "f");
  ASSERT_OK(n);
  struct passwd* pw = ::getpwuid(::geteuid());
  ASSERT_NE(pw, nullptr);
  EXPECT_EQ(n->user, pw->pw_name);
  EXPECT_FALSE(n->group.empty());
}

TEST_F(FsCaptureTest, NodeFromStatNamesOwnersFromManyThreads) {
  WriteFile(tmp_.Sub("f"), "");
  std::vector<std::thread> threads;
  std::vector<std::string> users(8);
  for (size_t i = 0; i < users.size(); ++i) {
    threads.emplace_back([&, i] {
      Result<Node> n = Describe(dir_, "f");
      if (n.ok()) users[i] = n->user + ":" + n->group;
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& u : users) EXPECT_EQ(u, users[0]);
  EXPECT_NE(users[0], ":");
}

TEST_F(FsCaptureTest, NodeFromStatLeavesUnknownOwnerNameEmpty) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  WriteFile(tmp_.Sub("f"), "");
  ASSERT_EQ(::chown(tmp_.Sub("f").c_str(), 3999999, 3999999), 0);
  Result<Node> n = Describe(dir_, "f");
  ASSERT_OK(n);
  EXPECT_EQ(n->uid, 3999999u);
  EXPECT_EQ(n->user, "");
  EXPECT_EQ(n->group, "");
}

TEST_F(FsCaptureTest, NodeFromStatDescribesDirectory) {
  ASSERT_EQ(::mkdir(tmp_.Sub("d").c_str(), 0750), 0);
  Result<Node> n = Describe(dir_, "d");
  ASSERT_OK(n);
  EXPECT_EQ(n->type, NodeType::kDir);
  EXPECT_EQ(n->mode, 0750u);
  EXPECT_EQ(n->size, 0u);  // st_size of a directory is not content
}

TEST_F(FsCaptureTest, NodeFromStatReadsDanglingSymlink) {
  ASSERT_EQ(::symlink("no/such/target", tmp_.Sub("l").c_str()), 0);
  Result<Node> n = Describe(dir_, "l");
  ASSERT_OK(n);
  EXPECT_EQ(n->type, NodeType::kSymlink);
  EXPECT_EQ(n->link_target, "no/such/target");
  EXPECT_EQ(n->size, 14u);
}

TEST_F(FsCaptureTest, NodeFromStatReadsAbsoluteSymlinkWithoutFollowing) {
  ASSERT_EQ(::symlink("/etc", tmp_.Sub("l").c_str()), 0);
  Result<Node> n = Describe(dir_, "l");
  ASSERT_OK(n);
  EXPECT_EQ(n->type, NodeType::kSymlink);
  EXPECT_EQ(n->link_target, "/etc");
}

TEST_F(FsCaptureTest, NodeFromStatReadsLongSymlinkTargetWhateverStatSays) {
  std::string target(4000, 'x');
  ASSERT_EQ(::symlink(target.c_str(), tmp_.Sub("l").c_str()), 0);
  Result<struct stat> st = StatAt(dir_.get(), "l");
  ASSERT_OK(st);
  st->st_size = 3;  // a lying st_size (as on /proc) must not truncate
  Result<Node> n = NodeFromStat(dir_.get(), "l", *st);
  ASSERT_OK(n);
  EXPECT_EQ(n->link_target, target);
}

TEST_F(FsCaptureTest, NodeFromStatDescribesFifo) {
  ASSERT_EQ(::mkfifo(tmp_.Sub("p").c_str(), 0640), 0);
  Result<Node> n = Describe(dir_, "p");
  ASSERT_OK(n);
  EXPECT_EQ(n->type, NodeType::kFifo);
  EXPECT_EQ(n->mode, 0640u);
}

TEST_F(FsCaptureTest, NodeFromStatDescribesCharDevice) {
  if (::mknod(tmp_.Sub("null").c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "mknod: " << std::strerror(errno);
  }
  Result<Node> n = Describe(dir_, "null");
  ASSERT_OK(n);
  EXPECT_EQ(n->type, NodeType::kCharDevice);
  EXPECT_EQ(n->rdev, makedev(1, 3));
  EXPECT_EQ(n->size, 0u);
}

TEST_F(FsCaptureTest, NodeFromStatDescribesSocket) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(s, 0);
  Fd sock(s);
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  std::string path = tmp_.Sub("sock");
  ASSERT_LT(path.size(), sizeof addr.sun_path);
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  Result<Node> n = Describe(dir_, "sock");
  ASSERT_OK(n);
  EXPECT_EQ(n->type, NodeType::kSocket);
}

TEST_F(FsCaptureTest, NodeFromStatRefusesUnknownType) {
  WriteFile(tmp_.Sub("f"), "");
  Result<struct stat> st = StatAt(dir_.get(), "f");
  ASSERT_OK(st);
  st->st_mode = (st->st_mode & 07777) | 0170000;  // no such S_IFMT value
  EXPECT_EQ(NodeFromStat(dir_.get(), "f", *st).status().code(), Status::Code::kNotSupported);
}

TEST_F(FsCaptureTest, NodeFromStatListsXattrsSortedByName) {
  WriteFile(tmp_.Sub("f"), "");
  std::string path = tmp_.Sub("f");
  if (::setxattr(path.c_str(), "user.zeta", "z", 1, 0) != 0) {
    GTEST_SKIP() << "setxattr: " << std::strerror(errno);
  }
  std::string binary("\0\xff\x01", 3);
  ASSERT_EQ(::setxattr(path.c_str(), "user.alpha", binary.data(), binary.size(), 0), 0);
  ASSERT_EQ(::setxattr(path.c_str(), "user.empty", "", 0, 0), 0);
  Result<Node> n = Describe(dir_, "f");
  ASSERT_OK(n);
  std::vector<Xattr> want = {{"user.alpha", binary}, {"user.empty", ""}, {"user.zeta", "z"}};
  EXPECT_EQ(n->xattrs, want);
}

TEST_F(FsCaptureTest, NodeFromStatReadsSymlinkOwnXattrsNotTargets) {
  WriteFile(tmp_.Sub("target"), "");
  if (::setxattr(tmp_.Sub("target").c_str(), "user.a", "1", 1, 0) != 0) {
    GTEST_SKIP() << "setxattr: " << std::strerror(errno);
  }
  ASSERT_EQ(::symlink("target", tmp_.Sub("l").c_str()), 0);
  Result<Node> n = Describe(dir_, "l");
  ASSERT_OK(n);
  EXPECT_TRUE(n->xattrs.empty());
}

// Kernels from 6.13 are read with listxattrat/getxattrat, older ones
// through /proc/self/fd: both must see the same, values and lists longer
// than a first guess included, and a symlink's own attributes only.
TEST_F(FsCaptureTest, XattrsReadTheSameThroughTheAtCallsAndThroughProc) {
  WriteFile(tmp_.Sub("f"), "");
  std::string path = tmp_.Sub("f");
  std::string big(1500, 'v');  // longer than the first guess; one ext4 block holds all
  if (::setxattr(path.c_str(), "user.big", big.data(), big.size(), 0) != 0) {
    GTEST_SKIP() << "setxattr: " << std::strerror(errno);
  }
  std::vector<Xattr> want = {{"user.big", big}};
  for (int i = 0; i < 24; ++i) {  // a list of about 700 bytes
    std::string name = "user.attribute-number-" + std::to_string(100 + i);
    ASSERT_EQ(::setxattr(path.c_str(), name.c_str(), "x", 1, 0), 0);
    want.push_back({name, "x"});
  }
  std::sort(want.begin(), want.end(),
            [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  ASSERT_EQ(::symlink("f", tmp_.Sub("l").c_str()), 0);
  // trusted.* goes on a symlink itself (user.* cannot); it needs root.
  bool link_xattr = ::lsetxattr(tmp_.Sub("l").c_str(), "trusted.own", "o", 1, 0) == 0;
  for (bool proc : {false, true}) {
    SCOPED_TRACE(proc ? "through /proc" : "at-calls");
    internal::UseProcPathForXattrReads(proc);
    Result<Node> f = Describe(dir_, "f");
    ASSERT_OK(f);
    EXPECT_EQ(f->xattrs, want);
    Result<Node> l = Describe(dir_, "l");
    ASSERT_OK(l);
    std::vector<Xattr> own;
    if (link_xattr) own = {{"trusted.own", "o"}};
    EXPECT_EQ(l->xattrs, own);
  }
  internal::UseProcPathForXattrReads(false);
}

}  // namespace
}  // namespace snap::engine::fs

// Snapshot and restore through the real snapctl binary, compared by
// independent tools (rsync, diff).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

class RoundTrip : public ::testing::TestWithParam<bool> {
 protected:
  TempDir tmp_;
  std::string src_ = tmp_.Sub("src");
};

TEST_P(RoundTrip, EveryKindOfEntrySurvivesByteForByteAndMetadataForMetadata) {
  MakeEveryKindTree(src_);
  Repo repo(tmp_.path(), GetParam());
  auto snap = repo.Json("snapshot --source www=" + Quote(src_));
  ASSERT_TRUE(snap.contains("id"));
  CmdResult r = repo.Run("restore latest --target " + Quote(tmp_.Sub("out")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RsyncDiff(src_, tmp_.Sub("out/www")), "");
  CmdResult d = Sh("diff -r --no-dereference " + Quote(src_) + " " + Quote(tmp_.Sub("out/www")));
  // diff reports fifos, sockets and devices as "is a fifo while ..." lines
  // (it cannot compare them); it must find no difference in content.
  EXPECT_EQ(d.out.find("differ"), std::string::npos) << d.out;
  EXPECT_EQ(d.out.find("Only in"), std::string::npos) << d.out;
  struct stat st;
  ASSERT_EQ(stat(tmp_.Sub("out/www/media/sparse.img").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 8 << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "sparse file was restored dense";
}

TEST_P(RoundTrip, UnchangedResnapshotReadsNoContentAndAddsUnder64KiB) {
  MakeEveryKindTree(src_);
  Repo repo(tmp_.path(), GetParam());
  repo.Json("snapshot --source www=" + Quote(src_));
  // The repository proper: everything but the index, which is a cache.
  auto stored = [&] { return DirBytes(repo.dir()) - DirBytes(repo.dir() + "/index"); };
  uint64_t packs_before = DirBytes(repo.dir() + "/packs");
  uint64_t before = stored();
  auto second = repo.Json("snapshot --source www=" + Quote(src_));
  EXPECT_EQ(second["files_read"], 0);
  EXPECT_EQ(second["sources"]["www"]["new_chunks"], 0);
  EXPECT_EQ(DirBytes(repo.dir() + "/packs"), packs_before);
  EXPECT_LT(stored() - before, 64u << 10);
  EXPECT_EQ(repo.Json("list").size(), 2u);
}

TEST_P(RoundTrip, DeltaRestoreOfSameSnapshotWritesNothing) {
  MakeEveryKindTree(src_);
  Repo repo(tmp_.path(), GetParam());
  repo.Json("snapshot --source www=" + Quote(src_));
  repo.Json("restore latest --target " + Quote(tmp_.Sub("out")));
  auto again = repo.Json("restore latest --delta --target " + Quote(tmp_.Sub("out")));
  EXPECT_EQ(again["bytes_written"], 0);
  EXPECT_EQ(RsyncDiff(src_, tmp_.Sub("out/www")), "");
}

TEST_P(RoundTrip, DeltaRestoreRewritesOnlyChangedChunksAndRemovesExtras) {
  std::filesystem::create_directories(src_);
  WriteRandomFile(src_ + "/big.bin", 8 << 20, 7);
  Repo repo(tmp_.path(), GetParam());
  repo.Json("snapshot --source www=" + Quote(src_));
  std::string out = tmp_.Sub("out");
  repo.Json("restore latest --target " + Quote(out));
  {  // damage 10 bytes in the middle and add a stray file
    std::fstream f(out + "/www/big.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4 << 20);
    f.write("XXXXXXXXXX", 10);
  }
  std::ofstream(out + "/www/stray.txt") << "stray";
  auto r = repo.Json("restore latest --delta --target " + Quote(out));
  EXPECT_EQ(r["removed"], 1);
  EXPECT_GE(r["chunks_unchanged"].get<int>(), 1);
  EXPECT_LT(r["bytes_written"].get<uint64_t>(), 8u << 20);
  EXPECT_EQ(RsyncDiff(src_, out + "/www"), "");
}

TEST_P(RoundTrip, SourceOptionRestoresStraightIntoTarget) {
  MakeEveryKindTree(src_);
  std::filesystem::create_directories(tmp_.Sub("other"));
  std::ofstream(tmp_.Sub("other/a.txt")) << "a";
  Repo repo(tmp_.path(), GetParam());
  repo.Json("snapshot --source www=" + Quote(src_) + " --source other=" + Quote(tmp_.Sub("other")));
  repo.Json("restore latest --source other --target " + Quote(tmp_.Sub("only")));
  EXPECT_EQ(RsyncDiff(tmp_.Sub("other"), tmp_.Sub("only")), "");
  repo.Json("restore latest --target " + Quote(tmp_.Sub("all")));
  EXPECT_EQ(RsyncDiff(src_, tmp_.Sub("all/www")), "");
  EXPECT_EQ(RsyncDiff(tmp_.Sub("other"), tmp_.Sub("all/other")), "");
}

TEST_P(RoundTrip, IncludeRestoresOnlyMatchingPaths) {
  MakeEveryKindTree(src_);
  Repo repo(tmp_.path(), GetParam());
  repo.Json("snapshot --source www=" + Quote(src_));
  repo.Json("restore latest --include 'docs/**' --include '*.jpg' --target " + Quote(tmp_.Sub("o")));
  EXPECT_TRUE(std::filesystem::exists(tmp_.Sub("o/www/docs/deep/er/still/leaf.txt")));
  EXPECT_TRUE(std::filesystem::exists(tmp_.Sub("o/www/media/photo.jpg")));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("o/www/media/clip.bin")));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("o/www/fifo")));
}

// Restore reads a chunk once however many files hold it, and reads no pack
// byte twice: 300 copies of one file, two copies of a file of several
// chunks, a file that repeats one block, and many files across packs.
TEST_P(RoundTrip, SharedChunksAreReadOnceAndWrittenEverywhere) {
  std::filesystem::create_directories(src_ + "/copies");
  WriteRandomFile(src_ + "/copies/0", 20000, 1);
  for (int i = 1; i < 300; ++i)
    std::filesystem::copy_file(src_ + "/copies/0", src_ + "/copies/" + std::to_string(i));
  WriteRandomFile(tmp_.Sub("block"), 3 << 20, 2);
  std::string block = ReadBytes(tmp_.Sub("block"));
  std::ofstream(src_ + "/repeats.bin", std::ios::binary) << block << block << block << block;
  WriteRandomFile(src_ + "/big", 5 << 20, 3);
  std::filesystem::copy_file(src_ + "/big", src_ + "/big-copy");
  for (int d = 0; d < 8; ++d) {
    std::filesystem::create_directories(src_ + "/dir" + std::to_string(d));
    for (int i = 0; i < 200; ++i)
      WriteRandomFile(src_ + "/dir" + std::to_string(d) + "/f" + std::to_string(i),
                      1000 + 97 * i, 1000 * d + i);
  }
  Repo repo(tmp_.path(), GetParam());
  repo.Json("snapshot --source www=" + Quote(src_));
  auto r = repo.Json("restore latest --target " + Quote(tmp_.Sub("out")));
  EXPECT_EQ(RsyncDiff(src_, tmp_.Sub("out/www")), "");
  EXPECT_EQ(r["files"], 300 + 3 + 1600);
  uint64_t read = r["chunks_read"], written = r["chunks_written"];
  // The 299 copies and the copy of big (one chunk at least) are written
  // without a read.
  EXPECT_LE(read + 299 + 1, written) << r.dump();
  EXPECT_LE(r["pack_bytes_read"].get<uint64_t>(), DirBytes(repo.dir() + "/packs")) << r.dump();
  // Requests span many frames: far fewer than chunks.
  EXPECT_LT(r["pack_reads"].get<uint64_t>() * 20, read) << r.dump();
}

// A restore holds each directory open until its files are done, and its
// ancestors with it: a tree of many deep leaf directories restores under a
// hard limit of 400 descriptors (one batch of 128 leaf directories alone
// would hold 512 open without the bound).
TEST_P(RoundTrip, ManyDeepDirectoriesRestoreUnderALowDescriptorLimit) {
  for (int i = 0; i < 400; ++i) {
    std::string leaf = src_ + "/u" + std::to_string(i) + "/Maildir/cur/new";
    std::filesystem::create_directories(leaf);
    std::ofstream(leaf + "/m" + std::to_string(i)) << "message " << i;
  }
  Repo repo(tmp_.path(), GetParam());
  repo.Json("snapshot --source www=" + Quote(src_));
  CmdResult r = Sh("ulimit -n 400 && " + repo.env() + Quote(Bin()) + " --repo " +
                   Quote(repo.dir()) + " restore latest --target " + Quote(tmp_.Sub("out")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RsyncDiff(src_, tmp_.Sub("out/www")), "");
}

// A file whose last block is zeros keeps its size (the zeros come back as a
// hole), and a file of nothing but zeros too; new files and --delta alike.
TEST_P(RoundTrip, FilesEndingInZerosKeepTheirSizeAndStaySparse) {
  std::filesystem::create_directories(src_);
  {
    std::ofstream(src_ + "/head-then-hole", std::ios::binary) << "head";
    std::filesystem::resize_file(src_ + "/head-then-hole", 6 << 20);
    std::ofstream(src_ + "/zeros", std::ios::binary);
    std::filesystem::resize_file(src_ + "/zeros", 3 << 20);
    std::ofstream(src_ + "/small-zero-tail", std::ios::binary) << std::string("x") + std::string(9000, '\0');
  }
  Repo repo(tmp_.path(), GetParam());
  repo.Json("snapshot --source www=" + Quote(src_));
  for (std::string mode : {"", " --delta"}) {
    std::string out = tmp_.Sub("out" + std::to_string(mode.size()));
    repo.Json("restore latest" + mode + " --target " + Quote(out));
    EXPECT_EQ(RsyncDiff(src_, out + "/www"), "") << mode;
    for (const char* name : {"head-then-hole", "zeros", "small-zero-tail"}) {
      struct stat a, b;
      ASSERT_EQ(stat((src_ + "/" + name).c_str(), &a), 0);
      ASSERT_EQ(stat((out + "/www/" + name).c_str(), &b), 0);
      EXPECT_EQ(b.st_size, a.st_size) << name << mode;
    }
    struct stat st;
    ASSERT_EQ(stat((out + "/www/head-then-hole").c_str(), &st), 0);
    EXPECT_LT(st.st_blocks * 512, 1 << 20) << "restored dense" << mode;
  }
}

INSTANTIATE_TEST_SUITE_P(Encryption, RoundTrip, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "Encrypted" : "Plain"; });

}  // namespace
}  // namespace snap::test

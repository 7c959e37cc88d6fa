// snapctl gc and forget beside running snapshots, through the real binary.
// A snapshot is held at a known point by a pre hook that waits on a FIFO
// (no sleeping): it holds the index and its writer lock while it waits.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;

// A snapshot process stopped in its pre hook until Release().
class HeldSnapshot {
 public:
  HeldSnapshot(const Repo& repo, const TempDir& tmp, const std::string& args)
      : ready_(tmp.Sub("ready.fifo")), go_(tmp.Sub("go.fifo")), err_(tmp.Sub("snapshot.err")) {
    fsys::remove(ready_);
    fsys::remove(go_);
    EXPECT_EQ(mkfifo(ready_.c_str(), 0600), 0);
    EXPECT_EQ(mkfifo(go_.c_str(), 0600), 0);
    std::string hook = "echo ready > " + Quote(ready_) + "; head -c1 " + Quote(go_) + " >/dev/null";
    pid_ = SpawnShell("env " + repo.env() + Quote(Bin()) + " --repo " + Quote(repo.dir()) + " snapshot " +
                          args + " --pre " + Quote(hook),
                      err_);
    // Returns once the hook runs: the snapshot has its locks.
    CmdResult r = Sh("timeout 60 head -c1 " + Quote(ready_));
    EXPECT_EQ(r.exit_code, 0) << "snapshot did not reach its pre hook: " << ReadBytes(err_);
  }
  // Lets the capture go on.
  void Release() {
    CmdResult r = Sh("timeout 60 sh -c 'echo go > " + Quote(go_) + "'");
    EXPECT_EQ(r.exit_code, 0);
  }
  int Wait() { return WaitExit(pid_); }
  std::string err() const { return ReadBytes(err_); }

 private:
  std::string ready_, go_, err_;
  pid_t pid_ = -1;
};

void WriteTree(const std::string& dir, int round) {
  fsys::create_directories(dir);
  // Content that comes back every other round (dedup against condemned
  // packs), and a large part unique to the round (packs that die).
  for (int i = 0; i < 6; ++i)
    WriteRandomFile(dir + "/a" + std::to_string(i) + ".bin", 1 << 20, 100 * (round % 2) + i);
  WriteRandomFile(dir + "/u.bin", 24 << 20, 1000 + round);
}

TEST(GcConcurrent, SnapshotsTakenDuringGcRunsRestoreWhole) {
  TempDir tmp;
  Repo repo(tmp.path());
  std::string src = tmp.Sub("src");
  int deleted = 0, condemned = 0;
  for (int round = 0; round < 5; ++round) {
    WriteTree(src, round);
    if (round > 0) repo.Json("forget --keep-last 1");
    // Condemns the packs of what was just forgotten, some of which this
    // round's snapshot holds again (the "a" files come back every other
    // round): it must store them anew, not reuse them.
    auto before = repo.Json("gc --grace 0s");
    HeldSnapshot snap(repo, tmp, "--source data=" + Quote(src));
    auto during_start = repo.Json("gc --grace 0s");  // deletes them: the writer has seen that
    snap.Release();
    auto during_capture = repo.Json("gc --grace 0s");
    ASSERT_EQ(snap.Wait(), 0) << "round " << round << ": " << snap.err();
    for (const auto* r : {&before, &during_start, &during_capture}) {
      deleted += (*r)["deleted_packs"].get<int>();
      condemned += (*r)["condemned_packs"].get<int>();
    }
    std::string out = tmp.Sub("out" + std::to_string(round));
    CmdResult restored = repo.Run("restore latest --target " + Quote(out));
    ASSERT_EQ(restored.exit_code, 0) << "round " << round << ": " << restored.err;
    EXPECT_EQ(RsyncDiff(src, out + "/data"), "") << "round " << round;
    EXPECT_EQ(Sh("diff -r " + Quote(src) + " " + Quote(out + "/data")).exit_code, 0)
        << "round " << round;
    fsys::remove_all(out);
  }
  // Packs died and went while snapshots ran.
  EXPECT_GT(condemned, 0);
  EXPECT_GT(deleted, 0);
  std::cout << condemned << " packs condemned, " << deleted << " deleted during the rounds\n";
  repo.Json("gc --grace 0s");
  repo.Json("gc --grace 0s");
  auto check = repo.Json("check --read-data");
  EXPECT_EQ(check["ok"], true) << check.dump();
  CmdResult r = repo.Run("restore latest --target " + Quote(tmp.Sub("final")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sh("diff -r " + Quote(src) + " " + Quote(tmp.Sub("final/data"))).exit_code, 0);
}

TEST(GcConcurrent, ForgetWorksWhileASnapshotHoldsTheIndex) {
  TempDir tmp;
  Repo repo(tmp.path());
  std::string src = tmp.Sub("src");
  fsys::create_directories(src);
  WriteRandomFile(src + "/f", 10000, 1);
  for (int day = 1; day <= 3; ++day)
    repo.Json("snapshot --source data=" + Quote(src) + " --time 2026-01-0" + std::to_string(day));
  HeldSnapshot snap(repo, tmp, "--source data=" + Quote(src) + " --time 2026-01-04");
  auto r = repo.Json("forget --keep-last 1");
  EXPECT_EQ(r["removed"], 2);
  auto listed = repo.Json("list");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["time"], "2026-01-03T00:00:00Z");
  EXPECT_EQ(repo.Run("ls latest").exit_code, 0);
  snap.Release();
  ASSERT_EQ(snap.Wait(), 0) << snap.err();
  listed = repo.Json("list");
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[1]["time"], "2026-01-04T00:00:00Z");
  auto check = repo.Json("check");
  EXPECT_EQ(check["ok"], true) << check.dump();
  EXPECT_EQ(check["snapshots"], 2);
}

TEST(GcConcurrent, DeltaBasesStayAliveAfterTheirSnapshotsAreForgotten) {
  TempDir tmp;
  Repo repo(tmp.path());
  // A dump whose rows change here and there: every chunk changes, and is
  // stored as a delta against the previous dump's chunks.
  auto dump = [](int v) {
    return "seq 1 400000 | awk '{ if ($1 % 997 == " + std::to_string(v) +
           ") print $1 \"x\"; else print $1 }'";
  };
  uint64_t stored[4] = {};
  for (int v = 1; v <= 3; ++v) {
    auto s = repo.Json("snapshot --dump d=" + Quote(dump(v)));
    stored[v] = s["sources"]["d"]["stored_bytes"];
  }
  EXPECT_LT(stored[2] * 4, stored[1]) << "the second dump was not stored as deltas";
  EXPECT_LT(stored[3] * 4, stored[1]) << "the third dump was not stored as deltas";
  repo.Json("forget --keep-last 1");
  repo.Json("gc --grace 0s --max-repack-ratio 0.9");
  repo.Json("gc --grace 0s --max-repack-ratio 0.9");
  CmdResult got = repo.Run("dump latest d | md5sum");
  CmdResult want = Sh(dump(3) + " | md5sum");
  EXPECT_EQ(got.out, want.out) << got.err;
  auto check = repo.Json("check --read-data");
  EXPECT_EQ(check["ok"], true) << check.dump();
}

}  // namespace
}  // namespace snap::test

// SIGKILL of snapctl at random moments of a snapshot: afterwards the
// repository passes check, holds only complete snapshots, and the next run
// completes reusing what was packed. SNAPCTL_CRASH_TRIALS sets the number of
// kills (default 6; the documented long run uses 200).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;

void MakeData(const std::string& src) {
  for (int d = 0; d < 20; ++d) {
    std::string dir = src + "/dir" + std::to_string(d);
    fsys::create_directories(dir);
    for (int f = 0; f < 30; ++f)
      WriteRandomFile(dir + "/f" + std::to_string(f), 2000 + 300 * f, d * 100 + f);
    WriteRandomFile(dir + "/big", 3 << 20, 5000 + d);
  }
}

int Trials() {
  const char* v = std::getenv("SNAPCTL_CRASH_TRIALS");
  return v ? std::atoi(v) : 6;
}

TEST(Crash, KilledSnapshotsLeaveACheckedRepositoryWithOnlyCompleteSnapshots) {
  TempDir tmp;
  std::string src = tmp.Sub("src");
  MakeData(src);
  Repo repo(tmp.path());
  std::string cmd = repo.env() + Quote(Bin()) + " --repo " + Quote(repo.dir()) +
                    " snapshot --source s=" + Quote(src);
  auto t0 = std::chrono::steady_clock::now();
  {
    TempDir probe_dir;
    Repo probe(probe_dir.path());
    probe.Json("snapshot --source s=" + Quote(src));
  }
  auto full_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - t0).count();
  std::mt19937 rng(12345);
  size_t completed = 0, killed = 0, listed = 0;
  for (int trial = 0; trial < Trials(); ++trial) {
    // Change a little each round so every run has something new to pack.
    WriteRandomFile(src + "/dir" + std::to_string(trial % 20) + "/big", 3 << 20, 9000 + trial);
    std::string err = tmp.Sub("snapshot.err");
    pid_t pid = SpawnShell(cmd, err);
    usleep(std::uniform_int_distribution<int>(0, static_cast<int>(full_us))(rng));
    kill(pid, SIGKILL);
    int code = WaitExit(pid);
    // Either the kill landed (128 + SIGKILL) or snapctl finished first: a
    // command that never ran would make every check below pass vacuously.
    ASSERT_TRUE(code == 0 || code == 128 + SIGKILL) << "exit " << code << ": " << ReadBytes(err);
    if (code == 0) completed++;
    else killed++;
    // check walks every listed snapshot: a listed one is complete. A kill
    // that lands after the commit point leaves its snapshot listed.
    CmdResult check = repo.Run("check");
    ASSERT_EQ(check.exit_code, 0) << "after kill " << trial << ": " << check.err;
    size_t now = repo.Json("list").size();
    EXPECT_TRUE(now == listed || now == listed + 1) << listed << " -> " << now;
    if (code == 0) EXPECT_EQ(now, listed + 1) << "a finished snapshot is not listed";
    listed = now;
  }
  std::cerr << "snapshot SIGKILLed " << killed << " times, finished first " << completed
            << " times\n";
  auto last = repo.Json("snapshot --source s=" + Quote(src));
  repo.Json("restore latest --target " + Quote(tmp.Sub("out")));
  EXPECT_EQ(RsyncDiff(src, tmp.Sub("out/s")), "");
  auto check = repo.Json("check --read-data");
  EXPECT_EQ(check["ok"], true) << check.dump();
}


// SIGKILL of gc at random moments, each after a forget gave it packs to
// delete and repack: every remaining snapshot still checks and restores,
// and the next gc finishes the work.
TEST(Crash, KilledGcLeavesEveryRemainingSnapshotWhole) {
  TempDir tmp;
  std::string src = tmp.Sub("src");
  MakeData(src);
  Repo repo(tmp.path());
  std::map<std::string, std::string> state_of;  // snapshot ID -> copy of its source
  auto snapshot = [&](int round) {
    WriteRandomFile(src + "/dir" + std::to_string(round % 20) + "/big", 3 << 20, 7000 + round);
    WriteRandomFile(src + "/dir" + std::to_string((round + 7) % 20) + "/f3", 5000, 8000 + round);
    std::string id = repo.Json("snapshot --source s=" + Quote(src))["id"];
    std::string copy = tmp.Sub("state-" + std::to_string(round));
    EXPECT_EQ(Sh("cp -a " + Quote(src) + " " + Quote(copy)).exit_code, 0);
    state_of[id] = copy;
  };
  for (int round = 0; round < 4; ++round) snapshot(round);
  std::string gc = repo.env() + Quote(Bin()) + " --repo " + Quote(repo.dir()) +
                   " gc --max-repack-ratio 0.9";
  auto t0 = std::chrono::steady_clock::now();
  repo.Json("forget --keep-last 3");
  repo.Json("gc --dry-run");
  auto full_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - t0).count() * 4;
  std::mt19937 rng(777);
  size_t killed = 0, finished = 0;
  for (int trial = 0; trial < Trials(); ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    snapshot(4 + trial);
    repo.Json("forget --keep-last 3");
    std::string err = tmp.Sub("gc.err");
    pid_t pid = SpawnShell(gc, err);
    usleep(std::uniform_int_distribution<int>(0, static_cast<int>(full_us))(rng));
    kill(pid, SIGKILL);
    int code = WaitExit(pid);
    ASSERT_TRUE(code == 0 || code == 128 + SIGKILL) << "exit " << code << ": " << ReadBytes(err);
    if (code == 0) finished++;
    else killed++;
    CmdResult check = repo.Run("check");
    ASSERT_EQ(check.exit_code, 0) << check.err;
  }
  std::cerr << "gc SIGKILLed " << killed << " times, finished first " << finished << " times\n";
  repo.Json("gc");
  auto check = repo.Json("check --read-data");
  EXPECT_EQ(check["ok"], true) << check.dump();
  auto list = repo.Json("list");
  ASSERT_EQ(list.size(), 3u);
  for (const auto& snap : list) {
    std::string id = snap["id"], out = tmp.Sub("out-" + id.substr(0, 8));
    repo.Json("restore " + id + " --target " + Quote(out));
    ASSERT_TRUE(state_of.contains(id));
    EXPECT_EQ(RsyncDiff(state_of[id], out + "/s"), "") << id;
  }
}

}  // namespace
}  // namespace snap::test

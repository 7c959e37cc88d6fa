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
#include <random>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;

pid_t Spawn(const std::string& cmd) {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >/dev/null 2>&1").c_str(), nullptr);
    _exit(127);
  }
  return pid;
}

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
  size_t completed = 0;
  for (int trial = 0; trial < Trials(); ++trial) {
    // Change a little each round so every run has something new to pack.
    WriteRandomFile(src + "/dir" + std::to_string(trial % 20) + "/big", 3 << 20, 9000 + trial);
    pid_t pid = Spawn(cmd);
    usleep(std::uniform_int_distribution<int>(0, static_cast<int>(full_us))(rng));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) completed++;
    CmdResult check = repo.Run("check");
    ASSERT_EQ(check.exit_code, 0) << "after kill " << trial << ": " << check.err;
    auto list = repo.Json("list");
    EXPECT_EQ(list.size(), completed) << "a killed snapshot became visible";
  }
  auto last = repo.Json("snapshot --source s=" + Quote(src));
  repo.Json("restore latest --target " + Quote(tmp.Sub("out")));
  EXPECT_EQ(RsyncDiff(src, tmp.Sub("out/s")), "");
  auto check = repo.Json("check --read-data");
  EXPECT_EQ(check["ok"], true) << check.dump();
}

}  // namespace
}  // namespace snap::test

// A full disk under a repository and under a replica. The disk is a small
// tmpfs mounted by the test (CI runs as root); where mounting is not
// allowed, RLIMIT_FSIZE on the command (prlimit --fsize, SIGXFSZ ignored)
// makes its writes fail with EFBIG through the same code paths instead.
// A snapshot or push that runs out of space fails naming the file and the
// errno text, leaves the repository valid, and succeeds once space is
// freed. SNAPCTL_FAULT_TRIALS sets the number of fills (tests/README.md).
#include <sys/mount.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "tests/support/e2e_util.h"
#include "tests/support/replica_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fs = std::filesystem;

// A directory whose free space the test sets.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& dir) : dir_(dir) {
    fs::create_directories(dir_);
    // SNAPCTL_FAULT_NO_MOUNT=1 tries the fallback where mounting works.
    const char* no_mount = std::getenv("SNAPCTL_FAULT_NO_MOUNT");
    tmpfs_ = !(no_mount && *no_mount) &&
             ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=256m,mode=0755") == 0;
    if (!tmpfs_)
      std::cerr << "no tmpfs on " << dir_ << " ("
                << (no_mount && *no_mount ? "SNAPCTL_FAULT_NO_MOUNT" : std::strerror(errno))
                << "): limiting file sizes instead\n";
  }
  ~SmallDisk() {
    if (tmpfs_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  const std::string& path() const { return dir_; }
  bool tmpfs() const { return tmpfs_; }
  // What a write past the space left reports.
  std::string ErrnoText() const { return std::strerror(tmpfs_ ? ENOSPC : EFBIG); }

  // Leaves about `bytes` for further writes: the tmpfs shrinks to what it
  // holds plus `bytes`; else each file of a Wrap()ped command may grow to
  // `bytes`.
  void Leave(uint64_t bytes) {
    if (!tmpfs_) {
      limit_ = bytes;
      return;
    }
    Remount(Used() + bytes);
  }
  // Bytes in use on the tmpfs (0 without one).
  uint64_t Used() const {
    struct statvfs st;
    if (!tmpfs_ || ::statvfs(dir_.c_str(), &st) != 0) return 0;
    return (st.f_blocks - st.f_bfree) * st.f_frsize;
  }
  // A shell command that does Leave(bytes) when it runs (e.g. as a
  // snapshot's pre hook, once the repository and its index are open).
  std::string LeaveCommand(uint64_t bytes) const {
    return "set -- $(stat -f -c '%b %f %S' " + Quote(dir_) +
           "); mount -o remount,size=$(( ($1 - $2) * $3 + " + std::to_string(bytes) + " )) " +
           Quote(dir_);
  }
  void Free() {
    limit_ = 0;
    if (tmpfs_) Remount(Used() + (256u << 20));
  }
  // `cmd` (a shell command line) under the file size limit, if any.
  std::string Wrap(const std::string& env, const std::string& cmd) const {
    if (limit_ == 0) return env + cmd;
    return "trap '' XFSZ; " + env + "prlimit --fsize=" + std::to_string(limit_) + " " + cmd;
  }

 private:
  void Remount(uint64_t size) {
    std::string opts = "size=" + std::to_string(size);
    ASSERT_EQ(::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, opts.c_str()), 0)
        << "remount " << opts << ": " << std::strerror(errno);
  }

  std::string dir_;
  bool tmpfs_ = false;
  uint64_t limit_ = 0;
};

CmdResult RunOn(const SmallDisk& disk, const Repo& repo, const std::string& args) {
  return Sh(disk.Wrap(repo.env(), Quote(Bin()) + " --repo " + Quote(repo.dir()) + " " + args));
}

// `files` random files of `each` bytes in a new directory.
std::string MakeSource(const std::string& dir, int files, size_t each, uint32_t seed) {
  fs::create_directories(dir);
  for (int i = 0; i < files; i++)
    WriteRandomFile(dir + "/f" + std::to_string(i), each, seed * 100 + i);
  return dir;
}

// Temp files (".tmp-") left anywhere below `dir`.
std::vector<std::string> Leftovers(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& f : FilesUnder(dir))
    if (f.find(".tmp-") != std::string::npos) out.push_back(f);
  return out;
}

// The message names a file of the repository: a pack, snapshot, index or
// key path, or the repository's config.
bool NamesAFile(const std::string& err) {
  static const std::regex file(R"((packs/[0-9a-f]{2}/[0-9a-f]+|snapshots/[0-9a-f]+|index/\S+|/\S+))");
  return std::regex_search(err, file);
}

uint64_t LargestFile(const std::string& dir) {
  uint64_t most = 0;
  for (const auto& f : FilesUnder(dir)) most = std::max<uint64_t>(most, fs::file_size(f));
  return most;
}

// Room to leave for trial `trial`: none, some (less than a trial needs),
// or more than the index needs plus some of what the last trial took
// (`need`), so the disk fills at different steps (the lock, the index, a
// pack) or not at all.
uint64_t Room(int trial, uint64_t need, bool tmpfs, std::mt19937& rng) {
  uint64_t least = tmpfs ? 0 : 4096;  // a limit of 0 would be no limit
  switch (need ? trial % 3 : trial % 2) {
    case 0:
      return least;
    case 1:
      return std::uniform_int_distribution<uint64_t>(least + 4096, 4 << 20)(rng);
    default:
      // Up to what the last snapshot took, left once the index is open
      // (see `late` below): the disk fills while packs are written.
      return std::uniform_int_distribution<uint64_t>(0, need)(rng);
  }
}

TEST(FaultDisk, SnapshotOnAFullDiskFailsNamingTheFileAndTheRepositoryStaysValid) {
  TempDir tmp;
  SmallDisk disk(tmp.Sub("disk"));
  Repo repo(disk.path());
  std::vector<std::pair<std::string, std::string>> kept;  // snapshot ID, its source
  std::string first = MakeSource(tmp.Sub("src0"), 4, 256 << 10, 1);
  kept.emplace_back(repo.Json("snapshot --source www=" + Quote(first))["id"], first);
  std::mt19937 rng(31);
  std::set<std::string> failed_in;
  uint64_t need = 0;  // what the last trial's snapshot took (space, or its largest file)
  int succeeded = 0;
  for (int trial = 0; trial < FaultTrials(3); trial++) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    std::string src = MakeSource(tmp.Sub("src" + std::to_string(trial + 1)), 3, 2 << 20, trial + 2);
    uint64_t room = Room(trial, need, disk.tmpfs(), rng);
    // Below 40 MiB free a snapshot stops before opening the index; the
    // third kind of trial leaves its room only once the index is open.
    bool late = disk.tmpfs() && need && trial % 3 == 2;
    disk.Leave(late ? 64u << 20 : room);
    SCOPED_TRACE(std::to_string(room) + " bytes left" + (late ? " after the open" : ""));
    CmdResult full = RunOn(disk, repo,
                           "snapshot --source www=" + Quote(src) +
                               (late ? " --pre " + Quote(disk.LeaveCommand(room)) : ""));
    EXPECT_LT(full.exit_code, 128) << "crashed: " << full.err;
    if (full.exit_code != 0) {
      EXPECT_NE(full.err.find(disk.ErrnoText()), std::string::npos) << full.err;
      EXPECT_TRUE(NamesAFile(full.err)) << full.err;
      failed_in.insert(full.err.substr(0, full.err.find('\n')));
      EXPECT_EQ(Leftovers(repo.dir()), std::vector<std::string>());
    }
    // Still full: the repository reads and checks as before.
    CmdResult check = RunOn(disk, repo, "check");
    EXPECT_EQ(check.exit_code, 0) << check.err;
    disk.Free();
    check = repo.Run("check");
    ASSERT_EQ(check.exit_code, 0) << check.err;
    EXPECT_EQ(repo.Json("list").size(), kept.size() + (full.exit_code == 0))
        << "a failed snapshot became visible, or a finished one is missing";
    auto& [old_id, old_src] = kept[std::uniform_int_distribution<size_t>(0, kept.size() - 1)(rng)];
    std::string out = tmp.Sub("out");
    repo.Json("restore " + old_id + " --source www --target " + Quote(out));
    EXPECT_EQ(Sh("diff -r " + Quote(old_src) + " " + Quote(out)).exit_code, 0);
    fs::remove_all(out);

    // Space freed: the same snapshot now succeeds (it did already when it fit).
    uint64_t used = disk.Used();
    if (full.exit_code == 0) {
      succeeded++;
      kept.emplace_back(repo.Json("list").back()["id"], src);
    } else {
      kept.emplace_back(repo.Json("snapshot --source www=" + Quote(src))["id"], src);
      need = disk.tmpfs() ? disk.Used() - used : LargestFile(repo.dir() + "/packs");
    }
  }
  std::cerr << succeeded << " of " << FaultTrials(3) << " snapshots fit in the space left\n";
  for (const auto& line : failed_in) std::cerr << "full disk reported as: " << line << "\n";
  EXPECT_EQ(repo.Json("check --read-data")["ok"], true);
  std::string out = tmp.Sub("out-last");
  repo.Json("restore latest --source www --target " + Quote(out));
  EXPECT_EQ(RsyncDiff(kept.back().second, out), "");
  EXPECT_EQ(Sh("diff -r " + Quote(kept.back().second) + " " + Quote(out)).exit_code, 0);
}

// A restore that runs out of space fails naming the file it was writing
// and the errno text, while the file jobs of other directories still in
// flight wind down (nothing hangs or crashes); with the space freed, the
// same restore into a fresh directory gives back every file.
TEST(FaultDisk, RestoreOntoAFullDiskFailsNamingTheFileAndSucceedsOnceFreed) {
  TempDir tmp;
  SmallDisk disk(tmp.Sub("disk"));
  Repo repo(tmp.Sub("repo"));  // the repository is not on the small disk
  std::string src = tmp.Sub("src");
  for (int d = 0; d < 40; d++)  // 25 MiB in many directories: jobs of several run at once
    MakeSource(src + "/d" + std::to_string(d), 10, 64 << 10, static_cast<uint32_t>(d + 1));
  std::string id = repo.Json("snapshot --source www=" + Quote(src))["id"];
  for (int trial = 0; trial < FaultTrials(3); trial++) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    uint64_t room = disk.tmpfs() ? (uint64_t{2} + 5 * (trial % 4)) << 20 : 16u << 10;
    disk.Leave(room);
    std::string out = disk.path() + "/out" + std::to_string(trial);
    CmdResult full = RunOn(disk, repo, "restore " + id + " --target " + Quote(out));
    EXPECT_LT(full.exit_code, 128) << "crashed: " << full.err;
    EXPECT_NE(full.exit_code, 0) << "restored 25 MiB into " << room << " bytes";
    EXPECT_NE(full.err.find(disk.ErrnoText()), std::string::npos) << full.err;
    EXPECT_TRUE(NamesAFile(full.err)) << full.err;
    disk.Free();
    fs::remove_all(out);
  }
  std::string out = disk.path() + "/out-freed";
  repo.Json("restore " + id + " --target " + Quote(out));
  EXPECT_EQ(Sh("diff -r " + Quote(src) + " " + Quote(out + "/www")).exit_code, 0);
}

std::set<std::string> ReplicaIds(const Replicad& replicad) {
  CmdResult r = replicad.Run("list --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> out;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded()) return out;
  for (const auto& repo : j["repositories"])
    for (const auto& s : repo["snapshots"]) out.insert(s["id"].get<std::string>());
  return out;
}

TEST(FaultDisk, ReplicaOnAFullDiskRefusesThePushAndTakesItOnceFreed) {
  TempDir tmp;
  SmallDisk disk(tmp.Sub("disk"));
  if (!disk.tmpfs()) GTEST_SKIP() << "needs a tmpfs mount (run as root)";
  Repo repo(tmp.path());
  Replicad replicad(disk.path() + "/replica");
  replicad.AllowPush(Trim(repo.Run("identity").out));
  replicad.Start();
  CmdResult add = repo.Run("peer add backup " + replicad.url() + " --fingerprint " +
                           replicad.fingerprint());
  ASSERT_EQ(add.exit_code, 0) << add.err;
  std::string src = MakeSource(tmp.Sub("src0"), 4, 256 << 10, 1);
  repo.Json("snapshot --source www=" + Quote(src));
  repo.Json("replicate --attempts 1");
  std::mt19937 rng(41);
  std::set<std::string> refusals;
  uint64_t need = 0;  // what the last push took on the replica's disk
  for (int trial = 0; trial < FaultTrials(3); trial++) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    src = MakeSource(tmp.Sub("src" + std::to_string(trial + 1)), 3, 2 << 20, trial + 2);
    repo.Json("snapshot --source www=" + Quote(src));
    std::set<std::string> before = ReplicaIds(replicad);
    uint64_t room = Room(trial, need, true, rng);
    disk.Leave(room);
    SCOPED_TRACE(std::to_string(room) + " bytes left");
    CmdResult push = repo.Run("replicate --attempts 1");
    if (push.exit_code != 0) {
      EXPECT_NE(push.err.find("backup"), std::string::npos) << push.err;
      EXPECT_NE(replicad.log().find(disk.ErrnoText()), std::string::npos) << replicad.log();
      refusals.insert(push.err.substr(0, push.err.find('\n')));
      EXPECT_EQ(ReplicaIds(replicad), before);
      EXPECT_EQ(Leftovers(replicad.dir()), std::vector<std::string>());
    }

    disk.Free();
    uint64_t used = disk.Used();
    CmdResult again = repo.Run("replicate --attempts 1");
    ASSERT_EQ(again.exit_code, 0) << "after freeing space: " << again.err << "\n" << replicad.log();
    EXPECT_EQ(ReplicaIds(replicad).size(), before.size() + 1);
    if (push.exit_code != 0) need = disk.Used() - used;
  }
  for (const auto& line : refusals) std::cerr << "client saw: " << line << "\n";
  // The replica's copy alone restores the last source.
  fs::remove_all(repo.dir() + "/packs");
  fs::create_directories(repo.dir() + "/packs");
  repo.Run("check --rebuild-index");
  std::string out = tmp.Sub("restored");
  CmdResult r = repo.Run("restore latest --from backup --source www --target " + Quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sh("diff -r " + Quote(src) + " " + Quote(out)).exit_code, 0);
}

}  // namespace
}  // namespace snap::test

// End-to-end retention and gc on the replica: snapctl pushes to a real
// replicad on loopback; the replica admin forgets by receive time and
// collects garbage while the server runs; what is left restores from the
// replica alone, byte for byte.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "tests/support/e2e_util.h"
#include "tests/support/replica_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fs = std::filesystem;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool Exited(pid_t pid, int* code) {
  int st = 0;
  if (::waitpid(pid, &st, WNOHANG) != pid) return false;
  *code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ReplicaGc : public ::testing::Test {
 protected:
  void SetUp() override {
    replicad_ = std::make_unique<Replicad>(tmp_.Sub("replica"));
    replicad_->Start();
    replicad_->AllowPush(Trim(repo_.Run("identity").out));
    CmdResult r = repo_.Run("peer add backup " + replicad_->url() + " --fingerprint " +
                            replicad_->fingerprint());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    repo_id_ = repo_.Json("info")["repository"];
    // Shared by every state: what dedup keeps once across snapshots.
    base_ = tmp_.Sub("base");
    fs::create_directories(base_ + "/common");
    for (int i = 0; i < 8; ++i)
      WriteRandomFile(base_ + "/common/f" + std::to_string(i), 40000, 100 + i);
  }

  // A source directory: the common files plus `unique_bytes` of its own.
  std::string State(int k, size_t unique_bytes = 1000000) {
    std::string dir = tmp_.Sub("src" + std::to_string(k));
    fs::copy(base_, dir, fs::copy_options::recursive);
    WriteRandomFile(dir + "/own.bin", unique_bytes, 1000 + k);
    WriteRandomFile(dir + "/common/f0", 40000, 2000 + k);  // an edit of a shared file
    return dir;
  }
  // Takes a snapshot of `src` claiming `claimed` as its time; returns its ID.
  std::string Snapshot(const std::string& src, const std::string& claimed) {
    nlohmann::json j = repo_.Json("snapshot --source www=" + Quote(src) + " --time " + claimed);
    return j["id"];
  }
  void Replicate() {
    CmdResult r = repo_.Run("replicate --attempts 1");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  nlohmann::json Listing() {
    CmdResult r = replicad_->Run("list --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json all = nlohmann::json::parse(r.out);
    for (const auto& repo : all["repositories"])
      if (repo["id"] == repo_id_) return repo;
    ADD_FAILURE() << "the replica lists no repository " << repo_id_ << ": " << r.out << r.err;
    return {};
  }
  std::set<std::string> Listed() {
    std::set<std::string> out;
    nlohmann::json repo = Listing();
    for (const auto& s : repo["snapshots"]) out.insert(s["id"].get<std::string>());
    return out;
  }
  nlohmann::json Admin(const std::string& args) {
    CmdResult r = replicad_->Run(args + " --repo " + repo_id_ + " --json");
    EXPECT_EQ(r.exit_code, 0) << args << ": " << r.err;
    return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json();
  }
  uint64_t ReplicaPackBytes() {
    return DirBytes(replicad_->dir() + "/repos/" + repo_id_ + "/packs");
  }

  // Snapshot `id` restores from the replica alone (a fresh cache, no local
  // repository) to exactly `src`.
  void ExpectRestoresFromReplica(const std::string& id, const std::string& src) {
    std::string key = tmp_.Sub("exported.key");
    if (!fs::exists(key)) {
      CmdResult e = Sh(repo_.env() + Quote(Bin()) + " --repo " + Quote(repo_.dir()) +
                       " key export > " + Quote(key));
      ASSERT_EQ(e.exit_code, 0) << e.err;
    }
    std::string out = tmp_.Sub("out-" + id.substr(0, 12)), cache = tmp_.Sub("cache");
    fs::remove_all(out);
    fs::remove_all(cache);
    CmdResult r = Sh(repo_.env() + "SNAPCTL_CACHE_DIR=" + Quote(cache) + " " + Quote(Bin()) +
                     " restore " + id + " --from " + replicad_->url() + "/" + repo_id_ +
                     " --fingerprint " + replicad_->fingerprint() + " --key-file " + Quote(key) +
                     " --source www --target " + Quote(out));
    ASSERT_EQ(r.exit_code, 0) << "snapshot " << id << ": " << r.err;
    EXPECT_EQ(RsyncDiff(src, out), "");
    EXPECT_EQ(Sh("diff -r " + Quote(src) + " " + Quote(out)).exit_code, 0);
  }

  TempDir tmp_;
  Repo repo_{tmp_.path()};
  std::unique_ptr<Replicad> replicad_;
  std::string repo_id_, base_;
};

TEST_F(ReplicaGc, ForgetCountsReceiveTimesAndGcReclaimsWhatOnlyForgottenSnapshotsHeld) {
  // The client claims times years apart, all long past; the replica
  // receives them within minutes.
  std::vector<std::string> src, ids;
  for (int k = 0; k < 4; ++k) {
    src.push_back(State(k));
    ids.push_back(Snapshot(src[k], "200" + std::to_string(k + 1) + "-06-01T03:00"));
    Replicate();
  }
  ASSERT_EQ(Listed(), std::set<std::string>(ids.begin(), ids.end()));

  // By the claimed times only the newest is within a day of the newest...
  nlohmann::json local = repo_.Json("forget --keep-within 1d --dry-run");
  EXPECT_EQ(local["would_remove"], 3);
  // ...by the replica's, all four are: old claims prune nothing there.
  nlohmann::json dry = Admin("forget --keep-within 1d --dry-run");
  EXPECT_EQ(dry["would_remove"], 0) << dry.dump();
  for (const auto& s : dry["snapshots"]) EXPECT_EQ(s["reasons"][0], "within 1d") << dry.dump();
  EXPECT_EQ(Listed().size(), 4u);

  nlohmann::json forgot = Admin("forget --keep-last 2");
  EXPECT_EQ(forgot["removed"], 2) << forgot.dump();
  EXPECT_EQ(Listed(), (std::set<std::string>{ids[2], ids[3]}));

  uint64_t before = ReplicaPackBytes();
  nlohmann::json dry_gc = Admin("gc --dry-run");
  EXPECT_EQ(ReplicaPackBytes(), before);
  nlohmann::json gc = Admin("gc");
  EXPECT_GT(gc["reclaimed_bytes"].get<uint64_t>(), 2000000u) << gc.dump();
  EXPECT_EQ(gc["deleted_packs"], dry_gc["deleted_packs"]) << dry_gc.dump();
  EXPECT_EQ(gc["repacked_packs"], dry_gc["repacked_packs"]) << dry_gc.dump();
  uint64_t after = ReplicaPackBytes();
  std::cerr << "replica packs: " << before << " -> " << after << " bytes\n";
  EXPECT_EQ(after, before - gc["reclaimed_bytes"].get<uint64_t>());
  EXPECT_EQ(Admin("gc")["deleted_packs"], 0);  // nothing left

  ExpectRestoresFromReplica(ids[2], src[2]);
  ExpectRestoresFromReplica(ids[3], src[3]);

  // The owner forgets the same locally (its policy keeps no more than the
  // replica's), takes a new snapshot and pushes it over the collected replica.
  ASSERT_EQ(repo_.Run("forget --keep-last 2").exit_code, 0);
  src.push_back(State(4));
  ids.push_back(Snapshot(src[4], "2005-06-01T03:00"));
  Replicate();
  EXPECT_EQ(Listed(), (std::set<std::string>{ids[2], ids[3], ids[4]}));
  Admin("gc");
  ExpectRestoresFromReplica(ids[4], src[4]);
  ExpectRestoresFromReplica(ids[2], src[2]);
}

TEST_F(ReplicaGc, APushWhileTheAdminHoldsTheRepositoryIsRetriedLater) {
  std::string src1 = State(1);
  Snapshot(src1, "2026-01-01");
  Replicate();
  std::string src2 = State(2);
  std::string id2 = Snapshot(src2, "2026-01-02");

  // What `replicad gc` holds while it runs: the repository's lock.
  std::string lock_path = replicad_->dir() + "/repos/" + repo_id_ + "/lock";
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  ASSERT_EQ(::ftruncate(fd, 0), 0);
  ASSERT_EQ(::write(fd, "gc 1\n", 5), 5);

  CmdResult refused = repo_.Run("replicate --attempts 1");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("in use by gc (pid 1)"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("retry later"), std::string::npos) << refused.err;

  std::string err = tmp_.Sub("replicate.err");
  pid_t pid = SpawnShell(repo_.env() + Quote(Bin()) + " --repo " + Quote(repo_.dir()) +
                             " replicate --attempts 5 --backoff 1",
                         err);
  while (ReadFile(err).find("retrying") == std::string::npos) {
    int code;
    ASSERT_FALSE(Exited(pid, &code)) << ReadFile(err);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::close(fd);  // the admin command is done
  EXPECT_EQ(WaitExit(pid), 0) << ReadFile(err);
  EXPECT_TRUE(Listed().count(id2));
  ExpectRestoresFromReplica(id2, src2);
}

TEST_F(ReplicaGc, GcWhileAPushRunsLosesNothing) {
  std::string src1 = State(1);
  std::string id1 = Snapshot(src1, "2026-01-01");
  Replicate();
  // A push long enough for gc runs to meet it.
  std::string src2 = State(2, 48u << 20);
  std::string id2 = Snapshot(src2, "2026-01-02");
  std::string src3 = State(3, 16u << 20);
  std::string id3 = Snapshot(src3, "2026-01-03");

  auto sessions = [&] {
    std::string log = replicad_->log();
    size_t n = 0;
    for (size_t at = log.find("push repository"); at != std::string::npos;
         at = log.find("push repository", at + 1))
      n++;
    return n;
  };
  size_t before = sessions();
  std::string err = tmp_.Sub("replicate.err");
  pid_t pid = SpawnShell(repo_.env() + Quote(Bin()) + " --repo " + Quote(repo_.dir()) +
                             " replicate --attempts 6 --backoff 1",
                         err);
  int code = -1;
  bool exited = false;
  while (!(exited = Exited(pid, &code)) && sessions() == before)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // The push's session holds the repository: the first gc waits for it (or
  // comes after it); later ones may make its retries wait for them.
  int gc_runs = 0;
  do {
    CmdResult r = replicad_->Run("gc --repo " + repo_id_ + " --max-repack-ratio 1");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    if (r.err.find("waiting") != std::string::npos) std::cerr << "gc waited for the push\n";
    CmdResult f = replicad_->Run("forget --repo " + repo_id_ + " --keep-last 10");
    EXPECT_EQ(f.exit_code, 0) << f.err;
    gc_runs++;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a retry's chance
    if (!exited) exited = Exited(pid, &code);
  } while (!exited && gc_runs < 4);
  if (!exited) code = WaitExit(pid);
  EXPECT_EQ(code, 0) << ReadFile(err);
  std::cerr << gc_runs << " gc runs met the push\n";
  CmdResult r = replicad_->Run("gc --repo " + repo_id_ + " --max-repack-ratio 1");
  EXPECT_EQ(r.exit_code, 0) << r.err;

  EXPECT_EQ(Listed(), (std::set<std::string>{id1, id2, id3}));
  ExpectRestoresFromReplica(id1, src1);
  ExpectRestoresFromReplica(id2, src2);
  ExpectRestoresFromReplica(id3, src3);
  // A new push after it all needs nothing the gc runs took.
  CmdResult again = repo_.Run("replicate --attempts 1 --json");
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

}  // namespace
}  // namespace snap::test

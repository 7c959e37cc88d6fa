// Faults during replication, with the real binaries: `snapctl replicate`
// or `replicad serve` SIGKILLed at random moments of a transfer, and
// hostile connections (garbage instead of TLS, a silent slow-loris) beside
// a real push. Afterwards both sides are consistent, the next run
// completes, and a restore from the replica is identical to the source.
// SNAPCTL_FAULT_TRIALS sets the number of kills per test (tests/README.md).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/e2e_util.h"
#include "tests/support/replica_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fs = std::filesystem;
using Ids = std::set<std::string>;

bool Contains(const Ids& big, const Ids& small) {
  return std::includes(big.begin(), big.end(), small.begin(), small.end());
}

std::string Show(const Ids& ids) {
  std::string out;
  for (const auto& id : ids) out += id.substr(0, 12) + " ";
  return out;
}

int64_t MicrosSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

// A TCP connection to 127.0.0.1:port, or -1.
int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// "127.0.0.1:PORT" of our end of `fd`: how the replica's log names us.
std::string LocalAddress(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

// Waits (up to a generous bound, so a broken replica fails the test
// instead of hanging it) until the peer closes `fd`.
bool ClosedByPeer(int fd) {
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 120000) <= 0) return false;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return true;  // EOF or reset
  }
}

class FaultReplication : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_.Sub("src");
    for (int i = 0; i < 60; i++) {
      std::string dir = src_ + "/d" + std::to_string(i % 6);
      fs::create_directories(dir);
      WriteRandomFile(dir + "/f" + std::to_string(i), 8192 + (i * 7919) % 32768, 100 + i);
    }
    WriteRandomFile(src_ + "/big.bin", 3 << 20, 1);
    replicad_ = std::make_unique<Replicad>(tmp_.Sub("replica"));
    replicad_->AllowPush(Trim(repo_.Run("identity").out));
  }

  // Starts replicad and points the peer at it (its port is new each start).
  void Serve(const std::vector<std::string>& extra = {}) {
    replicad_->Start(extra);
    repo_.Run("peer remove backup");  // absent the first time
    CmdResult r = repo_.Run("peer add backup " + replicad_->url() + " --fingerprint " +
                            replicad_->fingerprint());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // New content: a fresh big file of `bytes` and three small files changed.
  void ChangeSource(uint32_t seed, size_t bytes) {
    WriteRandomFile(src_ + "/big.bin", bytes, seed);
    for (int i = 0; i < 3; i++)
      WriteRandomFile(src_ + "/d" + std::to_string(i) + "/f" + std::to_string(i), 9000,
                      seed * 10 + i);
  }

  std::string Snapshot() {
    return repo_.Json("snapshot --source www=" + Quote(src_))["id"].get<std::string>();
  }

  nlohmann::json Replicate() {
    nlohmann::json j = repo_.Json("replicate --attempts 1");
    return j.is_array() && !j.empty() ? j[0] : nlohmann::json();
  }

  std::string ReplicateCommand() const {
    return repo_.env() + Quote(Bin()) + " --repo " + Quote(repo_.dir()) +
           " replicate --attempts 1";
  }

  Ids LocalIds() const {
    Ids out;
    for (const auto& s : repo_.Json("list")) out.insert(s["id"].get<std::string>());
    return out;
  }

  nlohmann::json ReplicaListing() const {
    CmdResult r = replicad_->Run("list --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || j["repositories"].empty()) return nlohmann::json::object();
    return j["repositories"][0];
  }

  Ids ReplicaIds() const {
    Ids out;
    nlohmann::json repo = ReplicaListing();
    if (repo.contains("snapshots"))
      for (const auto& s : repo["snapshots"]) out.insert(s["id"].get<std::string>());
    return out;
  }

  uint64_t ReplicaPackBytes() const {
    nlohmann::json repo = ReplicaListing();
    return repo.contains("pack_bytes") ? repo["pack_bytes"].get<uint64_t>() : 0;
  }

  uint64_t LocalPackBytes() const { return repo_.Json("info")["pack_bytes"]; }

  // Snapshot `id` as the replica holds it restores to the current source,
  // fetched into a fresh cache over a read session (no local pack helps).
  void ExpectReplicaRestores(const std::string& id) {
    std::string key = tmp_.Sub("exported.key");
    if (!fs::exists(key)) {
      CmdResult exported = Sh(repo_.env() + Quote(Bin()) + " --repo " + Quote(repo_.dir()) +
                              " key export > " + Quote(key));
      ASSERT_EQ(exported.exit_code, 0) << exported.err;
    }
    std::string out = tmp_.Sub("check-restore"), cache = tmp_.Sub("check-cache");
    fs::remove_all(out);
    fs::remove_all(cache);
    std::string repo_id = repo_.Json("info")["repository"];
    CmdResult r = Sh(repo_.env() + "SNAPCTL_CACHE_DIR=" + Quote(cache) + " " + Quote(Bin()) +
                     " restore " + id + " --from " + replicad_->url() + "/" + repo_id +
                     " --fingerprint " + replicad_->fingerprint() + " --key-file " + Quote(key) +
                     " --source www --target " + Quote(out));
    ASSERT_EQ(r.exit_code, 0) << "snapshot " << id << " listed by the replica: " << r.err;
    EXPECT_EQ(RsyncDiff(src_, out), "");
    EXPECT_EQ(Sh("diff -r " + Quote(src_) + " " + Quote(out)).exit_code, 0);
  }

  // The local packs are lost; the latest snapshot comes back from the
  // replica through the peer, byte for byte.
  void ExpectLatestRestoresFromTheReplicaAlone() {
    fs::remove_all(repo_.dir() + "/packs");
    fs::create_directories(repo_.dir() + "/packs");
    CmdResult rebuild = repo_.Run("check --rebuild-index");  // fails: the packs are gone
    std::string out = tmp_.Sub("restored");
    CmdResult r =
        repo_.Run("restore latest --from backup --target " + Quote(out) + " --source www");
    ASSERT_EQ(r.exit_code, 0) << r.err << "\n(rebuild: " << rebuild.err << ")";
    EXPECT_EQ(RsyncDiff(src_, out), "");
    EXPECT_EQ(Sh("diff -r " + Quote(src_) + " " + Quote(out)).exit_code, 0);
  }

  TempDir tmp_;
  Repo repo_{tmp_.path()};
  std::string src_;
  std::unique_ptr<Replicad> replicad_;
};

TEST_F(FaultReplication, KilledReplicateLeavesBothSidesConsistentAndTheNextRunCompletes) {
  Serve();
  Snapshot();
  ASSERT_TRUE(Replicate()["ok"]);
  // A trial's transfer, timed whole: the kills land anywhere within it.
  ChangeSource(999, 3 << 20);
  Snapshot();
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Replicate()["ok"]);
  int64_t full_us = MicrosSince(t0);
  std::mt19937 rng(2024);
  int killed = 0, finished = 0, mid_transfer = 0;
  for (int trial = 0; trial < FaultTrials(5); trial++) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    ChangeSource(1000 + trial, 3 << 20);
    std::string id = Snapshot();
    Ids before = ReplicaIds();
    uint64_t replica_bytes = ReplicaPackBytes();
    pid_t pid = SpawnShell(ReplicateCommand());
    usleep(std::uniform_int_distribution<int64_t>(0, full_us)(rng));
    kill(pid, SIGKILL);
    int code = WaitExit(pid);
    EXPECT_TRUE(code == 0 || code == 128 + SIGKILL) << "replicate exited " << code;
    (code == 0 ? finished : killed)++;

    CmdResult check = repo_.Run("check");
    ASSERT_EQ(check.exit_code, 0) << check.err;
    Ids local = LocalIds(), held = ReplicaIds();
    EXPECT_TRUE(Contains(local, held)) << "replica " << Show(held) << "local " << Show(local);
    EXPECT_TRUE(Contains(held, before)) << "the replica lost a snapshot";
    if (code != 0 && held == before && ReplicaPackBytes() > replica_bytes) mid_transfer++;
    // Listed means complete: what the killed run committed restores whole.
    for (const auto& got : held)
      if (!before.contains(got)) {
        EXPECT_EQ(got, id);
        ExpectReplicaRestores(got);
      }

    nlohmann::json next = Replicate();
    ASSERT_TRUE(next["ok"]) << next.dump();
    EXPECT_EQ(ReplicaIds(), LocalIds());
  }
  std::cerr << "replicate SIGKILLed " << killed << " times, " << mid_transfer
            << " of them mid-transfer (the replica kept frames of an uncommitted snapshot); "
            << finished << " runs finished first\n";
  EXPECT_EQ(repo_.Json("status")[0]["queued"], 0);
  ExpectLatestRestoresFromTheReplicaAlone();
}

TEST_F(FaultReplication, KilledReplicaRestartsKeepsWhatItCommittedAndTheNextRunCompletes) {
  const int kSnapshots = 3;  // per trial: each commit makes what came before it durable
  Serve();
  Snapshot();
  ASSERT_TRUE(Replicate()["ok"]);
  // A trial's transfer, timed whole: the kills land anywhere within it.
  for (int k = 0; k < kSnapshots; k++) {
    ChangeSource(4000 + k, 2 << 20);
    Snapshot();
  }
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(Replicate()["ok"]);
  int64_t full_us = MicrosSince(t0);
  std::mt19937 rng(77);
  int kept_some = 0;
  for (int trial = 0; trial < FaultTrials(4); trial++) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    Ids before = ReplicaIds();
    uint64_t replica_bytes = ReplicaPackBytes();
    std::vector<uint64_t> added;
    for (int k = 0; k < kSnapshots; k++) {
      uint64_t packed = LocalPackBytes();
      ChangeSource(5000 + trial * kSnapshots + k, 2 << 20);
      Snapshot();
      added.push_back(LocalPackBytes() - packed);
    }
    std::string err = tmp_.Sub("replicate.err");
    pid_t pid = SpawnShell(ReplicateCommand(), err);
    usleep(std::uniform_int_distribution<int64_t>(0, full_us)(rng));
    replicad_->Kill();
    int code = WaitExit(pid);
    if (code != 0) {
      EXPECT_NE(ReadBytes(err).find("backup"), std::string::npos) << ReadBytes(err);
    }

    Serve();  // the replica restarts on a new port
    Ids local = LocalIds(), held = ReplicaIds();
    EXPECT_TRUE(Contains(held, before)) << "the replica lost a snapshot";
    EXPECT_TRUE(Contains(local, held));
    EXPECT_GE(ReplicaPackBytes(), replica_bytes) << "the replica lost packs";

    nlohmann::json next = Replicate();
    ASSERT_TRUE(next["ok"]) << next.dump();
    EXPECT_EQ(ReplicaIds(), local);
    size_t committed = held.size() - before.size();  // oldest first
    EXPECT_EQ(next["snapshots_sent"].get<size_t>(), local.size() - held.size());
    uint64_t rest = 0;
    for (size_t k = committed; k < added.size(); k++) rest += added[k];
    // What arrived before the kill stays: only the rest travels again.
    EXPECT_LE(next["frame_bytes"].get<uint64_t>(), rest + rest / 20 + 65536)
        << committed << " of " << kSnapshots << " snapshots were held before";
    if (committed > 0) kept_some++;
  }
  std::cerr << "replicad SIGKILLed " << FaultTrials(4) << " times; " << kept_some
            << " times it had committed part of the run\n";
  ExpectLatestRestoresFromTheReplicaAlone();
}

// Garbage instead of a TLS handshake, over and over, and a client that
// connects and says nothing, while a real push runs: the push succeeds,
// both offenders are cut and the replica's log names them.
TEST_F(FaultReplication, GarbageAndSilentClientsAreCutAndLoggedWhileAPushSucceeds) {
  Serve({"--handshake-timeout", "1"});
  std::set<std::string> garbage_from, silent_from;
  std::mt19937 rng(5);
  for (int trial = 0; trial < FaultTrials(2); trial++) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    ChangeSource(9000 + trial, 3 << 20);
    Snapshot();
    int silent = Connect(replicad_->port());
    ASSERT_GE(silent, 0);
    silent_from.insert(LocalAddress(silent));

    std::atomic<bool> stop{false};
    std::atomic<int> cut{0};
    std::mutex mu;
    // Up to `n` garbage connections, one after the other, until `stop`.
    auto offend = [&](int n) {
      // Not a TLS record (those start with 0x16), so the handshake fails at once.
      std::string junk = "GET / HTTP/1.1\r\n";
      while (junk.size() < 65536) junk += static_cast<char>(rng());
      do {
        int fd = Connect(replicad_->port());
        if (fd < 0) break;
        {
          std::lock_guard<std::mutex> lock(mu);
          garbage_from.insert(LocalAddress(fd));
        }
        (void)::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
        if (ClosedByPeer(fd)) cut++;
        ::close(fd);
      } while (--n > 0 && !stop);
    };
    offend(1);  // once before the push, then along it
    std::thread offender(offend, 300);
    nlohmann::json r = Replicate();
    stop = true;
    offender.join();
    EXPECT_TRUE(r["ok"]) << r.dump();
    EXPECT_GE(cut.load(), 1);
    EXPECT_TRUE(ClosedByPeer(silent)) << "the silent client was never cut";
    ::close(silent);
  }
  EXPECT_EQ(ReplicaIds(), LocalIds());
  std::string log = replicad_->log();
  for (const auto& who : silent_from)
    EXPECT_NE(log.find(who + ": timed out after 1 s waiting for the TLS handshake"),
              std::string::npos)
        << who << "\n"
        << log;
  size_t logged = 0;
  for (const auto& who : garbage_from)
    if (log.find(who + ": TLS handshake failed") != std::string::npos) logged++;
  EXPECT_EQ(logged, garbage_from.size()) << log;
  std::cerr << garbage_from.size() << " garbage connections, " << silent_from.size()
            << " silent ones, all cut and logged\n";
  ExpectLatestRestoresFromTheReplicaAlone();
}

}  // namespace
}  // namespace snap::test

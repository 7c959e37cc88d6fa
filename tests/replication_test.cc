// End-to-end replication: snapctl against a real replicad on loopback.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

#include "engine/repo/snapshot_object.h"
#include "replicator/client/peers.h"
#include "replicator/client/session.h"
#include "tests/support/e2e_util.h"
#include "tests/support/replica_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fs = std::filesystem;

// A source tree of `files` random files of 8-40 KiB in a few directories.
void MakeTree(const std::string& root, int files, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < files; i++) {
    std::string dir = root + "/d" + std::to_string(i % 10) + "/e" + std::to_string(i % 3);
    fs::create_directories(dir);
    WriteRandomFile(dir + "/f" + std::to_string(i), 8192 + rng() % 32768, seed * 1000 + i);
  }
}

// Sizes of every file under `dir` by path: what a refused client must not change.
std::map<std::string, uintmax_t> Listing(const std::string& dir) {
  std::map<std::string, uintmax_t> out;
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    std::string p = e.path().string();
    if (p.find("/index/") != std::string::npos) continue;  // RocksDB's own logs move
    out[p] = e.is_regular_file() ? e.file_size() : 0;
  }
  return out;
}

std::string RepoId(const Repo& repo) { return repo.Json("info")["repository"]; }

uint64_t PackBytes(const Repo& repo) { return repo.Json("info")["pack_bytes"]; }

class Replication : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_.Sub("src");
    MakeTree(src_, 100, 1);
    replicad_ = std::make_unique<Replicad>(tmp_.Sub("replica"));
    replicad_->Start();
    key_ = Trim(repo_.Run("identity").out);
    replicad_->AllowPush(key_);
  }

  void AddPeer(const std::string& url) {
    CmdResult r = repo_.Run("peer add backup " + url + " --fingerprint " + replicad_->fingerprint());
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void Snapshot() {
    CmdResult r = repo_.Run("snapshot --source www=" + Quote(src_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  nlohmann::json Replicate(const std::string& extra = "") {
    nlohmann::json j = repo_.Json("replicate --attempts 1 " + extra);
    return j.is_array() && !j.empty() ? j[0] : nlohmann::json();
  }

  TempDir tmp_;
  Repo repo_{tmp_.path()};
  std::string src_, key_;
  std::unique_ptr<Replicad> replicad_;
};

TEST_F(Replication, IncrementalPushSendsAboutWhatTheSnapshotAdded) {
  AddPeer(replicad_->url());
  Snapshot();
  nlohmann::json first = Replicate();
  ASSERT_TRUE(first["ok"]) << first.dump();
  EXPECT_EQ(first["snapshots_sent"], 1);

  // Change 1% of the files (one of 100), then snapshot again.
  WriteRandomFile(src_ + "/d3/e0/f3", 30000, 777);
  uint64_t before = PackBytes(repo_);
  Snapshot();
  uint64_t added = PackBytes(repo_) - before;
  nlohmann::json second = Replicate();
  ASSERT_TRUE(second["ok"]) << second.dump();
  uint64_t sent = second["bytes_sent"];
  // The new chunks and trees as packed (their compressed, sealed frames),
  // plus the snapshot object and the protocol's questions.
  EXPECT_LE(sent, added * 11 / 10 + 4096) << "added " << added << " sent " << sent;
  std::cerr << "second replication: snapshot added " << added << " bytes of packs, " << sent
            << " bytes sent\n";
  EXPECT_GT(sent, added / 2);

  nlohmann::json third = Replicate();
  ASSERT_TRUE(third["ok"]);
  EXPECT_EQ(third["snapshots_sent"], 0);
  EXPECT_LE(third["bytes_sent"].get<uint64_t>(), 8u * 1024) << third.dump();

  CmdResult list = replicad_->Run("list --json");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find(RepoId(repo_)), std::string::npos);
}

// A change spread over the tree is walked a level at a time: one HAVE
// round trip per level of the walk, not one per changed directory (the
// tree is root/dN/eM/files; ten files changed in ten directories used to
// cost 22 round trips).
TEST_F(Replication, AChangeInManyDirectoriesCostsOneHaveRoundTripPerLevel) {
  // Small files at every depth: a level of the walk holds both slices and
  // the bundles that slices of the level above are cut from, which must
  // reach the replica before any slice of theirs.
  for (int i = 0; i < 40; i++) {
    WriteRandomFile(src_ + "/top" + std::to_string(i), 1000 + i * 50, 500 + i);
    WriteRandomFile(src_ + "/d" + std::to_string(i % 10) + "/mid" + std::to_string(i),
                    1000 + i * 70, 600 + i);
  }
  AddPeer(replicad_->url());
  Snapshot();
  nlohmann::json first = Replicate();
  ASSERT_TRUE(first["ok"]) << first.dump();
  for (int i = 0; i < 10; i++)  // f0..f9 are in d0..d9
    WriteRandomFile(src_ + "/d" + std::to_string(i) + "/e" + std::to_string(i % 3) + "/f" +
                        std::to_string(i),
                    20000, 900 + i);
  Snapshot();
  nlohmann::json r = Replicate();
  ASSERT_TRUE(r["ok"]) << r.dump();
  std::cerr << "ten directories changed: " << r["have_round_trips"] << " HAVE round trips, "
            << r["ids_asked"] << " IDs asked\n";
  // Levels: the snapshot's roots, root's children, dN's, eM's (the files'
  // chunks), and the bundles of chunks stored as slices.
  EXPECT_LE(r["have_round_trips"].get<uint64_t>(), 6u) << r.dump();
  EXPECT_GE(r["have_round_trips"].get<uint64_t>(), 4u) << r.dump();
  EXPECT_EQ(r["have_batches"], r["have_round_trips"]) << r.dump();

  // The replica holds all of it, children before parents: with the local
  // packs gone, a restore from it matches the source.
  std::string out = tmp_.Sub("from-replica");
  fs::remove_all(repo_.dir() + "/packs");
  fs::create_directories(repo_.dir() + "/packs");
  repo_.Run("check --rebuild-index");
  CmdResult res = repo_.Run("restore latest --from backup --source www --target " + Quote(out));
  ASSERT_EQ(res.exit_code, 0) << res.err;
  EXPECT_EQ(RsyncDiff(src_, out), "");
  CmdResult check = replicad_->Run("check --read-data");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST_F(Replication, CutConnectionsResumeAndTheCopyRestoresIdentically) {
  CutProxy proxy(replicad_->port());
  AddPeer(proxy.url());
  Snapshot();
  std::mt19937 rng(42);
  int runs = 0;
  bool done = false;
  while (!done && runs < 40) {
    proxy.set_cut_after(20000 + rng() % 400000);  // past the handshake, inside the transfer
    CmdResult r = repo_.Run("replicate --attempts 1");
    runs++;
    done = r.exit_code == 0;
    if (!done) {
      EXPECT_NE(r.err.find("backup"), std::string::npos) << r.err;
    }
  }
  proxy.set_cut_after(0);
  if (!done) {
    ASSERT_EQ(repo_.Run("replicate --attempts 1").exit_code, 0);
  }
  EXPECT_GE(proxy.cuts(), 1u);

  // Restore from the replica through the local repository's peer.
  std::string out = tmp_.Sub("restored");
  fs::remove_all(repo_.dir() + "/packs");  // the local copy is gone: all comes from the replica
  fs::create_directories(repo_.dir() + "/packs");
  CmdResult check = repo_.Run("check --rebuild-index");
  CmdResult r = repo_.Run("restore latest --from backup --target " + Quote(out) + " --source www");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RsyncDiff(src_, out), "");
}

TEST_F(Replication, RefusesUnknownClientsWrongFingerprintsAndOverwrites) {
  AddPeer(replicad_->url());
  Snapshot();
  ASSERT_TRUE(Replicate()["ok"]);
  auto before = Listing(replicad_->dir());

  // An identity the replica never admitted.
  std::string stranger = "SNAPCTL_IDENTITY_DIR=" + Quote(tmp_.Sub("stranger")) + " ";
  CmdResult r = Sh(repo_.env() + stranger + Quote(Bin()) + " --repo " + Quote(repo_.dir()) +
                   " replicate --attempts 1");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not admitted"), std::string::npos) << r.err;
  EXPECT_NE(replicad_->log().find("not admitted"), std::string::npos);

  // The right client, a wrong pin.
  CmdResult add = repo_.Run("peer add wrongpin " + replicad_->url() +
                            " --fingerprint sha256:" + std::string(64, 'a'));
  ASSERT_EQ(add.exit_code, 0) << add.err;
  r = repo_.Run("replicate --attempts 1 --peer wrongpin");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("fingerprint mismatch"), std::string::npos) << r.err;

  // The owner itself tries to replace a snapshot, then to send a message
  // type the protocol does not have (as a delete would be).
  namespace rc = replicator::client;
  namespace protocol = replicator::protocol;
  auto identity = rc::LoadOrCreateIdentity(tmp_.Sub("identity"));
  ASSERT_OK(identity);
  auto url = rc::ParseReplicaUrl(replicad_->url());
  ASSERT_OK(url);
  engine::Buffer rid_bytes;
  ASSERT_TRUE(engine::FromHex(RepoId(repo_), &rid_bytes));
  protocol::RepoId rid;
  std::copy(rid_bytes.begin(), rid_bytes.end(), rid.begin());
  std::string snap_id = repo_.Json("list")[0]["id"];
  std::ifstream in(repo_.dir() + "/snapshots/" + snap_id, std::ios::binary);
  std::string stored((std::istreambuf_iterator<char>(in)), {});
  auto obj = engine::repo::SnapshotObject::Decode(engine::AsBytes(stored));
  ASSERT_OK(obj);
  obj->payload.push_back(std::byte{0});  // other content, still a well-formed object
  protocol::SnapshotObjectMessage forged{*engine::ChunkId::FromHex(snap_id), {}};
  obj->EncodeTo(&forged.object);
  engine::Buffer body;
  forged.EncodeTo(&body);
  {
    auto s = rc::OpenSession(*url, replicad_->fingerprint(), *identity, protocol::Role::kPush, rid);
    ASSERT_OK(s);
    ASSERT_OK(s->channel->Send(protocol::MessageType::kCommitSnapshot, body));
    auto reply = s->channel->Receive();
    ASSERT_FALSE(reply.ok());
    EXPECT_NE(reply.status().message().find("append-only"), std::string::npos)
        << reply.status().ToString();
  }
  {
    auto s = rc::OpenSession(*url, replicad_->fingerprint(), *identity, protocol::Role::kPush, rid);
    ASSERT_OK(s);
    ASSERT_OK(s->channel->Send(static_cast<protocol::MessageType>(40), {}));
    EXPECT_FALSE(s->channel->Receive().ok());
  }
  EXPECT_EQ(Listing(replicad_->dir()), before);
  // The replica still serves the client afterwards.
  EXPECT_TRUE(Replicate("--peer backup")["ok"]);
}

TEST_F(Replication, EncryptedRepositoryLeavesNoPlaintextOnTheReplica) {
  const std::string marker = "MARKER-4f1c9e-uploaded-customer-secret";
  {
    std::ofstream f(src_ + "/d0/e0/secret.txt");
    for (int i = 0; i < 100; i++) f << marker << " line " << i << "\n";
  }
  fs::create_directories(src_ + "/" + marker);  // also as a name
  AddPeer(replicad_->url());
  Snapshot();
  ASSERT_TRUE(Replicate()["ok"]);
  CmdResult grep = Sh("grep -rl " + Quote(marker) + " " + Quote(replicad_->dir()));
  EXPECT_EQ(grep.out, "") << "plaintext found on the replica";
  EXPECT_EQ(grep.exit_code, 1);  // grep: nothing matched (not an error)
  EXPECT_NE(Sh("grep -rl " + Quote(marker) + " " + Quote(src_)).out, "");  // the probe works
}

TEST_F(Replication, DeveloperRestoresFromTheReplicaWithoutTheRepository) {
  AddPeer(replicad_->url());
  Snapshot();
  ASSERT_TRUE(Replicate()["ok"]);
  std::string id = RepoId(repo_);
  std::string key = tmp_.Sub("exported.key");
  ASSERT_EQ(Sh(repo_.env() + Quote(Bin()) + " --repo " + Quote(repo_.dir()) + " key export > " +
               Quote(key))
                .exit_code,
            0);

  // The developer: another HOME, a read-only identity, no repository.
  std::string dev = "HOME=" + Quote(tmp_.Sub("devhome")) + " SNAPCTL_IDENTITY_DIR=" +
                    Quote(tmp_.Sub("devhome/id")) + " SNAPCTL_CACHE_DIR=" +
                    Quote(tmp_.Sub("devhome/cache")) + " " + Quote(Bin());
  std::string dev_key = Trim(Sh(dev + " identity").out);
  ASSERT_NE(dev_key, key_);
  std::string from = " --from " + replicad_->url() + "/" + id + " --fingerprint " +
                     replicad_->fingerprint() + " --key-file " + Quote(key);
  std::string out = tmp_.Sub("laptop/www");
  CmdResult refused = Sh(dev + " restore latest" + from + " --source www --target " + Quote(out));
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("not admitted"), std::string::npos) << refused.err;

  replicad_->AllowRead(dev_key, id);
  CmdResult r = Sh(dev + " restore latest" + from + " --source www --target " + Quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RsyncDiff(src_, out), "");

  // Production changes; the developer refreshes with a delta restore.
  WriteRandomFile(src_ + "/d1/e1/f1", 20000, 99);
  fs::remove(src_ + "/d2/e2/f2");
  WriteRandomFile(src_ + "/new.bin", 50000, 98);
  Snapshot();
  ASSERT_TRUE(Replicate()["ok"]);
  r = Sh(dev + " --json restore latest" + from + " --source www --delta --target " + Quote(out));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RsyncDiff(src_, out), "");
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_GE(j["files_unchanged"].get<int>(), 90) << r.out;

  // Read-only: the developer's identity cannot push into the repository.
  CmdResult push = Sh(repo_.env() + "SNAPCTL_IDENTITY_DIR=" + Quote(tmp_.Sub("devhome/id")) + " " +
                      Quote(Bin()) + " --repo " + Quote(repo_.dir()) + " replicate --attempts 1");
  EXPECT_NE(push.exit_code, 0);
}

TEST_F(Replication, FailuresStayQueuedVisibleAndExitNonZero) {
  AddPeer(replicad_->url());
  Snapshot();
  replicad_->Stop();
  CmdResult r = repo_.Run("replicate --attempts 2 --backoff 0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("backup"), std::string::npos) << r.err;
  nlohmann::json st = repo_.Json("status");
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0]["queued"], 1);
  EXPECT_NE(st[0]["last_error"].get<std::string>(), "");

  replicad_->Start();
  // The peer's port changed with the restart: re-point it.
  ASSERT_EQ(repo_.Run("peer remove backup").exit_code, 0);
  AddPeer(replicad_->url());
  r = repo_.Run("replicate --attempts 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  st = repo_.Json("status");
  EXPECT_EQ(st[0]["queued"], 0);
  EXPECT_EQ(st[0]["last_error"], "");
  EXPECT_NE(st[0]["last_snapshot"], "");
}

// Cron jobs parse `snapshot --json --replicate`: one document, whatever
// happens to the replication after the snapshot is committed.
TEST_F(Replication, SnapshotAndReplicateUnderJsonPrintOneDocument) {
  AddPeer(replicad_->url());
  std::string config = tmp_.Sub("snapctl.toml");
  std::ofstream(config) << "[replication]\nattempts = 1\n";  // no retry waits
  std::string cmd = "--json --config " + Quote(config) + " snapshot --replicate --source www=" +
                    Quote(src_);
  CmdResult r = repo_.Run(cmd);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json doc = nlohmann::json::parse(r.out);  // throws on a second document
  EXPECT_EQ(doc["id"].get<std::string>().size(), 64u) << r.out;
  EXPECT_EQ(doc["sources"]["www"]["files"], 100) << r.out;
  ASSERT_TRUE(doc["replication"].is_array()) << r.out;
  ASSERT_EQ(doc["replication"].size(), 1u) << r.out;
  EXPECT_TRUE(doc["replication"][0]["ok"]) << r.out;
  EXPECT_EQ(doc["replication"][0]["snapshots_sent"], 1) << r.out;

  // The replica is down: the snapshot is saved all the same, the exit code
  // says the replication failed, and the one document says why.
  replicad_->Stop();
  WriteRandomFile(src_ + "/d3/e0/f3", 30000, 778);
  r = repo_.Run(cmd);
  EXPECT_NE(r.exit_code, 0);
  doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["id"].get<std::string>().size(), 64u) << r.out;
  ASSERT_EQ(doc["replication"].size(), 1u) << r.out;
  EXPECT_FALSE(doc["replication"][0]["ok"]) << r.out;
  EXPECT_NE(doc["replication"][0]["error"].get<std::string>().find("backup"), std::string::npos)
      << r.out;
  EXPECT_EQ(repo_.Json("list").size(), 2u);

  // No peer at all is an error of the replication too, in the same document.
  ASSERT_EQ(repo_.Run("peer remove backup").exit_code, 0);
  r = repo_.Run(cmd);
  EXPECT_NE(r.exit_code, 0);
  doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["id"].get<std::string>().size(), 64u) << r.out;
  EXPECT_NE(doc["replication"]["error"].get<std::string>().find("no peers"), std::string::npos)
      << r.out;
}

// Flips one byte in the middle of every pack's frame area.
std::vector<std::string> DamagePacks(const std::string& repo_dir) {
  std::vector<std::string> packs;
  for (auto& e : fs::recursive_directory_iterator(repo_dir + "/packs"))
    if (e.is_regular_file()) packs.push_back(e.path().string());
  for (const std::string& p : packs) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(fs::file_size(p) / 3));
    char c;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(fs::file_size(p) / 3));
    f.put(static_cast<char>(c ^ 0x40));
  }
  return packs;
}

TEST_F(Replication, DamagedPacksAreNamedRestoreTheRestAndHealFromTheReplica) {
  AddPeer(replicad_->url());
  Snapshot();
  ASSERT_TRUE(Replicate()["ok"]);
  ASSERT_FALSE(DamagePacks(repo_.dir()).empty());

  CmdResult check = repo_.Run("check --read-data");
  EXPECT_EQ(check.exit_code, 3);
  EXPECT_NE(check.err.find("damaged chunk"), std::string::npos) << check.err;
  EXPECT_NE(check.err.find("packs/"), std::string::npos) << check.err;

  // Without a good copy: the damaged files are named and left out, the rest restores.
  std::string out = tmp_.Sub("partial");
  CmdResult r = repo_.Run("restore latest --source www --target " + Quote(out));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not restored: "), std::string::npos) << r.err;
  std::string diff = RsyncDiff(src_, out);
  EXPECT_NE(diff, "");  // the lost files are missing...
  EXPECT_EQ(diff.find(">f.st"), std::string::npos) << diff;  // ...but nothing restored is wrong

  CmdResult lost = repo_.Run("check --read-data --repair");
  EXPECT_EQ(lost.exit_code, 3);
  EXPECT_NE(lost.err.find("lost"), std::string::npos) << lost.err;

  CmdResult heal = repo_.Run("check --read-data --repair --from backup");
  EXPECT_EQ(heal.exit_code, 0) << heal.out << heal.err;
  EXPECT_NE(heal.out.find("repaired"), std::string::npos) << heal.out;
  EXPECT_EQ(repo_.Run("check --read-data").exit_code, 0);
  std::string healed = tmp_.Sub("healed");
  ASSERT_EQ(repo_.Run("restore latest --source www --target " + Quote(healed)).exit_code, 0);
  EXPECT_EQ(RsyncDiff(src_, healed), "");
}

TEST_F(Replication, ReadDataSubsetCoversEveryPackOverSuccessiveRuns) {
  Snapshot();  // each snapshot of new data writes a pack of its own
  for (int i = 2; i <= 4; i++) {
    std::string more = tmp_.Sub("more" + std::to_string(i));
    MakeTree(more, 20, i);
    ASSERT_EQ(repo_.Run("snapshot --source more=" + Quote(more)).exit_code, 0);
  }
  nlohmann::json all = repo_.Json("check --read-data");
  uint64_t packs = all["packs"];
  ASSERT_GE(packs, 4u);
  uint64_t read = 0;
  for (int run = 0; run < 4; run++) {
    nlohmann::json part = repo_.Json("check --read-data-subset 25%");
    EXPECT_TRUE(part["ok"]);
    read += part["packs_read"].get<uint64_t>();
    EXPECT_LT(part["packs_read"].get<uint64_t>(), packs);
  }
  EXPECT_GE(read, packs);  // four quarter runs read every pack
  // A damaged pack is found by the run whose slice holds it, within four runs.
  DamagePacks(repo_.dir());
  int found = 0;
  for (int run = 0; run < 4; run++)
    if (repo_.Run("check --read-data-subset 25%").exit_code == 3) found++;
  EXPECT_EQ(found, 4);  // every pack is damaged: every slice finds one
}

TEST_F(Replication, HealthAndMetricsOverHttp) {
  AddPeer(replicad_->url());
  Snapshot();
  ASSERT_TRUE(Replicate()["ok"]);
  std::string health = HttpGet(replicad_->http_port(), "/health");
  EXPECT_EQ(health.substr(0, 3), "200") << health;
  std::string metrics = HttpGet(replicad_->http_port(), "/metrics");
  EXPECT_EQ(metrics.substr(0, 3), "200");
  for (const char* name : {"replicad_received_bytes_total", "replicad_received_chunks_total",
                           "replicad_snapshots_committed_total", "replicad_sessions_total",
                           "replicad_errors_total", "replicad_repository_newest_snapshot_age_seconds"})
    EXPECT_NE(metrics.find(name), std::string::npos) << name;
  EXPECT_NE(metrics.find(RepoId(repo_)), std::string::npos);
  EXPECT_EQ(replicad_->Stop(), 0);  // SIGTERM: a clean exit
}

}  // namespace
}  // namespace snap::test

// `replicad check` against a real replica: a pack damaged on the replica's
// disk is named (chunk and snapshots) by `check --read-data`, `check
// --repair` makes the owner's next `snapctl replicate` send it again, and
// the healed replica passes the check and restores every snapshot.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "engine/repository.h"
#include "replicator/server/replica_repo.h"
#include "tests/support/e2e_util.h"
#include "tests/support/replica_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fs = std::filesystem;
using replicator::server::ReplicaRepo;

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::set<std::string> PacksUnder(const std::string& dir) {
  std::set<std::string> out;
  for (const std::string& f : FilesUnder(dir))
    if (f.find("/packs/") != std::string::npos) out.insert(f);
  return out;
}

// A data chunk of the replica repository at `dir` whose frame lies in one
// of `packs`, and the pack file and offset of its payload's first byte.
struct Victim {
  engine::ChunkId id;
  std::string pack;
  uint64_t payload = 0;
};

Victim PickDataChunk(const std::string& dir, const std::set<std::string>& packs) {
  replicator::server::RepoOptions ro;
  ro.read_only = true;  // beside the running replica
  auto repo = ReplicaRepo::Open(dir, ro);
  EXPECT_TRUE(repo.ok()) << repo.status().ToString();
  Victim v;
  if (!repo.ok()) return v;
  EXPECT_OK(
      (*repo)->ForEachChunk([&](const engine::ChunkId& id, const engine::index::ChunkLocation& l) {
        std::string pack = dir + "/" + engine::Repository::PackKey(l.pack);
        if (l.entry.kind != engine::pack::EntryKind::kData || !packs.count(pack) ||
            l.entry.length < engine::pack::kFrameHeaderSize + 64)
          return true;
        v = {id, pack, l.entry.offset + engine::pack::kFrameHeaderSize + 10};
        return false;
      }));
  return v;
}

std::vector<std::string> Strings(const nlohmann::json& list) {
  std::vector<std::string> out;
  for (const auto& s : list) out.push_back(s.get<std::string>());
  std::sort(out.begin(), out.end());
  return out;
}

class ReplicaCheckE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_.Sub("src");
    fs::create_directories(src_);
    for (int i = 0; i < 6; i++)
      WriteRandomFile(src_ + "/f" + std::to_string(i) + ".bin", 100000 + 7000 * i, 20 + i);
    replicad_ = std::make_unique<Replicad>(tmp_.Sub("replica"));
    replicad_->AllowPush(Trim(repo_.Run("identity").out));
    replicad_->Start();
    CmdResult r = repo_.Run("peer add backup " + replicad_->url() + " --fingerprint " +
                            replicad_->fingerprint());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    repo_id_ = repo_.Json("info")["repository"];
  }
  std::string Snapshot() {
    return repo_.Json("snapshot --source www=" + Quote(src_))["id"].get<std::string>();
  }
  nlohmann::json Replicate() {
    nlohmann::json j = repo_.Json("replicate --attempts 1");
    return j.is_array() && !j.empty() ? j[0] : nlohmann::json();
  }
  // `replicad check ARGS --json`: exit code and report.
  std::pair<int, nlohmann::json> Check(const std::string& args) {
    CmdResult r = replicad_->Run("check " + args + " --json");
    EXPECT_LT(r.exit_code, 128) << r.err;
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return {r.exit_code, j};
  }
  std::string RepoDir() const { return replicad_->dir() + "/repos/" + repo_id_; }

  // Two snapshots, each replicated: the second keeps every file of the
  // first and adds one. Records the packs each push added on the replica.
  void TwoSnapshotsReplicated() {
    first_ = Snapshot();
    ASSERT_TRUE(Replicate()["ok"]);
    first_packs_ = PacksUnder(RepoDir());
    WriteRandomFile(src_ + "/added.bin", 90000, 99);
    second_ = Snapshot();
    ASSERT_TRUE(Replicate()["ok"]);
    for (const std::string& p : PacksUnder(RepoDir()))
      if (!first_packs_.count(p)) second_packs_.insert(p);
    auto [rc, clean] = Check("--read-data");  // beside the running server
    EXPECT_EQ(rc, 0) << clean.dump(2);
    EXPECT_TRUE(clean["ok"]);
    EXPECT_EQ(clean["repositories"][0]["snapshots"], 2);
  }

  // Damages a data chunk's payload in one of `packs`; check names it with
  // `needing` (sorted snapshot IDs); --repair; the next push heals it.
  void DamageRepairAndHeal(const std::set<std::string>& packs, std::vector<std::string> needing) {
    std::sort(needing.begin(), needing.end());
    Victim v = PickDataChunk(RepoDir(), packs);
    ASSERT_FALSE(v.pack.empty());
    FlipBit(v.pack, v.payload, 3);

    // Only reading the data finds a damaged payload.
    EXPECT_EQ(Check("").first, 0);
    auto [rc, found] = Check("--read-data");
    EXPECT_EQ(rc, 3) << found.dump(2);
    const nlohmann::json& repo = found["repositories"][0];
    ASSERT_EQ(repo["damaged"].size(), 1u) << found.dump(2);
    EXPECT_EQ(repo["damaged"][0]["chunk"], v.id.ToHex());
    EXPECT_NE(repo["damaged"][0]["problem"].get<std::string>().find("checksum"), std::string::npos);
    EXPECT_EQ(Strings(repo["damaged"][0]["snapshots"]), needing);
    EXPECT_EQ(Strings(repo["incomplete"]), needing);
    CmdResult text = replicad_->Run("check --read-data");
    EXPECT_EQ(text.exit_code, 3);
    EXPECT_NE(text.err.find("chunk " + v.id.ShortHex()), std::string::npos) << text.err;
    for (const std::string& id : needing)
      EXPECT_NE(text.err.find(id.substr(0, 12)), std::string::npos) << text.err;

    // The repair runs beside the server (no session uses the repository).
    auto [repair_rc, repaired] = Check("--read-data --repair --repo " + repo_id_);
    EXPECT_EQ(repair_rc, 3) << repaired.dump(2);
    EXPECT_EQ(repaired["repositories"][0]["repair"]["marked"], needing.size());
    EXPECT_EQ(Strings(Check("").second["repositories"][0]["awaiting_resend"]), needing);

    // The owner's next push sends the damaged chunk and the trees above it.
    nlohmann::json healed = Replicate();
    ASSERT_TRUE(healed["ok"]) << healed.dump(2);
    EXPECT_EQ(healed["snapshots_sent"], needing.size());
    EXPECT_GE(healed["frames_sent"].get<int>(), 2);
    EXPECT_LE(healed["frames_sent"].get<int>(), 8) << "sent more than the damaged path";
    auto [after_rc, after] = Check("--read-data");
    EXPECT_EQ(after_rc, 0) << after.dump(2);
    EXPECT_EQ(Replicate()["snapshots_sent"], 0);  // nothing left to send
  }

  // Every snapshot restores from the replica alone, byte for byte.
  void ExpectBothRestoreFromTheReplica() {
    fs::remove_all(repo_.dir() + "/packs");
    fs::create_directories(repo_.dir() + "/packs");
    repo_.Run("check --rebuild-index");
    std::string out = tmp_.Sub("restored");
    CmdResult r =
        repo_.Run("restore " + second_ + " --from backup --source www --target " + Quote(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(RsyncDiff(src_, out), "");
    std::string out1 = tmp_.Sub("restored1");
    r = repo_.Run("restore " + first_ + " --from backup --source www --target " + Quote(out1));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(out1 + "/added.bin"));
    for (int i = 0; i < 6; i++) {
      std::string name = "/f" + std::to_string(i) + ".bin";
      EXPECT_EQ(ReadBytes(src_ + name), ReadBytes(out1 + name)) << name;
    }
  }

  TempDir tmp_;
  Repo repo_{tmp_.path()};
  std::string src_, repo_id_, first_, second_;
  std::set<std::string> first_packs_, second_packs_;
  std::unique_ptr<Replicad> replicad_;
};

TEST_F(ReplicaCheckE2e, ADamagedPackIsNamedHealedByTheNextPushAndRestoresIdentically) {
  TwoSnapshotsReplicated();
  // A chunk of a file both snapshots hold.
  DamageRepairAndHeal(first_packs_, {first_, second_});
  ExpectBothRestoreFromTheReplica();
}

TEST_F(ReplicaCheckE2e, AChunkOnlyTheNewestSnapshotNeedsIsHealedToo) {
  TwoSnapshotsReplicated();
  // added.bin's single chunk (below the chunker's minimum size): the push
  // that heals it sends that chunk and the root tree, as the first time,
  // so it rebuilds the very pack the damage was in, under the same name.
  DamageRepairAndHeal(second_packs_, {second_});
  EXPECT_NE(replicad_->log().find("was damaged; replaced"), std::string::npos) << replicad_->log();
  ExpectBothRestoreFromTheReplica();
}

TEST_F(ReplicaCheckE2e, UsageAndUnknownRepositoriesAreUsageErrors) {
  EXPECT_EQ(replicad_->Run("check --repo nothex").exit_code, 2);
  CmdResult r = replicad_->Run("check --repo " + std::string(32, '0'));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not held"), std::string::npos) << r.err;
  EXPECT_EQ(Sh(Quote(ReplicadBin()) + " check --dir " + Quote(tmp_.Sub("nowhere"))).exit_code, 1);
}

}  // namespace
}  // namespace snap::test

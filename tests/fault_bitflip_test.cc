// Bit flips and truncations at random offsets of what a repository and a
// replica keep on disk: packs, index files, the key file, the config, a
// replica's packs. Whatever is damaged, no command crashes, `check
// --read-data` names the damage, and a restore either writes the right
// bytes or fails naming what is damaged; never silently wrong data.
// (tests/check_test.cc covers one flip at a fixed offset; this walks random
// ones.) SNAPCTL_FAULT_TRIALS sets the number of damages per test.
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

template <typename T>
const T& Pick(const std::vector<T>& v, std::mt19937& rng) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng)];
}

uint64_t Below(uint64_t n, std::mt19937& rng) {
  return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng);
}

// Flips one random bit of `path`, or truncates it at a random length.
// Returns what it did, for the trace.
std::string Damage(const std::string& path, bool truncate, std::mt19937& rng) {
  uint64_t size = fs::file_size(path);
  if (size == 0) return path + " (empty, left alone)";
  uint64_t at = Below(size, rng);
  if (truncate) {
    fs::resize_file(path, at);
    return path + " truncated to " + std::to_string(at) + " of " + std::to_string(size);
  }
  int bit = static_cast<int>(Below(8, rng));
  FlipBit(path, at, bit);
  return path + " bit " + std::to_string(bit) + " flipped at " + std::to_string(at) + " of " +
         std::to_string(size);
}

// "packs/ab/abcd…": the store key of a pack file below a repository.
std::string PackKey(const std::string& path) {
  return path.substr(path.find("packs/"));
}

void CopyTree(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::copy(from, to, fs::copy_options::recursive);
}

// What a reading command did after index damage.
struct Outcome {
  CmdResult r;
  std::string said;  // stderr, and check's report of problems
  bool right = false;  // succeeded with the right result
};

// A repository with four snapshots: three that each add four files
// (200-600 KB), so each has a pack of its own with its new data and its
// trees, and between the second and third one with nothing changed (the
// second's trees). The index's log holds the last one's chunks.
class FaultBitflip : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_.Sub("src");
    fs::create_directories(src_);
    std::mt19937 rng(7);
    for (int k = 0; k < 3; k++) {
      for (int i = 0; i < 4; i++) {
        std::string name = "g" + std::to_string(k) + "-" + std::to_string(i) + ".bin";
        WriteRandomFile(src_ + "/" + name, 200000 + Below(400000, rng), k * 10 + i);
        names_.push_back(name);
      }
      // After the second, one more with nothing changed: the same trees.
      for (int same = 0; same < (k == 1 ? 2 : 1); same++) {
        ids_.push_back(repo_.Json("snapshot --source www=" + Quote(src_))["id"]);
        files_of_.push_back(names_);
      }
    }
    key_file_ = FilesUnder(tmp_.Sub("keys")).at(0);
    Save("packs");
    Save("index");
    Save("keys");
    fs::copy_file(repo_.dir() + "/config", tmp_.Sub("pristine/config"));
    fs::copy_file(key_file_, tmp_.Sub("pristine/user.key"));
  }

  void Save(const std::string& what) {
    fs::create_directories(tmp_.Sub("pristine"));
    CopyTree(repo_.dir() + "/" + what, tmp_.Sub("pristine/" + what));
  }

  // Undoes any damage: the repository as SetUp left it.
  void Repair() {
    for (const char* what : {"packs", "index", "keys"})
      CopyTree(tmp_.Sub(std::string("pristine/") + what), repo_.dir() + "/" + what);
    fs::copy_file(tmp_.Sub("pristine/config"), repo_.dir() + "/config",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(tmp_.Sub("pristine/user.key"), key_file_, fs::copy_options::overwrite_existing);
  }

  // Restores snapshot `k` into a fresh directory (the last call's is
  // removed); the result and where.
  std::pair<CmdResult, std::string> Restore(size_t k) {
    std::string out = tmp_.Sub("out");
    fs::remove_all(out);
    return {repo_.Run("restore " + ids_[k] + " --source www --target " + Quote(out)), out};
  }

  // `names` restored into `out` byte for byte.
  void ExpectRestored(const std::vector<std::string>& names, const std::string& out) {
    for (const auto& name : names)
      EXPECT_EQ(ReadBytes(src_ + "/" + name), ReadBytes(out + "/" + name)) << name;
  }

  // list, check and a restore of the latest snapshot, each judged.
  std::vector<std::pair<std::string, Outcome>> RunReaders();

  TempDir tmp_;
  Repo repo_{tmp_.path()};
  std::string src_, key_file_;
  std::vector<std::string> ids_, names_;
  std::vector<std::vector<std::string>> files_of_;  // per snapshot, oldest first
};

// What check --read-data blamed: files by name, and snapshots whose trees
// it could not read.
struct Blame {
  std::set<std::string> files;
  std::set<std::string> tree_snapshots;  // short IDs
};

Blame ParseCheckErrors(const nlohmann::json& errors) {
  static const std::regex line(R"(snapshot ([0-9a-f]+) www (\S+)( \(tree\))?: )");
  Blame b;
  for (const auto& e : errors) {
    std::string text = e.get<std::string>();
    std::smatch m;
    if (!std::regex_search(text, m, line)) continue;
    if (m[3].matched)
      b.tree_snapshots.insert(m[1]);
    else
      b.files.insert(fs::path(m[2].str()).filename().string());
  }
  return b;
}

TEST_F(FaultBitflip, DamagedPacksAreNamedByCheckAndNeverRestoredAsWrongData) {
  std::mt19937 rng(1234);
  int file_hits = 0, tree_hits = 0, harmless_for_restore = 0;
  for (int trial = 0; trial < FaultTrials(6); trial++) {
    Repair();
    std::string pack = Pick(FilesUnder(repo_.dir() + "/packs"), rng);
    std::string what = Damage(pack, trial % 3 == 2, rng);
    SCOPED_TRACE(what);
    CmdResult check = repo_.Run("--json check --read-data");
    EXPECT_EQ(check.exit_code, 3) << check.err;
    nlohmann::json report = nlohmann::json::parse(check.out, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << check.out << check.err;
    EXPECT_EQ(report["ok"], false) << "damage not found";
    EXPECT_NE(report["errors"].dump().find(PackKey(pack)), std::string::npos)
        << "check does not name the pack: " << report["errors"].dump(1);
    Blame blame = ParseCheckErrors(report["errors"]);
    file_hits += !blame.files.empty();
    tree_hits += !blame.tree_snapshots.empty();

    for (size_t k = 0; k < ids_.size(); k++) {
      auto [r, out] = Restore(k);
      EXPECT_LT(r.exit_code, 128) << "crashed: " << r.err;
      EXPECT_EQ(SilentlyWrongFiles(src_, out), std::vector<std::string>())
          << "snapshot " << ids_[k];
      std::vector<std::string> intact;
      bool touched = blame.tree_snapshots.contains(ids_[k].substr(0, 12));
      for (const auto& name : files_of_[k]) {
        if (!blame.files.contains(name)) intact.push_back(name);
        touched |= blame.files.contains(name);
      }
      if (r.exit_code == 0) {
        EXPECT_FALSE(touched) << "restored a snapshot check calls damaged";
        ExpectRestored(files_of_[k], out);
        harmless_for_restore++;
        continue;
      }
      EXPECT_TRUE(touched) << "restore of " << ids_[k] << " failed, check blamed none of it: "
                           << r.err;
      EXPECT_NE(r.err.find(PackKey(pack)), std::string::npos) << r.err;
      if (blame.tree_snapshots.contains(ids_[k].substr(0, 12))) continue;
      // The same run restored every file check did not blame.
      ExpectRestored(intact, out);
    }
  }
  std::cerr << "pack damages: " << file_hits << " hit file data, " << tree_hits
            << " hit trees; " << harmless_for_restore << " snapshot restores were unaffected\n";
  Repair();
  EXPECT_EQ(repo_.Json("check --read-data")["ok"], true);
}

// A damaged chunk shared by several snapshots is reported for each of them,
// so the operator knows every snapshot a restore of that file fails in.
TEST_F(FaultBitflip, CheckNamesEverySnapshotThatHoldsADamagedFile) {
  // The first snapshot's files are in all four; the middle of its pack is
  // one of them (its trees are a few hundred bytes). Two of the snapshots
  // share their trees.
  for (const auto& p : FilesUnder(tmp_.Sub("pristine/packs"))) {
    Repair();
    FlipBit(repo_.dir() + "/" + PackKey(p), fs::file_size(p) / 2, 0);
    CmdResult c = repo_.Run("--json check --read-data");
    nlohmann::json report = nlohmann::json::parse(c.out, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << c.out << c.err;
    Blame blame = ParseCheckErrors(report["errors"]);
    if (blame.files.empty() || !blame.files.begin()->starts_with("g0-")) continue;
    for (const auto& id : ids_)
      EXPECT_NE(report["errors"].dump().find("snapshot " + id.substr(0, 12)), std::string::npos)
          << "snapshot " << id << " holds " << *blame.files.begin()
          << " but is not named: " << report["errors"].dump(1);
    return;
  }
  FAIL() << "no pack holds a file of the first snapshot in its middle";
}

std::vector<std::pair<std::string, Outcome>> FaultBitflip::RunReaders() {
  std::vector<std::pair<std::string, Outcome>> all;
  for (const std::string cmd : {"list", "check", "restore"}) {
    Outcome o;
    std::string out;
    if (cmd == "restore")
      std::tie(o.r, out) = Restore(ids_.size() - 1);
    else
      o.r = repo_.Run("--json " + cmd);
    o.said = o.r.err;
    nlohmann::json j = nlohmann::json::parse(o.r.out, nullptr, false);
    if (cmd == "check" && j.is_object()) o.said += j["errors"].dump();
    if (o.r.exit_code == 0) {
      if (cmd == "list") o.right = j.is_array() && j.size() == ids_.size();
      if (cmd == "check") o.right = j.is_object() && j["ok"] == true;
      if (cmd == "restore") {
        o.right = true;
        for (const auto& name : names_)
          o.right &= ReadBytes(src_ + "/" + name) == ReadBytes(out + "/" + name);
      }
    }
    all.emplace_back(cmd, std::move(o));
  }
  return all;
}

// Index files other than RocksDB's own logs and lock.
std::vector<std::string> IndexFiles(const std::string& repo) {
  std::vector<std::string> out;
  for (const auto& f : FilesUnder(repo + "/index")) {
    std::string name = fs::path(f).filename();
    if (name != "LOCK" && !name.starts_with("LOG")) out.push_back(f);
  }
  return out;
}

TEST_F(FaultBitflip, DamagedIndexFilesNeverCrashACommandAndTheIndexRebuildsOnceRemoved) {
  std::mt19937 rng(99);
  int worked = 0, refused = 0;
  for (int trial = 0; trial < FaultTrials(8); trial++) {
    Repair();
    SCOPED_TRACE(Damage(Pick(IndexFiles(repo_.dir()), rng), trial % 4 == 3, rng));
    for (const auto& [cmd, o] : RunReaders()) {
      EXPECT_LT(o.r.exit_code, 128) << cmd << " crashed: " << o.r.err;
      if (o.r.exit_code == 0) {
        EXPECT_TRUE(o.right) << cmd << " succeeded with a wrong result: " << o.r.out;
        worked++;
      } else {
        EXPECT_NE(o.said, "") << cmd << " failed without a word";
        refused++;
      }
    }
    // The index is a cache: without it, any command rebuilds it first.
    fs::remove_all(repo_.dir() + "/index");
    auto [r, out] = Restore(ids_.size() - 1);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ExpectRestored(names_, out);
    EXPECT_EQ(repo_.Json("list").size(), ids_.size());
  }
  std::cerr << "after index damage: " << worked << " commands worked, " << refused
            << " refused\n";
}

// A command that cannot do its work because of a damaged index says how to
// get past it, and following that advice works.
TEST_F(FaultBitflip, DamagedIndexErrorsSayHowToRebuildTheIndex) {
  std::mt19937 rng(98);
  for (int trial = 0; trial < FaultTrials(8); trial++) {
    Repair();
    SCOPED_TRACE(Damage(Pick(IndexFiles(repo_.dir()), rng), trial % 4 == 3, rng));
    bool advised = false;
    for (const auto& [cmd, o] : RunReaders()) {
      if (o.right) continue;
      EXPECT_NE(o.said.find("--rebuild-index"), std::string::npos) << cmd << ": " << o.said;
      advised = true;
    }
    if (!advised) continue;
    CmdResult rebuild = repo_.Run("check --rebuild-index");
    EXPECT_EQ(rebuild.exit_code, 0) << "the advice does not work: " << rebuild.err;
    auto [r, out] = Restore(ids_.size() - 1);
    EXPECT_EQ(r.exit_code, 0) << "after check --rebuild-index: " << r.err;
  }
}

TEST_F(FaultBitflip, DamagedKeyFileOrConfigFailsNamingTheFile) {
  struct Target {
    std::string path, name;  // name: what the error must contain
    bool checksummed;        // else a damage may also be harmless
  };
  const std::vector<Target> targets = {
      {repo_.dir() + "/config", "config", true},
      {repo_.dir() + "/keys/master", "keys/master", true},
      {key_file_, fs::path(key_file_).filename(), false},
  };
  std::mt19937 rng(5);
  for (int trial = 0; trial < FaultTrials(6); trial++) {
    Repair();
    const Target& t = targets[trial % targets.size()];
    SCOPED_TRACE(Damage(t.path, (trial / targets.size()) % 2 == 1, rng));
    for (const char* cmd : {"list", "restore"}) {
      SCOPED_TRACE(cmd);
      CmdResult r;
      std::string out;
      if (std::string(cmd) == "restore")
        std::tie(r, out) = Restore(ids_.size() - 1);
      else
        r = repo_.Run(cmd);
      EXPECT_LT(r.exit_code, 128) << "crashed: " << r.err;
      if (r.exit_code == 0 && !t.checksummed) {
        if (!out.empty()) ExpectRestored(files_of_.back(), out);
        continue;
      }
      EXPECT_NE(r.exit_code, 0) << "a damaged " << t.name << " went unnoticed";
      EXPECT_NE(r.err.find(t.name), std::string::npos) << r.err;
    }
  }
}

// A replica's pack damaged on its disk: the replica refuses to serve the
// frame (or the client refuses it), the restore fails naming the chunk,
// and nothing wrong is written.
TEST(FaultBitflipReplica, DamagedReplicaPackFailsTheRestoreAndNeverWritesWrongData) {
  TempDir tmp;
  Repo repo(tmp.path());
  std::string src = tmp.Sub("src");
  fs::create_directories(src);
  for (int i = 0; i < 8; i++)
    WriteRandomFile(src + "/f" + std::to_string(i) + ".bin", 300000 + 1000 * i, 50 + i);
  Replicad replicad(tmp.Sub("replica"));
  replicad.AllowPush(Trim(repo.Run("identity").out));
  replicad.Start();
  ASSERT_EQ(repo.Run("peer add backup " + replicad.url() + " --fingerprint " +
                     replicad.fingerprint())
                .exit_code,
            0);
  repo.Json("snapshot --source www=" + Quote(src));
  ASSERT_EQ(repo.Run("replicate --attempts 1").exit_code, 0);
  std::vector<std::string> packs = FilesUnder(replicad.dir() + "/repos");
  std::erase_if(packs, [](const std::string& p) { return p.find("/packs/") == std::string::npos; });
  ASSERT_FALSE(packs.empty());

  std::mt19937 rng(3);
  int refused = 0;
  for (int trial = 0; trial < FaultTrials(4); trial++) {
    // Damage a copy put in place of the pack (the running replica keeps
    // its directories open: they stay), then put the pristine one back.
    const std::string& pack = Pick(packs, rng);
    std::string pristine = tmp.Sub("pristine.pack");
    fs::copy_file(pack, pristine, fs::copy_options::overwrite_existing);
    SCOPED_TRACE(Damage(pack, trial % 4 == 3, rng));
    // The local copy is gone: everything comes from the replica.
    fs::remove_all(repo.dir() + "/packs");
    fs::create_directories(repo.dir() + "/packs");
    repo.Run("check --rebuild-index");
    std::string out = tmp.Sub("out");
    fs::remove_all(out);
    CmdResult r = repo.Run("restore latest --from backup --source www --target " + Quote(out));
    fs::copy_file(pristine, pack, fs::copy_options::overwrite_existing);
    EXPECT_LT(r.exit_code, 128) << "crashed: " << r.err;
    EXPECT_EQ(SilentlyWrongFiles(src, out), std::vector<std::string>());
    if (r.exit_code == 0) {
      EXPECT_EQ(Sh("diff -r " + Quote(src) + " " + Quote(out)).exit_code, 0);
      continue;
    }
    refused++;
    EXPECT_NE(r.err.find("replica"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("chunk"), std::string::npos) << "the error does not name the chunk: "
                                                      << r.err;
  }
  std::cerr << "replica pack damages: " << refused << " restores refused, the others unaffected\n";
  EXPECT_NE(replicad.log().find("GET_CHUNKS"), std::string::npos) << replicad.log();
}

}  // namespace
}  // namespace snap::test

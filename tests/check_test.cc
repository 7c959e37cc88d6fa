// check finds damage and names what it affects; the index rebuilds from
// the packs.
#include <filesystem>
#include <fstream>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;

std::vector<std::string> Packs(const std::string& repo) {
  std::vector<std::string> out;
  for (const auto& e : fsys::recursive_directory_iterator(repo + "/packs"))
    if (e.is_regular_file()) out.push_back(e.path().string());
  return out;
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x10));
}

TEST(Check, PassesOnAHealthyRepository) {
  TempDir tmp;
  MakeEveryKindTree(tmp.Sub("src"));
  Repo repo(tmp.path());
  repo.Json("snapshot --source www=" + Quote(tmp.Sub("src")));
  auto r = repo.Json("check --read-data");
  EXPECT_EQ(r["ok"], true) << r.dump();
}

TEST(Check, ReadDataNamesTheFileAffectedByAFlippedByte) {
  TempDir tmp;
  fsys::create_directories(tmp.Sub("src"));
  WriteRandomFile(tmp.Sub("src/precious.bin"), 2 << 20, 3);
  Repo repo(tmp.path());
  repo.Json("snapshot --source www=" + Quote(tmp.Sub("src")));
  auto packs = Packs(repo.dir());
  ASSERT_EQ(packs.size(), 1u);
  FlipByte(packs[0], 1 << 20);  // inside the file's data
  CmdResult structural = repo.Run("check");
  EXPECT_EQ(structural.exit_code, 0) << "structure is intact: " << structural.err;
  CmdResult r = repo.Run("check --read-data");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("www/precious.bin"), std::string::npos) << r.err;
  CmdResult restore = repo.Run("restore latest --target " + Quote(tmp.Sub("out")));
  EXPECT_NE(restore.exit_code, 0) << "restore must not write silently wrong data";
  EXPECT_NE(restore.err.find("precious.bin"), std::string::npos) << restore.err;
}

TEST(Check, DeletedIndexIsRebuiltAndEverySnapshotRestores) {
  TempDir tmp;
  MakeEveryKindTree(tmp.Sub("src"));
  Repo repo(tmp.path());
  repo.Json("snapshot --source www=" + Quote(tmp.Sub("src")));
  WriteRandomFile(tmp.Sub("src/new.bin"), 1 << 20, 9);
  repo.Json("snapshot --source www=" + Quote(tmp.Sub("src")));
  fsys::remove_all(repo.dir() + "/index");
  CmdResult r = repo.Run("check --rebuild-index");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto list = repo.Json("list");
  ASSERT_EQ(list.size(), 2u);
  for (const auto& s : list) {
    std::string id = s["id"];
    std::string out = tmp.Sub("out-" + id);
    repo.Json("restore " + id + " --target " + Quote(out));
  }
  EXPECT_EQ(RsyncDiff(tmp.Sub("src"), tmp.Sub("out-" + list[1]["id"].get<std::string>() + "/www")),
            "");
}

TEST(Check, ReportsAMissingPackWithTheSnapshotsThatNeedIt) {
  TempDir tmp;
  fsys::create_directories(tmp.Sub("src"));
  WriteRandomFile(tmp.Sub("src/a.bin"), 1 << 20, 4);
  Repo repo(tmp.path());
  auto snap = repo.Json("snapshot --source www=" + Quote(tmp.Sub("src")));
  for (const auto& p : Packs(repo.dir())) fsys::remove(p);
  CmdResult r = repo.Run("check");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("snapshot " + snap["id"].get<std::string>().substr(0, 12)),
            std::string::npos) << r.err;
}

}  // namespace
}  // namespace snap::test

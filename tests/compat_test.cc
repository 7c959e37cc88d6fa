// Golden repositories of every released format version (tests/compat/vN,
// made once by that version's make_vN.sh and never regenerated) keep
// opening, checking and restoring byte for byte and metadata for metadata.
#include <filesystem>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fs = std::filesystem;

// This file is tests/compat_test.cc below the repository root.
fs::path CompatRoot() { return fs::path(__FILE__).parent_path() / "compat"; }

std::string Listing(const std::string& dir) {
  CmdResult r = Sh("bash " + Quote((CompatRoot() / "listing.sh").string()) + " " + Quote(dir));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.out;
}

class Compat : public ::testing::TestWithParam<std::string> {
 protected:
  // `snapctl` on a copy of the golden repository (opening one writes its
  // index) with its key file.
  CmdResult Run(const std::string& args) {
    return Sh(env_ + Quote(Bin()) + " --repo " + Quote(repo_) + " --key-file " +
              Quote((golden_ / "user.key").string()) + " " + args);
  }
  std::string Golden(const std::string& name) { return Trim(ReadBytes((golden_ / name).string())); }

  void SetUp() override {
    golden_ = CompatRoot() / GetParam();
    ASSERT_TRUE(fs::is_directory(golden_ / "repo")) << golden_;
    repo_ = tmp_.Sub("repo");
    ASSERT_EQ(Sh("cp -a " + Quote((golden_ / "repo").string()) + " " + Quote(repo_)).exit_code, 0);
    env_ = "SNAPCTL_KEY_DIR=" + Quote(tmp_.Sub("keys")) + " SNAPCTL_CACHE_DIR=" +
           Quote(tmp_.Sub("cache")) + " SNAPCTL_IDENTITY_DIR=" + Quote(tmp_.Sub("identity")) + " ";
  }

  TempDir tmp_;
  fs::path golden_;
  std::string repo_, env_;
};

TEST_P(Compat, GoldenRepositoryChecksAndRestoresEverySnapshot) {
  CmdResult check = Run("check --read-data");
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  CmdResult list = Run("--json list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (int k = 1; fs::exists(golden_ / ("snapshot-" + std::to_string(k) + ".id")); k++) {
    SCOPED_TRACE("snapshot " + std::to_string(k));
    std::string n = std::to_string(k), id = Golden("snapshot-" + n + ".id");
    EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
    std::string out = tmp_.Sub("out-" + n);
    CmdResult r = Run("restore " + id + " --source site --target " + Quote(out));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Listing(out), ReadBytes((golden_ / ("expected-" + n + ".txt")).string()));
    CmdResult dump = Sh(env_ + Quote(Bin()) + " --repo " + Quote(repo_) + " --key-file " +
                        Quote((golden_ / "user.key").string()) + " dump " + id +
                        " db | sha256sum | cut -d' ' -f1");
    EXPECT_EQ(Trim(dump.out), Golden("dump-" + n + ".sha256"));
  }
}

INSTANTIATE_TEST_SUITE_P(FormatVersions, Compat, ::testing::Values("v1"));

}  // namespace
}  // namespace snap::test

// The config file drives `snapctl snapshot` with no arguments, and restore
// profiles run their steps in order.
#include <filesystem>
#include <fstream>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;

class ConfigProfile : public ::testing::Test {
 protected:
  void SetUp() override {
    fsys::create_directories(tmp_.Sub("www/upload"));
    std::ofstream(tmp_.Sub("www/upload/a.jpg")) << "image";
    fsys::create_directories(tmp_.Sub("www/cache"));
    std::ofstream(tmp_.Sub("www/cache/x")) << "regenerable";
  }

  void WriteConfig(const std::string& post_step) {
    std::ofstream(config_) << "[repository]\npath = \"" << tmp_.Sub("repo") << "\"\n\n"
                           << "[source.upload]\npath = \"" << tmp_.Sub("www/upload") << "\"\n\n"
                           << "[source.cache]\npath = \"" << tmp_.Sub("www/cache") << "\"\n\n"
                           << "[dump.catalog]\ncommand = \"seq 1 1000\"\n"
                           << "restore = \"cat > restored-catalog.sql\"\n\n"
                           << "[hooks]\npost = \"touch " << tmp_.Sub("post-hook-ran") << "\"\n\n"
                           << "[profile.dev]\nsources = [\"upload\"]\ndumps = [\"catalog\"]\n"
                           << "post = [\"touch masked\", \"" << post_step << "\"]\n";
  }

  CmdResult Snapctl(const std::string& args) {
    return Sh("SNAPCTL_KEY_DIR=" + Quote(tmp_.Sub("keys")) + " " + Quote(Bin()) + " --config " +
              Quote(config_) + " " + args);
  }

  TempDir tmp_;
  std::string config_ = tmp_.Sub("snapctl.toml");
};

TEST_F(ConfigProfile, SnapshotWithoutArgumentsCapturesWhatTheConfigDeclares) {
  WriteConfig("true");
  ASSERT_EQ(Snapctl("init").exit_code, 0);
  CmdResult r = Snapctl("--json snapshot");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["sources"].contains("upload"));
  EXPECT_TRUE(j["sources"].contains("catalog"));
  EXPECT_TRUE(fsys::exists(tmp_.Sub("post-hook-ran")));
  EXPECT_EQ(Snapctl("dump latest catalog").out, Sh("seq 1 1000").out);
}

TEST_F(ConfigProfile, ProfileRestoresSourcesAndDumpsThenRunsPostSteps) {
  WriteConfig("true");
  ASSERT_EQ(Snapctl("init").exit_code, 0);
  ASSERT_EQ(Snapctl("snapshot").exit_code, 0);
  std::string dev = tmp_.Sub("dev");
  CmdResult r = Snapctl("restore latest --profile dev --target " + Quote(dev));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(RsyncDiff(tmp_.Sub("www/upload"), dev + "/upload"), "");
  EXPECT_FALSE(fsys::exists(dev + "/cache")) << "the profile names only upload";
  EXPECT_EQ(Sh("cat " + Quote(dev + "/restored-catalog.sql")).out, Sh("seq 1 1000").out);
  EXPECT_TRUE(fsys::exists(dev + "/masked"));
}

TEST_F(ConfigProfile, FailingStepStopsTheProfileWithAClearMessage) {
  WriteConfig("echo masking failed >&2; exit 7");
  ASSERT_EQ(Snapctl("init").exit_code, 0);
  ASSERT_EQ(Snapctl("snapshot").exit_code, 0);
  CmdResult r = Snapctl("restore latest --profile dev --target " + Quote(tmp_.Sub("dev")));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("profile dev post step 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("masking failed"), std::string::npos) << r.err;
}

TEST_F(ConfigProfile, ConfigErrorNamesFileLineAndKey) {
  std::ofstream(config_) << "[repository]\npath = \"/tmp/x\"\n\n[source.upload]\npth = \"/x\"\n";
  CmdResult r = Snapctl("list");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(config_ + ":5"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("source.upload.pth"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace snap::test

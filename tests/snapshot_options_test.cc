// Snapshot selection and capture options through the snapctl binary.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;

TEST(SnapshotOptions, ExcludesAndCacheDirsAreSkipped) {
  TempDir tmp;
  std::string src = tmp.Sub("src");
  fsys::create_directories(src + "/cache/x");
  fsys::create_directories(src + "/var/tmpdir");
  fsys::create_directories(src + "/keep");
  std::ofstream(src + "/cache/x/a") << "a";
  std::ofstream(src + "/keep/b.txt") << "b";
  std::ofstream(src + "/keep/c.tmp") << "c";
  std::ofstream(src + "/var/tmpdir/CACHEDIR.TAG")
      << "Signature: 8a477f597d28d172789f06886806bc55\n";
  std::ofstream(src + "/var/tmpdir/junk") << "junk";
  Repo repo(tmp.path());
  repo.Json("snapshot --source s=" + Quote(src) +
            " --exclude 'cache/**' --exclude '*.tmp' --exclude-caches");
  repo.Json("restore latest --target " + Quote(tmp.Sub("out")));
  EXPECT_TRUE(fsys::exists(tmp.Sub("out/s/keep/b.txt")));
  EXPECT_TRUE(fsys::exists(tmp.Sub("out/s/cache")));
  EXPECT_FALSE(fsys::exists(tmp.Sub("out/s/cache/x")));
  EXPECT_FALSE(fsys::exists(tmp.Sub("out/s/keep/c.tmp")));
  EXPECT_TRUE(fsys::exists(tmp.Sub("out/s/var/tmpdir/CACHEDIR.TAG")));
  EXPECT_FALSE(fsys::exists(tmp.Sub("out/s/var/tmpdir/junk")));
}

TEST(SnapshotOptions, AtPicksTheLastSnapshotAtOrBeforeTheTime) {
  TempDir tmp;
  std::string src = tmp.Sub("src");
  fsys::create_directories(src);
  Repo repo(tmp.path());
  std::ofstream(src + "/v") << "one";
  auto first = repo.Json("snapshot --source s=" + Quote(src));
  sleep(2);
  std::ofstream(src + "/v") << "two";
  auto second = repo.Json("snapshot --source s=" + Quote(src));
  std::string t1 = first["time"];  // 2026-11-23T13:45:45Z
  auto ls = repo.Json("ls latest --at " + t1);
  CmdResult r = repo.Run("restore latest --at " + t1 + " --target " + Quote(tmp.Sub("o1")));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(tmp.Sub("o1/s/v"));
  std::string v((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(v, "one");
  CmdResult before = repo.Run("restore latest --at 2000-01-01 --target " + Quote(tmp.Sub("o0")));
  EXPECT_NE(before.exit_code, 0);
  // An unambiguous ID prefix selects a snapshot.
  std::string id2 = second["id"];
  repo.Json("restore " + id2.substr(0, 8) + " --target " + Quote(tmp.Sub("o2")));
  std::ifstream in2(tmp.Sub("o2/s/v"));
  std::string v2((std::istreambuf_iterator<char>(in2)), {});
  EXPECT_EQ(v2, "two");
}

TEST(SnapshotOptions, DiffListsWhatChanged) {
  TempDir tmp;
  std::string src = tmp.Sub("src");
  fsys::create_directories(src + "/d");
  std::ofstream(src + "/d/same") << "same";
  std::ofstream(src + "/d/changed") << "v1";
  std::ofstream(src + "/gone") << "g";
  Repo repo(tmp.path());
  auto a = repo.Json("snapshot --source s=" + Quote(src));
  std::ofstream(src + "/d/changed") << "v2 longer";
  fsys::remove(src + "/gone");
  std::ofstream(src + "/added") << "new";
  auto b = repo.Json("snapshot --source s=" + Quote(src));
  CmdResult r = repo.Run("diff " + a["id"].get<std::string>() + " " + b["id"].get<std::string>());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("M  s/d/changed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-  s/gone"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("+  s/added"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("s/d/same"), std::string::npos) << r.out;
}

TEST(SnapshotOptions, AFileThatKeepsChangingIsRecordedAndReported) {
  TempDir tmp;
  std::string src = tmp.Sub("src");
  fsys::create_directories(src);
  WriteRandomFile(src + "/busy.log", 32 << 20, 5);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int i = 0;
    while (!stop) {
      std::ofstream f(src + "/busy.log", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp((i++ % 1000) * 1000);
      f << "changing";
      f.close();
      usleep(200);
    }
  });
  Repo repo(tmp.path());
  CmdResult r = repo.Run("snapshot --source s=" + Quote(src));
  stop = true;
  writer.join();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("busy.log: kept changing while read"), std::string::npos) << r.err;
  auto list = repo.Json("list");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_FALSE(list[0]["sources"][0]["notes"].empty());
}

TEST(SnapshotOptions, BadInputFailsWithAClearMessageAndNoSnapshot) {
  TempDir tmp;
  Repo repo(tmp.path());
  CmdResult r = repo.Run("snapshot --source s=" + Quote(tmp.Sub("does-not-exist")));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("does-not-exist"), std::string::npos) << r.err;
  EXPECT_EQ(repo.Json("list").size(), 0u);
  CmdResult bad = repo.Run("snapshot --source 'a/b=" + tmp.path() + "'");
  EXPECT_NE(bad.exit_code, 0);
  CmdResult norepo = Sh(Quote(Bin()) + " --repo " + Quote(tmp.Sub("nothing")) + " list");
  EXPECT_NE(norepo.exit_code, 0);
  EXPECT_NE(norepo.err.find("snapctl init"), std::string::npos) << norepo.err;
}

TEST(SnapshotOptions, PassphraseProtectedRepositoryNeedsThePassphrase) {
  TempDir tmp;
  std::ofstream(tmp.Sub("pw")) << "correct horse\n";
  std::ofstream(tmp.Sub("wrong")) << "wrong horse\n";
  std::string repo = tmp.Sub("repo");
  auto run = [&](const std::string& args) {
    return Sh(Quote(Bin()) + " --repo " + Quote(repo) + " " + args);
  };
  ASSERT_EQ(run("init --password-file " + Quote(tmp.Sub("pw"))).exit_code, 0);
  fsys::create_directories(tmp.Sub("src"));
  std::ofstream(tmp.Sub("src/f")) << "data";
  EXPECT_EQ(run("snapshot --source s=" + Quote(tmp.Sub("src")) + " --password-file " +
                Quote(tmp.Sub("pw"))).exit_code, 0);
  CmdResult wrong = run("list --password-file " + Quote(tmp.Sub("wrong")));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;
  CmdResult none = run("list");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.err.find("SNAPCTL_PASSWORD"), std::string::npos) << none.err;
  EXPECT_EQ(Sh("SNAPCTL_PASSWORD='correct horse' " + Quote(Bin()) + " --repo " + Quote(repo) +
               " list").exit_code, 0);
}

}  // namespace
}  // namespace snap::test

#include "engine/repository.h"

namespace snap::test {
namespace {

TEST(SnapshotOptions, ReadersWorkWhileAWriterHoldsTheIndex) {
  TempDir tmp;
  std::string src = tmp.Sub("src");
  fsys::create_directories(src);
  std::ofstream(src + "/f") << "data";
  Repo repo(tmp.path());
  repo.Json("snapshot --source s=" + Quote(src));
  std::string id = repo.Json("stats")["repository_id"];
  engine::Credentials creds;
  creds.key_file = tmp.Sub("keys/" + id + ".key");
  auto writer = engine::Repository::Open(repo.dir(), creds);  // holds the index lock
  ASSERT_OK(writer);
  EXPECT_EQ(repo.Json("list").size(), 1u);
  repo.Json("restore latest --target " + Quote(tmp.Sub("out")));
  EXPECT_EQ(RsyncDiff(src, tmp.Sub("out/s")), "");
  CmdResult second = repo.Run("snapshot --source s=" + Quote(src));
  EXPECT_NE(second.exit_code, 0);
  EXPECT_NE(second.err.find("locked by another snapctl process"), std::string::npos)
      << second.err;
}

}  // namespace
}  // namespace snap::test

// Dump sources and hooks through the snapctl binary, with plain commands
// and with real MariaDB and PostgreSQL servers (tests/db/*.sh start them on
// a unix socket in a temp dir; SNAPCTL_SKIP_DB_TESTS=1 skips those).
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;

std::string SourceDir() {
  // tests/db lives beside this file in the source tree.
  return fsys::path(__FILE__).parent_path().string();
}

TEST(Dump, StreamRoundTripsByteForByte) {
  TempDir tmp;
  Repo repo(tmp.path());
  repo.Json("snapshot --dump numbers='seq 1 300000'");
  CmdResult out = repo.Run("dump latest numbers | md5sum");
  CmdResult want = Sh("seq 1 300000 | md5sum");
  EXPECT_EQ(out.out, want.out);
  auto check = repo.Json("check --read-data");
  EXPECT_EQ(check["ok"], true);
}

TEST(Dump, FailingDumpLeavesNoSnapshotAndPostHookRuns) {
  TempDir tmp;
  Repo repo(tmp.path());
  std::string marker = tmp.Sub("post-ran");
  CmdResult r = repo.Run(
      "snapshot --dump db='seq 1 100000; echo \"connection lost\" >&2; exit 1' --post 'touch " +
      marker + "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("dump db"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exited with status 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("connection lost"), std::string::npos) << r.err;
  EXPECT_TRUE(fsys::exists(marker));
  EXPECT_EQ(repo.Json("list").size(), 0u);
}

TEST(Dump, FailingPreHookFailsTheSnapshotAndPostStillRuns) {
  TempDir tmp;
  Repo repo(tmp.path());
  fsys::create_directories(tmp.Sub("src"));
  std::string marker = tmp.Sub("post-ran");
  CmdResult r = repo.Run("snapshot --source s=" + Quote(tmp.Sub("src")) +
                         " --pre 'echo cannot stop workers >&2; exit 4' --post 'touch " + marker +
                         "'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("pre hook"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot stop workers"), std::string::npos) << r.err;
  EXPECT_TRUE(fsys::exists(marker));
  EXPECT_EQ(repo.Json("list").size(), 0u);
}

TEST(Dump, FailingPostHookFailsTheSnapshot) {
  TempDir tmp;
  Repo repo(tmp.path());
  CmdResult r = repo.Run("snapshot --dump d='echo x' --post 'exit 2'");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("post hook"), std::string::npos) << r.err;
  EXPECT_EQ(repo.Json("list").size(), 0u);
}

TEST(Dump, CompressedStreamGetsAWarning) {
  TempDir tmp;
  Repo repo(tmp.path());
  CmdResult r = repo.Run("snapshot --dump d='seq 1 1000 | gzip'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("gzip-compressed"), std::string::npos) << r.err;
}

TEST(Dump, ChangedDumpAddsFarLessThanItsSize) {
  TempDir tmp;
  Repo repo(tmp.path());
  // 20 MB of "rows"; the second run changes a contiguous 1% of them (rows
  // scattered across the whole stream need delta storage, not chunking).
  std::ofstream(tmp.Sub("gen.awk")) << "BEGIN { for (i = 0; i < 400000; i++) printf "
                                       "\"INSERT INTO t VALUES (%d, 'row %d payload');\\n\", i, "
                                       "(change && i >= 200000 && i < 204000) ? i + 1 : i }\n";
  std::string gen = "awk -f " + tmp.Sub("gen.awk");
  repo.Json("snapshot --dump db='" + gen + " -v change=0'");
  auto second = repo.Json("snapshot --dump db='" + gen + " -v change=1'");
  uint64_t size = second["sources"]["db"]["bytes"];
  uint64_t added = second["sources"]["db"]["new_bytes"];
  EXPECT_GT(size, 10u << 20);
  EXPECT_LT(added, size / 10) << "dump chunking does not deduplicate";
}

TEST(Dump, ScatteredRowChangesAreStoredAsSmallDeltas) {
  TempDir tmp;
  Repo repo(tmp.path());
  // 1% of rows changed, spread over the whole stream: every chunk differs,
  // so only delta storage keeps the second snapshot small.
  std::ofstream(tmp.Sub("gen.awk")) << "BEGIN { for (i = 0; i < 400000; i++) printf "
                                       "\"INSERT INTO t VALUES (%d, 'row %d payload');\\n\", i, "
                                       "(change && i % 100 == 7) ? i + 1 : i }\n";
  std::string gen = "awk -f " + tmp.Sub("gen.awk");
  repo.Json("snapshot --dump db='" + gen + " -v change=0'");
  auto second = repo.Json("snapshot --dump db='" + gen + " -v change=1'");
  uint64_t size = second["sources"]["db"]["bytes"];
  uint64_t stored = second["sources"]["db"]["stored_bytes"];
  EXPECT_GT(second["sources"]["db"]["new_chunks"].get<int>(), 0);
  EXPECT_LT(stored, size / 10) << "changed chunks were not stored as deltas";
  EXPECT_EQ(repo.Run("dump latest db | md5sum").out, Sh(gen + " -v change=1 | md5sum").out);
  auto check = repo.Json("check --read-data");
  EXPECT_EQ(check["ok"], true) << check.dump();
  // A third, again changed, chains deltas; everything still reads back.
  repo.Json("snapshot --dump db='" + gen + " -v change=2'");
  EXPECT_EQ(repo.Run("dump latest db | md5sum").out, Sh(gen + " -v change=2 | md5sum").out);
}

TEST(Dump, RowsMovedToTheEndAreStillStoredAsSmallDeltas) {
  // As PostgreSQL dumps an updated table: each updated row leaves its place
  // and is written again at the end, so everything after it shifts.
  TempDir tmp;
  Repo repo(tmp.path());
  std::ofstream(tmp.Sub("gen.awk"))
      << "BEGIN { for (i = 0; i < 400000; i++) { if (move && i % 100 == 7) { m[n++] = i; "
         "continue } printf \"%d\\trow %d payload\\n\", i, i } "
         "for (k = 0; k < n; k++) printf \"%d\\trow %d payload\\n\", m[k], m[k] + 1 }\n";
  std::string gen = "awk -f " + tmp.Sub("gen.awk");
  repo.Json("snapshot --dump db='" + gen + " -v move=0'");
  auto second = repo.Json("snapshot --dump db='" + gen + " -v move=1'");
  uint64_t size = second["sources"]["db"]["bytes"];
  uint64_t stored = second["sources"]["db"]["stored_bytes"];
  EXPECT_LT(stored, size / 10) << "shifted rows defeated delta storage";
  EXPECT_EQ(repo.Run("dump latest db | md5sum").out, Sh(gen + " -v move=1 | md5sum").out);
  EXPECT_EQ(repo.Json("check --read-data")["ok"], true);
}

TEST(Dump, RestoreDumpPipesIntoTheRestoreCommand) {
  TempDir tmp;
  Repo repo(tmp.path());
  repo.Json("snapshot --dump d='seq 1 5000'");
  std::string out = tmp.Sub("restored.txt");
  CmdResult r = repo.Run("restore latest --dump d --restore-command 'cat > " + out + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sh("md5sum < " + out).out, Sh("seq 1 5000 | md5sum").out);
  CmdResult bad = repo.Run("restore latest --dump d --restore-command 'exit 5'");
  EXPECT_NE(bad.exit_code, 0);
}

// ---- real databases ----

class Database : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("SNAPCTL_SKIP_DB_TESTS")) GTEST_SKIP() << "SNAPCTL_SKIP_DB_TESTS is set";
    // The postgres server runs as its own user and must reach its directory.
    chmod(tmp_.path().c_str(), 0755);
  }
  // Starts the fixture; fails the test when it cannot.
  void Start(const std::string& script) {
    script_ = SourceDir() + "/db/" + script;
    CmdResult r = Sh("bash " + Quote(script_) + " start " + Quote(db_dir_));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    started_ = true;
  }
  void TearDown() override {
    if (started_) Sh("bash " + Quote(script_) + " stop " + Quote(db_dir_));
  }

  // A writer that keeps adding rows whose files it writes first, and
  // updating old rows, until stopped. Returns the number of rows written.
  void RunWriter(const std::string& sql_prefix, std::atomic<bool>* stop, std::atomic<int>* rows) {
    for (int i = 1; !*stop; ++i) {
      std::string name = "f" + std::to_string(i) + ".jpg";
      WriteRandomFile(uploads_ + "/" + name, 3000 + i, i);
      Sh(sql_prefix + Quote("INSERT INTO uploads (id, path) VALUES (" + std::to_string(i) + ", '" +
                            name + "'); UPDATE uploads SET hits = hits + 1 WHERE id % 7 = " +
                            std::to_string(i % 7) + ";"));
      ++*rows;
    }
  }

  // Snapshot while the writer runs; restore the dump into a fresh database
  // and the files into a fresh directory; every restored row's file must be
  // there.
  void SnapshotUnderLoad(const std::string& client, const std::string& dump_cmd,
                         const std::string& restore_db_cmd, const std::string& count_query) {
    std::atomic<bool> stop{false};
    std::atomic<int> rows{0};
    std::thread writer([&] { RunWriter(client, &stop, &rows); });
    while (rows < 30) usleep(10000);
    Repo repo(tmp_.path());
    auto snap = repo.Json("snapshot --dump shop=" + Quote(dump_cmd) + " --source upload=" +
                          Quote(uploads_));
    while (rows < 60) usleep(10000);
    stop = true;
    writer.join();
    ASSERT_TRUE(snap.contains("id"));
    CmdResult r = repo.Run("restore latest --dump shop --restore-command " + Quote(restore_db_cmd));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    repo.Json("restore latest --target " + Quote(tmp_.Sub("restored")));
    CmdResult paths = Sh(count_query);
    ASSERT_EQ(paths.exit_code, 0) << paths.err;
    std::istringstream in(paths.out);
    std::string path;
    int restored_rows = 0;
    while (std::getline(in, path)) {
      if (path.empty()) continue;
      ++restored_rows;
      EXPECT_TRUE(fsys::exists(tmp_.Sub("restored/upload/" + path)))
          << "row references " << path << " but the snapshot lacks the file";
    }
    EXPECT_GE(restored_rows, 30);
    EXPECT_LT(restored_rows, rows.load()) << "the writer should have outlived the dump";
    // The restored rows are exactly those of the dump's transaction.
    CmdResult dumped = repo.Run("dump latest shop | grep -oE 'f[0-9]+[.]jpg' | sort -u | wc -l");
    EXPECT_EQ(std::stoi(dumped.out), restored_rows);
  }

  TempDir tmp_;
  std::string db_dir_ = tmp_.Sub("db");
  std::string uploads_ = tmp_.Sub("upload");
  std::string script_;
  bool started_ = false;
};

TEST_F(Database, MariaDbSnapshotUnderWritesRestoresConsistently) {
  fsys::create_directories(uploads_);
  Start("mariadb.sh");
  std::string cli = "mariadb --socket=" + db_dir_ + "/mysql.sock -uroot ";
  ASSERT_EQ(Sh(cli + "-e 'CREATE DATABASE shop; CREATE DATABASE shop2; CREATE TABLE shop.uploads "
                     "(id INT PRIMARY KEY, path VARCHAR(200), hits INT DEFAULT 0) ENGINE=InnoDB'")
                .exit_code,
            0);
  SnapshotUnderLoad(cli + "shop -e ",
                    "mysqldump --socket=" + db_dir_ +
                        "/mysql.sock -uroot --single-transaction --skip-dump-date shop",
                    cli + "shop2", cli + "-N -B shop2 -e 'SELECT path FROM uploads ORDER BY id'");
}

TEST_F(Database, MysqlPresetFromTheConfigDumpsAndRestores) {
  Start("mariadb.sh");
  std::string sock = db_dir_ + "/mysql.sock";
  std::string cli = "mariadb --socket=" + sock + " -uroot ";
  ASSERT_EQ(Sh(cli + "-e \"CREATE DATABASE pim; CREATE TABLE pim.products (sku VARCHAR(20) "
                     "PRIMARY KEY, name TEXT); INSERT INTO pim.products VALUES ('A1','chair'),"
                     "('B2','table')\"").exit_code, 0);
  std::string config = tmp_.Sub("snapctl.toml");
  std::ofstream(config) << "[repository]\npath = \"" << tmp_.Sub("repo") << "\"\n"
                        << "[dump.catalog]\nkind = \"mysql\"\ndatabase = \"pim\"\n"
                        << "options = \"--socket=" << sock << " -uroot\"\n";
  std::string snapctl = "SNAPCTL_KEY_DIR=" + Quote(tmp_.Sub("keys")) + " " + Quote(Bin()) +
                        " --config " + Quote(config) + " ";
  ASSERT_EQ(Sh(snapctl + "init").exit_code, 0);
  CmdResult snap = Sh(snapctl + "snapshot");
  ASSERT_EQ(snap.exit_code, 0) << snap.err;
  ASSERT_EQ(Sh(cli + "-e 'DROP TABLE pim.products'").exit_code, 0);
  CmdResult r = Sh(snapctl + "restore latest --dump catalog");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  CmdResult rows = Sh(cli + "-N -B -e 'SELECT sku, name FROM pim.products ORDER BY sku'");
  EXPECT_EQ(rows.out, "A1\tchair\nB2\ttable\n");
}

TEST_F(Database, PostgresSnapshotUnderWritesRestoresConsistently) {
  fsys::create_directories(uploads_);
  Start("postgres.sh");
  std::string cli = "psql -h " + db_dir_ + " -U postgres -v ON_ERROR_STOP=1 -q ";
  ASSERT_EQ(Sh(cli + "-c 'CREATE DATABASE shop' && " + cli + "-c 'CREATE DATABASE shop2' && " + cli +
               "-d shop -c 'CREATE TABLE uploads (id INT PRIMARY KEY, path TEXT, hits INT DEFAULT "
               "0)'")
                .exit_code,
            0);
  SnapshotUnderLoad(cli + "-d shop -c ", "pg_dump -h " + db_dir_ + " -U postgres --format=plain shop",
                    cli + "-d shop2", cli + "-At -d shop2 -c 'SELECT path FROM uploads ORDER BY id'");
}

}  // namespace
}  // namespace snap::test

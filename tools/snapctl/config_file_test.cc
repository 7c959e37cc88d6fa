// Tests for the snapctl config file (config_file.h).
//
// The full example, as the README shows it (kExample below holds the same):
//
//   # /etc/snapctl/snapctl.toml
//   [repository]
//   path = "/srv/backup/pim"
//   password_file = "/etc/snapctl/password"
//   key_file = "/etc/snapctl/key"
//
//   [source.uploads]
//   path = "/var/www/pim/upload"
//
//   [source.archive]
//   path = "/var/www/pim/archive"
//   exclude = ["cache/**", "*.tmp"]
//   exclude_caches = true
//
//   [dump.catalog]
//   kind = "mysql"
//   database = "pim"
//   options = "--defaults-extra-file=/etc/snapctl/my.cnf"
//
//   [dump.analytics]
//   kind = "postgres"
//   database = "analytics"
//   format = "custom"
//
//   [dump.events]
//   kind = "mongodb"
//   database = "events"
//
//   [dump.sessions]
//   command = "sqlite3 /var/lib/pim/sessions.db .dump"
//   restore = "sqlite3 /var/lib/pim/sessions.db"
//
//   [hooks]
//   pre = "systemctl stop pim-workers"
//   post = "systemctl start pim-workers"
//
//   [chunking.files]
//   min = 524288
//   avg = 1048576
//   max = 8388608
//
//   [chunking.dumps]
//   min = 65536
//   avg = 262144
//   max = 1048576
//
//   # snapctl restore --profile dev: uploads and the catalog, then clear caches
//   [profile.dev]
//   sources = ["uploads"]
//   dumps = ["catalog"]
//   post = ["php bin/console cache:clear"]
//
//   [profile.full]
//   dumps = ["catalog", "analytics", "events", "sessions"]
#include "tools/snapctl/config_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <string_view>

#include "tests/support/test_util.h"

namespace snap::cli {
namespace {

using engine::Result;

constexpr std::string_view kExample = R"(# /etc/snapctl/snapctl.toml
[repository]
path = "/srv/backup/pim"
password_file = "/etc/snapctl/password"
key_file = "/etc/snapctl/key"

[source.uploads]
path = "/var/www/pim/upload"

[source.archive]
path = "/var/www/pim/archive"
exclude = ["cache/**", "*.tmp"]
exclude_caches = true

[dump.catalog]
kind = "mysql"
database = "pim"
options = "--defaults-extra-file=/etc/snapctl/my.cnf"

[dump.analytics]
kind = "postgres"
database = "analytics"
format = "custom"

[dump.events]
kind = "mongodb"
database = "events"

[dump.sessions]
command = "sqlite3 /var/lib/pim/sessions.db .dump"
restore = "sqlite3 /var/lib/pim/sessions.db"

[hooks]
pre = "systemctl stop pim-workers"
post = "systemctl start pim-workers"

[chunking.files]
min = 524288
avg = 1048576
max = 8388608

[chunking.dumps]
min = 65536
avg = 262144
max = 1048576

# snapctl restore --profile dev: uploads and the catalog, then clear caches
[profile.dev]
sources = ["uploads"]
dumps = ["catalog"]
post = ["php bin/console cache:clear"]

[profile.full]
dumps = ["catalog", "analytics", "events", "sessions"]
)";

constexpr char kFile[] = "/etc/snapctl/snapctl.toml";

// The 1-based number of the first line of `text` containing `needle`; 0 if none.
int LineOf(std::string_view text, std::string_view needle) {
  size_t pos = text.find(needle);
  if (pos == std::string_view::npos) return 0;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + pos, '\n'));
}

// Succeeds when parsing `text` fails with an error
// "<kFile>:<line of `at`>: <key>: <what>...".
::testing::AssertionResult HasError(std::string_view text, std::string_view at,
                                    std::string_view key, std::string_view what = "") {
  Result<ConfigFile> r = ParseConfigText(text, kFile);
  if (r.ok()) return ::testing::AssertionFailure() << "parsed without error";
  if (!r.status().IsInvalidArgument())
    return ::testing::AssertionFailure() << "not InvalidArgument: " << r.status().ToString();
  int line = LineOf(text, at);
  if (line == 0) return ::testing::AssertionFailure() << "test bug: no \"" << at << "\" in text";
  std::string want = std::string(kFile) + ":" + std::to_string(line) + ": " + std::string(key) +
                     ": " + std::string(what);
  if (r.status().message().find(want) == std::string::npos)
    return ::testing::AssertionFailure() << "no \"" << want << "\" in:\n" << r.status().message();
  return ::testing::AssertionSuccess();
}

std::string MessageOf(std::string_view text) {
  Result<ConfigFile> r = ParseConfigText(text, kFile);
  return r.ok() ? "" : r.status().message();
}

TEST(ConfigFile, FullExampleParsesIntoStructs) {
  Result<ConfigFile> r = ParseConfigText(kExample, kFile);
  ASSERT_OK(r);
  const ConfigFile& c = *r;
  EXPECT_EQ(c.path, kFile);
  EXPECT_EQ(c.repository, "/srv/backup/pim");
  EXPECT_EQ(c.password_file, "/etc/snapctl/password");
  EXPECT_EQ(c.key_file, "/etc/snapctl/key");

  ASSERT_EQ(c.sources.size(), 2u);  // In file order, not sorted.
  EXPECT_EQ(c.sources[0].name, "uploads");
  EXPECT_EQ(c.sources[0].path, "/var/www/pim/upload");
  EXPECT_TRUE(c.sources[0].excludes.empty());
  EXPECT_FALSE(c.sources[0].exclude_caches);
  EXPECT_EQ(c.sources[1].name, "archive");
  EXPECT_EQ(c.sources[1].path, "/var/www/pim/archive");
  EXPECT_EQ(c.sources[1].excludes, (std::vector<std::string>{"cache/**", "*.tmp"}));
  EXPECT_TRUE(c.sources[1].exclude_caches);

  ASSERT_EQ(c.dumps.size(), 4u);
  EXPECT_EQ(c.dumps[0].name, "catalog");
  EXPECT_EQ(c.dumps[0].kind, DumpKind::kMysql);
  EXPECT_EQ(c.dumps[0].database, "pim");
  EXPECT_EQ(c.dumps[0].options, "--defaults-extra-file=/etc/snapctl/my.cnf");
  EXPECT_EQ(c.dumps[1].name, "analytics");
  EXPECT_EQ(c.dumps[1].kind, DumpKind::kPostgres);
  EXPECT_EQ(c.dumps[1].format, "custom");
  EXPECT_EQ(c.dumps[2].name, "events");
  EXPECT_EQ(c.dumps[2].kind, DumpKind::kMongodb);
  EXPECT_EQ(c.dumps[3].name, "sessions");
  EXPECT_EQ(c.dumps[3].kind, DumpKind::kCommand);
  EXPECT_EQ(c.dumps[3].command, "sqlite3 /var/lib/pim/sessions.db .dump");
  EXPECT_EQ(c.dumps[3].restore, "sqlite3 /var/lib/pim/sessions.db");

  EXPECT_EQ(c.pre_hook, "systemctl stop pim-workers");
  EXPECT_EQ(c.post_hook, "systemctl start pim-workers");
  EXPECT_EQ(c.file_chunking.min, 524288u);
  EXPECT_EQ(c.file_chunking.avg, 1048576u);
  EXPECT_EQ(c.file_chunking.max, 8388608u);
  EXPECT_EQ(c.dump_chunking.min, 65536u);
  EXPECT_EQ(c.dump_chunking.avg, 262144u);
  EXPECT_EQ(c.dump_chunking.max, 1048576u);

  ASSERT_EQ(c.profiles.size(), 2u);
  const ProfileConfig& dev = c.profiles.at("dev");
  EXPECT_EQ(dev.name, "dev");
  EXPECT_EQ(dev.sources, std::vector<std::string>{"uploads"});
  EXPECT_EQ(dev.dumps, std::vector<std::string>{"catalog"});
  EXPECT_EQ(dev.post, std::vector<std::string>{"php bin/console cache:clear"});
  const ProfileConfig& full = c.profiles.at("full");
  EXPECT_TRUE(full.sources.empty());  // All sources.
  EXPECT_EQ(full.dumps.size(), 4u);
}

TEST(ConfigFile, LoadingExpandsPresetsIntoTheCommandsRun) {
  Result<ConfigFile> r = ParseConfigText(kExample, kFile);
  ASSERT_OK(r);
  EXPECT_EQ(r->dumps[0].command,
            "mysqldump --single-transaction --routines --triggers --events --hex-blob "
            "--skip-dump-date --default-character-set=utf8mb4 "
            "--defaults-extra-file=/etc/snapctl/my.cnf 'pim'");
  EXPECT_EQ(r->dumps[0].restore, "mysql --defaults-extra-file=/etc/snapctl/my.cnf 'pim'");
  EXPECT_EQ(r->dumps[1].command, "pg_dump --format=custom --compress=0 --no-sync 'analytics'");
  EXPECT_EQ(r->dumps[1].restore, "pg_restore --exit-on-error -d 'analytics'");
  EXPECT_EQ(r->dumps[2].command, "mongodump --archive --db='events'");
  EXPECT_EQ(r->dumps[2].restore, "mongorestore --archive");
}

TEST(ConfigFile, FindDumpAndFindProfileLookUpByName) {
  Result<ConfigFile> r = ParseConfigText(kExample, kFile);
  ASSERT_OK(r);
  ASSERT_NE(r->FindDump("events"), nullptr);
  EXPECT_EQ(r->FindDump("events")->database, "events");
  EXPECT_EQ(r->FindDump("uploads"), nullptr);  // A source, not a dump.
  ASSERT_NE(r->FindProfile("dev"), nullptr);
  EXPECT_EQ(r->FindProfile("dev")->name, "dev");
  EXPECT_EQ(r->FindProfile("prod"), nullptr);
}

TEST(ConfigFile, EmptyFileIsAValidConfig) {
  Result<ConfigFile> r = ParseConfigText("", kFile);
  ASSERT_OK(r);
  EXPECT_TRUE(r->sources.empty());
  EXPECT_TRUE(r->dumps.empty());
  EXPECT_FALSE(r->file_chunking.avg.has_value());
}

TEST(ConfigFile, LoadConfigFileReadsTheFileAndRecordsItsPath) {
  test::TempDir dir;
  const std::string path = dir.Sub("snapctl.toml");
  std::ofstream(path) << kExample;
  Result<ConfigFile> r = LoadConfigFile(path);
  ASSERT_OK(r);
  EXPECT_EQ(r->path, path);
  EXPECT_EQ(r->sources.size(), 2u);
}

TEST(ConfigFile, LoadConfigFileErrorsNameTheLoadedFile) {
  test::TempDir dir;
  const std::string path = dir.Sub("snapctl.toml");
  std::ofstream(path) << "[source.uploads]\npth = \"/x\"\n";
  Result<ConfigFile> r = LoadConfigFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(path + ":2: source.uploads.pth: unknown key"),
            std::string::npos)
      << r.status().message();
}

TEST(ConfigFile, MissingFileIsNotFoundNamingThePath) {
  test::TempDir dir;
  const std::string path = dir.Sub("absent.toml");
  Result<ConfigFile> r = LoadConfigFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound()) << r.status().ToString();
  EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().message();
}

TEST(ConfigFile, BrokenTomlNamesFileLineAndColumn) {
  std::string msg = MessageOf("[source.uploads]\npath = \"/x\"\nexclude = [\"a\",\n  oops\n");
  EXPECT_EQ(msg.rfind(std::string(kFile) + ":4:3: ", 0), 0u) << msg;
  msg = MessageOf("[hooks]\npre = \"a\"\npre = \"b\"\n");  // Duplicate key.
  EXPECT_EQ(msg.rfind(std::string(kFile) + ":3:", 0), 0u) << msg;
}

TEST(ConfigFile, PathologicalInputIsAnErrorNotAnException) {
  EXPECT_NE(MessageOf("a = " + std::string(10000, '[')), "");
  EXPECT_NE(MessageOf(std::string("x = \"\xff\xfe\"\n")), "");  // Not UTF-8.
  EXPECT_NE(MessageOf(std::string("\0\0\0", 3)), "");
}

TEST(ConfigFile, UnknownKeyIsReportedWithFileLineAndKey) {
  constexpr std::string_view kText = "[source.uploads]\npath = \"/x\"\npth = \"/y\"\n";
  EXPECT_EQ(MessageOf(kText),
            std::string(kFile) +
                ":3: source.uploads.pth: unknown key; expected path, exclude, exclude_caches");
  EXPECT_TRUE(HasError("[repository]\npassword = \"x\"\n", "password", "repository.password",
                       "unknown key; expected path, password_file, key_file"));
  EXPECT_TRUE(HasError("[dump.db]\nkind = \"mysql\"\ndatabse = \"x\"\n", "databse",
                       "dump.db.databse", "unknown key; expected kind, database"));
  EXPECT_TRUE(HasError("[hooks]\npre = \"a\"\npost_fail = \"b\"\n", "post_fail", "hooks.post_fail",
                       "unknown key; expected pre, post"));
  EXPECT_TRUE(HasError("[chunking.files]\naverage = 4096\n", "average", "chunking.files.average",
                       "unknown key; expected min, avg, max"));
  EXPECT_TRUE(HasError("[chunking.all]\navg = 4096\n", "[chunking.all]", "chunking.all",
                       "unknown key; expected files, dumps"));
  EXPECT_TRUE(HasError("[profile.dev]\nsource = [\"a\"]\n", "source =", "profile.dev.source",
                       "unknown key; expected sources, dumps, post"));
}

TEST(ConfigFile, UnknownTopLevelTableIsReportedWithFileLineAndKey) {
  constexpr std::string_view kText =
      "[source.uploads]\npath = \"/x\"\n\n[sources.archive]\npath = \"/y\"\n";
  EXPECT_TRUE(HasError(kText, "[sources.", "sources", "unknown table; expected repository"));
  EXPECT_TRUE(HasError("verbose = true\n", "verbose", "verbose", "unknown key; expected"));
}

TEST(ConfigFile, WrongTypesAreReportedWithFileLineAndKey) {
  EXPECT_TRUE(HasError("[source.a]\npath = 5\n", "path", "source.a.path",
                       "must be a string, not an integer"));
  EXPECT_TRUE(HasError("[source.a]\npath = \"/a\"\nexclude = \"cache\"\n", "exclude",
                       "source.a.exclude", "must be an array of strings"));
  EXPECT_TRUE(HasError("[source.a]\npath = \"/a\"\nexclude = [\n  \"x\",\n  7,\n]\n", "7",
                       "source.a.exclude[1]", "must be a string, not an integer"));
  EXPECT_TRUE(HasError("[source.a]\npath = \"/a\"\nexclude_caches = \"yes\"\n", "exclude_caches",
                       "source.a.exclude_caches", "must be true or false, not a string"));
  EXPECT_TRUE(HasError("repository = \"/srv\"\n", "repository", "repository",
                       "must be a table, not a string"));
  EXPECT_TRUE(HasError("[repository]\npath = [\"/srv\"]\n", "path", "repository.path",
                       "must be a string, not an array"));
  EXPECT_TRUE(
      HasError("[hooks]\npre = 1.5\n", "pre", "hooks.pre", "must be a string, not a float"));
  EXPECT_TRUE(HasError("[dump.d]\ncommand = true\n", "command", "dump.d.command",
                       "must be a string, not a boolean"));
  EXPECT_TRUE(HasError("[profile.p]\npost = \"make clean\"\n", "post", "profile.p.post",
                       "must be an array of strings"));
  EXPECT_TRUE(HasError("source = [\"/var/www\"]\n", "source", "source",
                       "must be tables [source.NAME], not an array"));
  EXPECT_TRUE(HasError("[source]\nuploads = \"/var/www\"\n", "uploads", "source.uploads",
                       "must be a table, not a string"));
}

TEST(ConfigFile, SourceWithoutPathIsReported) {
  EXPECT_TRUE(HasError("[source.a]\npath = \"/a\"\n\n[source.b]\nexclude = [\"x\"]\n", "[source.b]",
                       "source.b", "no path; add path = "));
}

TEST(ConfigFile, RelativeSourcePathIsReported) {
  EXPECT_TRUE(HasError("[source.a]\npath = \"var/www\"\n", "var/www", "source.a.path",
                       "\"var/www\" is not absolute"));
  EXPECT_TRUE(
      HasError("[source.a]\npath = \"\"\n", "path", "source.a.path", "\"\" is not absolute"));
}

TEST(ConfigFile, NamesThatAreNotOnePathComponentAreReported) {
  constexpr std::string_view kWhat = "the name must be one path component";
  EXPECT_TRUE(HasError("[source.\"a/b\"]\npath = \"/a\"\n", "a/b", "source.\"a/b\"", kWhat));
  EXPECT_TRUE(HasError("[source.\"..\"]\npath = \"/a\"\n", "..", "source.\"..\"", kWhat));
  EXPECT_TRUE(HasError("[source.\".\"]\npath = \"/a\"\n", "\".\"", "source.\".\"", kWhat));
  EXPECT_TRUE(HasError("[source.\"\"]\npath = \"/a\"\n", "\"\"", "source.\"\"", kWhat));
  EXPECT_TRUE(HasError("\n[dump.\"a\\u0000b\"]\ncommand = \"x\"\n", "a\\u0000b",
                       "dump.\"a\\u0000b\"", kWhat));
  EXPECT_TRUE(HasError("[dump.\"x/y\"]\ncommand = \"x\"\n", "x/y", "dump.\"x/y\"", kWhat));
  EXPECT_TRUE(
      HasError("[profile.\"../dev\"]\ndumps = []\n", "../dev", "profile.\"../dev\"", kWhat));
}

TEST(ConfigFile, NameUsedBySourceAndDumpIsReportedAtTheSecondUse) {
  constexpr std::string_view kText =
      "[dump.shop]\nkind = \"mysql\"\n\n[source.uploads]\npath = \"/u\"\n\n"
      "[source.shop]\npath = \"/var/www/shop\"\n";
  EXPECT_TRUE(HasError(kText, "[source.shop]", "source.shop",
                       "the name is already used by dump.shop (line 1); sources and dumps share "
                       "one namespace"));
}

TEST(ConfigFile, ProfileNamesAreSeparateFromSourceAndDumpNames) {
  ASSERT_OK(ParseConfigText("[source.shop]\npath = \"/s\"\n[profile.shop]\nsources = [\"shop\"]\n",
                            kFile));
}

TEST(ConfigFile, UnknownDumpKindIsReported) {
  EXPECT_EQ(MessageOf("[dump.catalog]\nkind = \"mysq\"\n"),
            std::string(kFile) +
                ":2: dump.catalog.kind: unknown kind 'mysq'; use mysql, postgres, mongodb or "
                "command");
}

TEST(ConfigFile, CommandDumpWithoutCommandIsReported) {
  EXPECT_TRUE(HasError("[dump.ldap]\nkind = \"command\"\nrestore = \"slapadd\"\n", "[dump.ldap]",
                       "dump.ldap", "kind \"command\" needs a command"));
  EXPECT_TRUE(HasError("[dump.ldap]\nrestore = \"slapadd\"\n", "[dump.ldap]", "dump.ldap",
                       "no kind and no command"));
}

TEST(ConfigFile, CommandDumpRejectsPresetArguments) {
  EXPECT_TRUE(HasError("[dump.d]\ncommand = \"x\"\ndatabase = \"pim\"\n", "database",
                       "dump.d.database", "only the presets"));
}

TEST(ConfigFile, PostgresFormatOtherThanPlainOrCustomIsReported) {
  EXPECT_TRUE(HasError("[dump.pg]\nkind = \"postgres\"\ndatabase = \"a\"\nformat = \"tar\"\n",
                       "format", "dump.pg.format", "unknown format 'tar'; use plain or custom"));
  EXPECT_TRUE(HasError("[dump.my]\nkind = \"mysql\"\nformat = \"custom\"\n", "format",
                       "dump.my.format", "only kind \"postgres\" has a format"));
}

TEST(ConfigFile, PostgresWithoutDatabaseIsReported) {
  EXPECT_TRUE(HasError("[dump.pg]\nkind = \"postgres\"\n", "[dump.pg]", "dump.pg",
                       "kind \"postgres\" needs a database"));
}

TEST(ConfigFile, ChunkSizesMustBePositiveIntegers) {
  constexpr std::string_view kWhat = "must be a positive integer number of bytes";
  EXPECT_TRUE(HasError("[chunking.files]\nmin = 0\n", "min", "chunking.files.min", kWhat));
  EXPECT_TRUE(HasError("[chunking.dumps]\navg = -4096\n", "avg", "chunking.dumps.avg", kWhat));
  EXPECT_TRUE(HasError("[chunking.dumps]\nmax = \"1M\"\n", "max", "chunking.dumps.max", kWhat));
  EXPECT_TRUE(HasError("[chunking.dumps]\nmax = 1.5\n", "max", "chunking.dumps.max", kWhat));
  EXPECT_TRUE(HasError("[chunking.files]\nmax = 8589934592\n", "max", "chunking.files.max", kWhat));
}

TEST(ConfigFile, ChunkSizesNeedMinBelowAvgBelowMax) {
  EXPECT_TRUE(HasError("[chunking.files]\nmin = 8192\navg = 4096\nmax = 65536\n", "min",
                       "chunking.files.min", "must be below avg (4096)"));
  EXPECT_TRUE(HasError("[chunking.files]\nmin = 1024\navg = 4096\nmax = 4096\n", "max",
                       "chunking.files.max", "must be above avg (4096)"));
  EXPECT_TRUE(HasError("[chunking.dumps]\nmin = 9000\nmax = 8000\n", "max", "chunking.dumps.max",
                       "must be above min (9000)"));
}

TEST(ConfigFile, ChunkAvgMustBeAPowerOfTwo) {
  EXPECT_TRUE(HasError("[chunking.files]\nmin = 1024\navg = 3000\nmax = 65536\n", "avg",
                       "chunking.files.avg", "3000 is not a power of two; use 2048 or 4096"));
}

TEST(ConfigFile, PartialChunkSizesAreKeptAsGiven) {
  Result<ConfigFile> r = ParseConfigText("[chunking.dumps]\navg = 65536\n", kFile);
  ASSERT_OK(r);
  EXPECT_FALSE(r->dump_chunking.min.has_value());
  EXPECT_EQ(r->dump_chunking.avg, 65536u);
  EXPECT_FALSE(r->dump_chunking.max.has_value());
}

TEST(ConfigFile, ProfileNamingAMissingSourceOrDumpIsReported) {
  constexpr std::string_view kText =
      "[profile.dev]\nsources = [\"uploads\", \"archiv\"]\ndumps = [\n  \"catalogue\",\n]\n\n"
      "[source.uploads]\npath = \"/u\"\n\n[source.archive]\npath = \"/a\"\n\n"
      "[dump.catalog]\nkind = \"mysql\"\n";
  EXPECT_TRUE(HasError(kText, "archiv\"", "profile.dev.sources",
                       "no source named \"archiv\" (defined: uploads, archive)"));
  EXPECT_TRUE(HasError(kText, "\"catalogue\"", "profile.dev.dumps",
                       "no dump named \"catalogue\" (defined: catalog)"));
  EXPECT_TRUE(HasError("[profile.dev]\ndumps = [\"db\"]\n", "dumps", "profile.dev.dumps",
                       "no dump named \"db\" (none are defined)"));
}

TEST(ConfigFile, ProfileNamingADumpWithoutRestoreIsReported) {
  constexpr std::string_view kText =
      "[dump.ldap]\ncommand = \"slapcat\"\n\n[profile.dev]\ndumps = [\"ldap\"]\n";
  EXPECT_TRUE(HasError(kText, "[\"ldap\"]", "profile.dev.dumps",
                       "dump \"ldap\" has no restore command; add restore = "));
}

TEST(ConfigFile, PeersAndReplicationSettingsAreRead) {
  Result<ConfigFile> r = ParseConfigText(
      "[peer.offsite]\nurl = \"replica://backup1:7411\"\nfingerprint = \"sha256:ab\"\n\n"
      "[replication]\nattempts = 5\nbackoff_seconds = 30\n\n[retention]\nkeep_daily = 7\n",
      kFile);
  ASSERT_OK(r);
  ASSERT_EQ(r->peers.size(), 1u);
  EXPECT_EQ(r->peers[0].name, "offsite");
  EXPECT_EQ(r->peers[0].url, "replica://backup1:7411");
  EXPECT_EQ(r->peers[0].fingerprint, "sha256:ab");
  EXPECT_EQ(r->replication.attempts, 5);
  EXPECT_EQ(r->replication.backoff_seconds, 30);
}

TEST(ConfigFile, PeerWithoutUrlOrUnknownKeyIsAnError) {
  std::string msg = MessageOf("[peer.offsite]\nurl = \"replica://b:1\"\nanything = 1\n"
                              "[replication]\nattempts = 0\n");
  EXPECT_NE(msg.find("peer.offsite.anything: unknown key; expected url, fingerprint"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("peer.offsite: needs url"), std::string::npos) << msg;
  EXPECT_NE(msg.find("replication.attempts: expected a whole number from 1 to 100"),
            std::string::npos) << msg;
}

TEST(ConfigFile, RetentionPolicyIsRead) {
  Result<ConfigFile> r = ParseConfigText(
      "[retention]\nkeep_last = 3\nkeep_hourly = 24\nkeep_daily = 7\nkeep_weekly = 4\n"
      "keep_monthly = 12\nkeep_yearly = 2\nkeep_within = \"1y6m\"\n",
      kFile);
  ASSERT_OK(r);
  const RetentionConfig& k = r->retention;
  EXPECT_EQ(k.keep_last, 3);
  EXPECT_EQ(k.keep_hourly, 24);
  EXPECT_EQ(k.keep_daily, 7);
  EXPECT_EQ(k.keep_weekly, 4);
  EXPECT_EQ(k.keep_monthly, 12);
  EXPECT_EQ(k.keep_yearly, 2);
  EXPECT_EQ(k.keep_within, "1y6m");
}

TEST(ConfigFile, RetentionWithoutTheTableHasNoRules) {
  Result<ConfigFile> r = ParseConfigText("[hooks]\npre = \"true\"\n", kFile);
  ASSERT_OK(r);
  EXPECT_EQ(r->retention.keep_daily, 0);
  EXPECT_EQ(r->retention.keep_within, "");
}

TEST(ConfigFile, BadRetentionValuesAreReportedWithTheirKeys) {
  std::string msg = MessageOf(
      "[retention]\nkeep_daily = 0\nkeep_weekly = \"4\"\nkeep_within = \"30 days\"\n"
      "daily = 7\n");
  EXPECT_NE(msg.find(":2: retention.keep_daily: expected a whole number from 1 to 1000000"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find(":3: retention.keep_weekly: expected a whole number"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find(":4: retention.keep_within: cannot read duration '30 days'"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find(":5: retention.daily: unknown key; expected keep_last, keep_hourly"),
            std::string::npos) << msg;
}

TEST(ConfigFile, AllErrorsAreReportedInLineOrder) {
  std::string msg = MessageOf(
      "[source.b]\npath = \"rel\"\n[source.a]\npth = \"/a\"\n[dump.d]\nkind = \"oracle\"\n");
  const std::string f = kFile;
  EXPECT_EQ(msg, f + ":2: source.b.path: \"rel\" is not absolute; give the full path from /\n" + f +
                     ":3: source.a: no path; add path = \"/absolute/directory\"\n" + f +
                     ":4: source.a.pth: unknown key; expected path, exclude, exclude_caches\n" + f +
                     ":6: dump.d.kind: unknown kind 'oracle'; use mysql, postgres, mongodb "
                     "or command");
}

DumpConfig Dump(DumpKind kind, std::string database, std::string options = "") {
  DumpConfig d;
  d.kind = kind;
  d.database = std::move(database);
  d.options = std::move(options);
  return d;
}

TEST(ConfigFilePresets, MysqlDumpsOneDatabaseInOneTransaction) {
  DumpConfig d = Dump(DumpKind::kMysql, "pim", "-h db1 -u backup");
  EXPECT_EQ(PresetDumpCommand(d),
            "mysqldump --single-transaction --routines --triggers --events --hex-blob "
            "--skip-dump-date --default-character-set=utf8mb4 -h db1 -u backup 'pim'");
  EXPECT_EQ(PresetRestoreCommand(d), "mysql -h db1 -u backup 'pim'");
}

TEST(ConfigFilePresets, MysqlWithoutDatabaseDumpsAllDatabases) {
  DumpConfig d = Dump(DumpKind::kMysql, "");
  EXPECT_EQ(PresetDumpCommand(d),
            "mysqldump --single-transaction --routines --triggers --events --hex-blob "
            "--skip-dump-date --default-character-set=utf8mb4 --all-databases");
  EXPECT_EQ(PresetRestoreCommand(d), "mysql");
}

TEST(ConfigFilePresets, PostgresPlainUsesPgDumpAndPsql) {
  DumpConfig d = Dump(DumpKind::kPostgres, "shop", "-h /run/postgresql");
  EXPECT_EQ(PresetDumpCommand(d), "pg_dump --format=plain --no-sync -h /run/postgresql 'shop'");
  EXPECT_EQ(PresetRestoreCommand(d), "psql -v ON_ERROR_STOP=1 --quiet -h /run/postgresql 'shop'");
}

TEST(ConfigFilePresets, PostgresCustomIsUncompressedAndRestoredWithPgRestore) {
  DumpConfig d = Dump(DumpKind::kPostgres, "shop");
  d.format = "custom";
  EXPECT_EQ(PresetDumpCommand(d), "pg_dump --format=custom --compress=0 --no-sync 'shop'");
  EXPECT_EQ(PresetRestoreCommand(d), "pg_restore --exit-on-error -d 'shop'");
}

TEST(ConfigFilePresets, MongodbWritesAnUncompressedArchive) {
  DumpConfig d = Dump(DumpKind::kMongodb, "events", "--uri=mongodb://db1");
  EXPECT_EQ(PresetDumpCommand(d), "mongodump --archive --uri=mongodb://db1 --db='events'");
  EXPECT_EQ(PresetRestoreCommand(d), "mongorestore --archive --uri=mongodb://db1");
  DumpConfig all = Dump(DumpKind::kMongodb, "");
  EXPECT_EQ(PresetDumpCommand(all), "mongodump --archive");
  EXPECT_EQ(PresetRestoreCommand(all), "mongorestore --archive");
}

TEST(ConfigFilePresets, CommandKindRunsTheCommandAsGiven) {
  DumpConfig d;
  d.kind = DumpKind::kCommand;
  d.command = "slapcat -n 1";
  EXPECT_EQ(PresetDumpCommand(d), "slapcat -n 1");
  EXPECT_EQ(PresetRestoreCommand(d), "");
  d.restore = "slapadd -n 1";
  EXPECT_EQ(PresetRestoreCommand(d), "slapadd -n 1");
}

TEST(ConfigFilePresets, ExplicitCommandAndRestoreOverrideThePreset) {
  DumpConfig d = Dump(DumpKind::kMysql, "pim");
  d.command = "mysqldump --single-transaction pim";
  EXPECT_EQ(PresetDumpCommand(d), "mysqldump --single-transaction pim");
  EXPECT_EQ(PresetRestoreCommand(d), "mysql 'pim'");
  d.restore = "mysql -h staging pim";
  EXPECT_EQ(PresetRestoreCommand(d), "mysql -h staging pim");

  Result<ConfigFile> r = ParseConfigText(
      "[dump.pg]\nkind = \"postgres\"\ndatabase = \"a\"\nrestore = \"psql b\"\n", kFile);
  ASSERT_OK(r);
  EXPECT_EQ(r->dumps[0].command, "pg_dump --format=plain --no-sync 'a'");
  EXPECT_EQ(r->dumps[0].restore, "psql b");
}

TEST(ConfigFilePresets, EmptyOrPaddedOptionsLeaveNoDoubleSpaces) {
  for (std::string options : {"", "  ", " -h db1 "}) {
    for (DumpKind kind : {DumpKind::kMysql, DumpKind::kPostgres, DumpKind::kMongodb}) {
      for (std::string db : {"", "pim"}) {
        DumpConfig d = Dump(kind, db, options);
        for (const std::string& cmd : {PresetDumpCommand(d), PresetRestoreCommand(d)}) {
          EXPECT_EQ(cmd.find("  "), std::string::npos) << cmd;
          EXPECT_NE(cmd.back(), ' ') << cmd;
        }
      }
    }
  }
}

TEST(ConfigFilePresets, DatabaseNamesAreSingleQuotedSafely) {
  DumpConfig d = Dump(DumpKind::kPostgres, "it's; rm -rf /");
  EXPECT_EQ(PresetDumpCommand(d), "pg_dump --format=plain --no-sync 'it'\\''s; rm -rf /'");
  d = Dump(DumpKind::kMongodb, "a'b");
  EXPECT_EQ(PresetDumpCommand(d), "mongodump --archive --db='a'\\''b'");
}

}  // namespace
}  // namespace snap::cli

// snapctl forget through the real binary: a year of daily snapshots taken
// with a simulated clock (--time), reduced by a retention policy, then gc;
// dry runs; the config file's [retention].
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "tests/support/e2e_util.h"
#include "tests/support/test_util.h"

namespace snap::test {
namespace {

namespace fsys = std::filesystem;

constexpr int64_t kDaySeconds = 86400;
constexpr int64_t k2026 = 1767225600;  // 2026-01-01T00:00:00Z

std::string Date(int day) {
  std::time_t t = k2026 + day * kDaySeconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

void SetMtime(const std::string& path, int64_t seconds) {
  struct timespec ts[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW), 0) << path;
}

// The tree as it was on `day`, reproducible from the day number alone. Each
// file has versions: f<i>.bin changes every kPeriods[i] days, daily.txt
// every day, weekly/w<j>.txt every week; tmp.log exists on even days only.
// A file's mtime is the day its version began. `written` holds what `dir`
// already has (path -> version), so a day's update rewrites only changes.
class DayTree {
 public:
  static void Make(const std::string& dir, int day, std::map<std::string, int>* written) {
    fsys::create_directories(dir + "/weekly");
    static constexpr int kPeriods[] = {2, 3, 5, 7, 11, 30, 90, 365};
    for (int i = 0; i < 8; ++i) Put(dir, "f" + std::to_string(i) + ".bin", i, day / kPeriods[i],
                                    day / kPeriods[i] * kPeriods[i], written);
    Put(dir, "daily.txt", 20, day, day, written);
    for (int j = 0; j < 3; ++j) Put(dir, "weekly/w" + std::to_string(j) + ".txt", 30 + j, day / 7,
                                    day / 7 * 7, written);
    if (day % 2 == 0) {
      Put(dir, "tmp.log", 40, day, day, written);
    } else {
      fsys::remove(dir + "/tmp.log");
      written->erase("tmp.log");
    }
    fsys::permissions(dir, fsys::perms(0755));
    SetMtime(dir + "/weekly", k2026 + day / 7 * 7 * kDaySeconds);
    SetMtime(dir, k2026 + day * kDaySeconds);
  }

 private:
  static void Put(const std::string& dir, const std::string& name, int file, int version,
                  int since_day, std::map<std::string, int>* written) {
    auto it = written->find(name);
    if (it != written->end() && it->second == version) return;
    uint32_t seed = static_cast<uint32_t>(file * 100000 + version);
    std::string path = dir + "/" + name;
    WriteRandomFile(path, 2000 + seed % 4000, seed);
    SetMtime(path, k2026 + since_day * kDaySeconds + file);
    (*written)[name] = version;
  }
};

class Retention : public ::testing::Test {
 protected:
  TempDir tmp_;
  std::string src_ = tmp_.Sub("data");
};

TEST_F(Retention, AYearOfDailySnapshotsKeepsTheHandCheckedDaysAndRestoresThem) {
  auto start = std::chrono::steady_clock::now();
  Repo repo(tmp_.path());
  std::map<std::string, int> written;
  for (int day = 0; day < 365; ++day) {
    DayTree::Make(src_, day, &written);
    CmdResult r = repo.Run("-q snapshot --host web1 --source data=" + Quote(src_) + " --time " +
                           Date(day) + "T03:00:00");
    ASSERT_EQ(r.exit_code, 0) << Date(day) << ": " << r.err;
  }
  auto taken = std::chrono::steady_clock::now();
  ASSERT_EQ(repo.Json("list").size(), 365u);

  auto plan = repo.Json("forget --keep-daily 7 --keep-weekly 4 --keep-monthly 12");
  // By hand: 2026-12-31 is a Thursday in ISO week 2026-W53. Daily: the last
  // seven days. Weekly: the newest of W53 (12-31), W52 (Sun 12-27), W51
  // (Sun 12-20), W50 (Sun 12-13). Monthly: the last day of each month.
  const std::set<std::string> expected = {
      "2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31",
      "2026-06-30", "2026-07-31", "2026-08-31", "2026-09-30", "2026-10-31",
      "2026-11-30", "2026-12-13", "2026-12-20", "2026-12-25", "2026-12-26",
      "2026-12-27", "2026-12-28", "2026-12-29", "2026-12-30", "2026-12-31"};
  EXPECT_EQ(plan["kept"], expected.size());
  EXPECT_EQ(plan["removed"], 365 - expected.size());
  std::map<std::string, std::string> kept;  // date -> id
  for (const auto& s : repo.Json("list")) kept[s["time"].get<std::string>().substr(0, 10)] = s["id"];
  std::set<std::string> kept_dates;
  for (const auto& [date, id] : kept) kept_dates.insert(date);
  EXPECT_EQ(kept_dates, expected);
  for (const auto& s : plan["snapshots"]) {
    if (s["time"] != "2026-12-27T03:00:00Z") continue;
    EXPECT_EQ(s["reasons"], nlohmann::json({"daily 2026-12-27", "weekly 2026-W52"}));
  }

  uint64_t packs_before = DirBytes(repo.dir() + "/packs");
  auto gc1 = repo.Json("gc --grace 0s");
  auto gc2 = repo.Json("gc --grace 0s");
  uint64_t packs_after = DirBytes(repo.dir() + "/packs");
  EXPECT_GT(gc1["condemned_packs"].get<int>() + gc1["repacked_packs"].get<int>(), 0);
  EXPECT_GT(gc2["deleted_packs"], 0);
  EXPECT_LT(packs_after, packs_before);
  std::cout << "packs/ before gc: " << packs_before << " bytes, after: " << packs_after
            << " bytes; gc runs took " << gc1["seconds"] << " s and " << gc2["seconds"] << " s\n";
  auto check = repo.Json("check --read-data");
  EXPECT_EQ(check["ok"], true) << check.dump();

  for (const auto& [date, id] : kept) {
    int day = 0;
    while (Date(day) != date) ++day;
    std::string want = tmp_.Sub("want-" + date), out = tmp_.Sub("out-" + date);
    std::map<std::string, int> fresh;
    DayTree::Make(want, day, &fresh);
    CmdResult r = repo.Run("restore " + id + " --target " + Quote(out));
    ASSERT_EQ(r.exit_code, 0) << date << ": " << r.err;
    EXPECT_EQ(RsyncDiff(want, out + "/data"), "") << date;
    CmdResult d = Sh("diff -r " + Quote(want) + " " + Quote(out + "/data"));
    EXPECT_EQ(d.exit_code, 0) << date << ": " << d.out;
    fsys::remove_all(want);
    fsys::remove_all(out);
  }
  auto end = std::chrono::steady_clock::now();
  std::cout << "365 snapshots took " << std::chrono::duration<double>(taken - start).count()
            << " s; forget, gc, check and 20 restores "
            << std::chrono::duration<double>(end - taken).count() << " s\n";
}

TEST_F(Retention, DryRunListsReasonsAndChangesNothing) {
  Repo repo(tmp_.path());
  std::map<std::string, int> written;
  for (int day = 0; day < 10; ++day) {
    DayTree::Make(src_, day, &written);
    repo.Json("snapshot --source data=" + Quote(src_) + " --time " + Date(day) + "T03:00");
  }
  auto before = repo.Json("list");
  CmdResult r = repo.Run("forget --keep-last 2 --keep-weekly 2 --dry-run");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // 2026-01-10 is a Saturday in W02; W01's newest is Sunday 01-04.
  EXPECT_NE(r.out.find("2026-01-10T03:00:00Z  last, weekly 2026-W02"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2026-01-09T03:00:00Z  last\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2026-01-04T03:00:00Z  weekly 2026-W01"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("remove"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would keep 3 and remove 7"), std::string::npos) << r.out;
  EXPECT_EQ(repo.Json("list"), before);

  auto json = repo.Json("forget --keep-last 2 --keep-weekly 2 --dry-run");
  EXPECT_EQ(json["dry_run"], true);
  EXPECT_EQ(json["removed"], 0);
  EXPECT_EQ(json["would_remove"], 7);
  EXPECT_EQ(json["snapshots"].size(), 10u);
  EXPECT_EQ(repo.Json("list"), before);

  // gc --dry-run writes nothing either.
  repo.Json("forget --keep-last 1");
  std::string listing = Sh("cd " + Quote(repo.dir()) + " && find . -path ./index -prune -o -print | sort").out;
  auto gc = repo.Json("gc --dry-run --grace 0s");
  EXPECT_EQ(gc["dry_run"], true);
  EXPECT_GT(gc["condemned_packs"].get<int>() + gc["repacked_packs"].get<int>(), 0);
  EXPECT_EQ(Sh("cd " + Quote(repo.dir()) + " && find . -path ./index -prune -o -print | sort").out,
            listing);
}

TEST_F(Retention, ForgetRefusesWithoutAnyKeepRule) {
  Repo repo(tmp_.path());
  fsys::create_directories(src_);
  repo.Json("snapshot --source data=" + Quote(src_));
  CmdResult r = repo.Run("forget");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no --keep-* rule given; forget would remove every snapshot"),
            std::string::npos) << r.err;
  EXPECT_EQ(repo.Json("list").size(), 1u);
}

TEST_F(Retention, ConfigRetentionAppliesWhenNoKeepOptionIsGiven) {
  Repo repo(tmp_.path());
  fsys::create_directories(src_);
  for (int day = 0; day < 4; ++day)
    repo.Json("snapshot --source data=" + Quote(src_) + " --time " + Date(day));
  std::string config = tmp_.Sub("snapctl.toml");
  std::ofstream(config) << "[retention]\nkeep_last = 2\n";
  auto r = repo.Json("--config " + Quote(config) + " forget");
  EXPECT_EQ(r["kept"], 2);
  auto left = repo.Json("list");
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0]["time"], Date(2) + "T00:00:00Z");
  // A --keep-* option overrides the file.
  EXPECT_EQ(repo.Json("--config " + Quote(config) + " forget --keep-last 1")["kept"], 1);
}

TEST_F(Retention, TagLimitsForgettingToTaggedSnapshots) {
  Repo repo(tmp_.path());
  fsys::create_directories(src_);
  for (int day = 0; day < 3; ++day) {
    repo.Json("snapshot --source data=" + Quote(src_) + " --tag hourly --time " + Date(day));
    repo.Json("snapshot --source data=" + Quote(src_) + " --time " + Date(day) + "T12:00");
  }
  auto r = repo.Json("forget --keep-last 1 --tag hourly");
  EXPECT_EQ(r["snapshots"].size(), 3u);  // only the tagged ones are considered
  EXPECT_EQ(r["removed"], 2);
  EXPECT_EQ(repo.Json("list").size(), 4u);
}

}  // namespace
}  // namespace snap::test

#include "engine/gc/retention.h"

#include <gtest/gtest.h>

#include "tests/support/test_util.h"

namespace snap::engine::gc {
namespace {

constexpr int64_t kSec = 1000000000;
constexpr int64_t kHour = 3600 * kSec;
constexpr int64_t kDay = 24 * kHour;
// 2026-01-01T00:00:00Z, a Thursday.
constexpr int64_t k2026 = 1767225600 * kSec;

ChunkId IdOf(int n) {
  ChunkId id;
  id.bytes[0] = std::byte(n & 0xff);
  id.bytes[1] = std::byte(n >> 8);
  return id;
}

RetentionItem Snap(int n, int64_t time_ns, std::string host = "web1",
                   std::vector<std::string> tags = {}) {
  return {IdOf(n), time_ns, std::move(host), {"uploads", "db"}, std::move(tags)};
}

std::vector<int> Kept(const std::vector<RetentionItem>& items,
                      const std::vector<RetentionDecision>& d) {
  std::vector<int> out;
  for (size_t i = 0; i < items.size(); ++i)
    if (d[i].keep) out.push_back(static_cast<int>(i));
  return out;
}

TEST(RetentionBuckets, AreUtcCalendarLabels) {
  int64_t t = k2026 + 323 * kDay + 3 * kHour + 59 * 60 * kSec;  // 2026-11-20T03:59Z, a Friday
  EXPECT_EQ(HourBucket(t), "2026-11-20T03");
  EXPECT_EQ(DayBucket(t), "2026-11-20");
  EXPECT_EQ(WeekBucket(t), "2026-W47");
  EXPECT_EQ(MonthBucket(t), "2026-11");
  EXPECT_EQ(YearBucket(t), "2026");
}

TEST(RetentionBuckets, IsoWeeksBelongToTheYearOfTheirThursday) {
  EXPECT_EQ(WeekBucket(k2026 + 365 * kDay), "2026-W53");   // Friday 2027-01-01
  EXPECT_EQ(WeekBucket(k2026 + 368 * kDay), "2027-W01");   // Monday 2027-01-04
  EXPECT_EQ(WeekBucket(k2026 - 2 * kDay), "2026-W01");     // Tuesday 2025-12-30
  EXPECT_EQ(WeekBucket(k2026 - 3 * kDay), "2026-W01");     // Monday 2025-12-29
  EXPECT_EQ(WeekBucket(k2026 - 4 * kDay), "2025-W52");     // Sunday 2025-12-28
}

TEST(RetentionBuckets, TimesBeforeTheEpochFloorToTheirDay) {
  EXPECT_EQ(HourBucket(-1), "1969-12-31T23");
  EXPECT_EQ(DayBucket(-1), "1969-12-31");
  EXPECT_EQ(YearBucket(-1), "1969");
}

TEST(Retention, KeepLastKeepsTheNewest) {
  std::vector<RetentionItem> items;
  for (int i = 0; i < 5; ++i) items.push_back(Snap(i, k2026 + i * kHour));
  RetentionPolicy p;
  p.last = 3;
  auto d = ApplyRetention(items, p);
  EXPECT_EQ(Kept(items, d), (std::vector<int>{2, 3, 4}));
  EXPECT_EQ(d[4].reasons, std::vector<std::string>{"last"});
  EXPECT_TRUE(d[0].reasons.empty());
}

TEST(Retention, KeepDailyKeepsTheNewestOfEachDayThatHasSnapshots) {
  // Two on Jan 1, none on Jan 2, two on Jan 3, one on Jan 4.
  std::vector<RetentionItem> items = {
      Snap(0, k2026 + 1 * kHour), Snap(1, k2026 + 20 * kHour),
      Snap(2, k2026 + 2 * kDay + 1 * kHour), Snap(3, k2026 + 2 * kDay + 5 * kHour),
      Snap(4, k2026 + 3 * kDay)};
  RetentionPolicy p;
  p.daily = 3;
  auto d = ApplyRetention(items, p);
  EXPECT_EQ(Kept(items, d), (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(d[1].reasons, std::vector<std::string>{"daily 2026-01-01"});
  EXPECT_EQ(d[3].reasons, std::vector<std::string>{"daily 2026-01-03"});
}

TEST(Retention, RulesCombineAndEachReasonIsListed) {
  // Daily snapshots at 03:00 from 2026-01-01 to 2026-03-31 (Tuesday).
  std::vector<RetentionItem> items;
  for (int day = 0; day < 90; ++day) items.push_back(Snap(day, k2026 + day * kDay + 3 * kHour));
  RetentionPolicy p;
  p.daily = 3;
  p.weekly = 2;
  p.monthly = 2;
  auto d = ApplyRetention(items, p);
  // By hand: days 03-31, 03-30, 03-29; weeks W14 (03-31) and W13 (its
  // newest: Sunday 03-29); months 2026-03 (03-31) and 2026-02 (02-28).
  EXPECT_EQ(Kept(items, d), (std::vector<int>{58, 87, 88, 89}));
  EXPECT_EQ(d[89].reasons,
            (std::vector<std::string>{"daily 2026-03-31", "weekly 2026-W14", "monthly 2026-03"}));
  EXPECT_EQ(d[87].reasons, (std::vector<std::string>{"daily 2026-03-29", "weekly 2026-W13"}));
  EXPECT_EQ(d[58].reasons, std::vector<std::string>{"monthly 2026-02"});
}

TEST(Retention, KeepWithinCountsBackFromTheGroupsNewest) {
  std::vector<RetentionItem> items;
  for (int day = 0; day < 10; ++day) items.push_back(Snap(day, k2026 + day * kDay));
  RetentionPolicy p;
  p.within_ns = 2 * kDay;
  p.within_text = "2d";
  auto d = ApplyRetention(items, p);
  // Strictly newer than day 9 - 2 days: days 8 and 9.
  EXPECT_EQ(Kept(items, d), (std::vector<int>{8, 9}));
  EXPECT_EQ(d[8].reasons, std::vector<std::string>{"within 2d"});
}

TEST(Retention, EachGroupGetsThePolicyOnItsOwn) {
  std::vector<RetentionItem> items = {Snap(0, k2026, "web1"), Snap(1, k2026 + kHour, "web1"),
                                      Snap(2, k2026, "web2"), Snap(3, k2026 + 2 * kHour, "web2")};
  items.push_back({IdOf(4), k2026 + 3 * kHour, "web2", {"uploads"}, {}});  // other sources
  RetentionPolicy p;
  p.last = 1;
  auto d = ApplyRetention(items, p);
  EXPECT_EQ(Kept(items, d), (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(d[0].group, "web1 [db,uploads]");
  EXPECT_EQ(d[4].group, "web2 [uploads]");
}

TEST(Retention, SelectionLeavesOtherSnapshotsUntouched) {
  std::vector<RetentionItem> items = {Snap(0, k2026, "web1", {"hourly"}),
                                      Snap(1, k2026 + kHour, "web1", {"hourly"}),
                                      Snap(2, k2026 + 2 * kHour, "web1"),
                                      Snap(3, k2026 + 3 * kHour, "web2", {"hourly"})};
  RetentionPolicy p;
  p.last = 1;
  RetentionSelection sel;
  sel.tags = {"hourly"};
  sel.hosts = {"web1"};
  auto d = ApplyRetention(items, p, sel);
  EXPECT_FALSE(d[0].keep);
  EXPECT_TRUE(d[1].keep);
  EXPECT_FALSE(d[2].selected);
  EXPECT_TRUE(d[2].keep);
  EXPECT_FALSE(d[3].selected);
  EXPECT_TRUE(d[3].keep);
}

TEST(Retention, TiesInTimeDoNotDependOnInputOrder) {
  std::vector<RetentionItem> a = {Snap(1, k2026), Snap(2, k2026)};
  std::vector<RetentionItem> b = {Snap(2, k2026), Snap(1, k2026)};
  RetentionPolicy p;
  p.last = 1;
  auto da = ApplyRetention(a, p), db = ApplyRetention(b, p);
  EXPECT_TRUE(da[1].keep);  // ID 2 in both orders
  EXPECT_TRUE(db[0].keep);
}

TEST(Retention, APolicyWithoutRulesIsEmpty) {
  RetentionPolicy p;
  EXPECT_TRUE(p.Empty());
  p.yearly = 1;
  EXPECT_FALSE(p.Empty());
}

TEST(ParseDuration, ReadsUnitsAndSums) {
  EXPECT_EQ(*ParseDuration("30d"), 30 * kDay);
  EXPECT_EQ(*ParseDuration("1y6m"), (365 + 180) * kDay);
  EXPECT_EQ(*ParseDuration("2w"), 14 * kDay);
  EXPECT_EQ(*ParseDuration("12h"), 12 * kHour);
  EXPECT_EQ(*ParseDuration("1h30min"), kHour + 30 * 60 * kSec);
  EXPECT_EQ(*ParseDuration("0s"), 0);
}

TEST(ParseDuration, RejectsWhatItCannotRead) {
  for (const char* bad : {"", "d", "30", "30x", "-1d", "1.5d", "99999999999y", "300y"}) {
    Result<int64_t> r = ParseDuration(bad);
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace snap::engine::gc

// ApplyRetention: restic's forget policy (see retention.h), over plain values.
#include "engine/gc/retention.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

namespace snap::engine::gc {
namespace {

namespace chr = std::chrono;
using Clock = chr::sys_time<chr::nanoseconds>;

chr::sys_days DayOf(int64_t ns) { return chr::floor<chr::days>(Clock(chr::nanoseconds(ns))); }

chr::year_month_day DateOf(int64_t ns) { return chr::year_month_day(DayOf(ns)); }

std::string Format(const char* fmt, int a, unsigned b = 0, unsigned c = 0, unsigned d = 0) {
  char buf[32];
  std::snprintf(buf, sizeof buf, fmt, a, b, c, d);
  return buf;
}

// A bucket rule: keeps the newest snapshot of each of its `count` newest buckets.
struct BucketRule {
  const char* name;
  int count;
  std::string (*bucket)(int64_t);
  std::string last;  // the bucket of the snapshot it kept last
};

std::string GroupKey(const RetentionItem& s) {
  std::vector<std::string> names = s.sources;
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string key = s.host + " [";
  for (size_t i = 0; i < names.size(); ++i) key += (i ? "," : "") + names[i];
  return key + "]";
}

bool Selected(const RetentionItem& s, const RetentionSelection& sel) {
  auto has = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  if (!sel.hosts.empty() && !has(sel.hosts, s.host)) return false;
  if (sel.tags.empty()) return true;
  return std::any_of(s.tags.begin(), s.tags.end(),
                     [&](const std::string& t) { return has(sel.tags, t); });
}

// Applies the policy to one group; `order` indexes `items`, newest first.
void ApplyToGroup(std::span<const RetentionItem> items, const std::vector<size_t>& order,
                  const RetentionPolicy& p, std::vector<RetentionDecision>* out) {
  std::vector<BucketRule> rules = {{"hourly", p.hourly, HourBucket, {}},
                                   {"daily", p.daily, DayBucket, {}},
                                   {"weekly", p.weekly, WeekBucket, {}},
                                   {"monthly", p.monthly, MonthBucket, {}},
                                   {"yearly", p.yearly, YearBucket, {}}};
  const int64_t newest = items[order.front()].time_ns;
  for (size_t n = 0; n < order.size(); ++n) {
    const RetentionItem& s = items[order[n]];
    RetentionDecision& d = (*out)[order[n]];
    if (n < static_cast<size_t>(std::max(p.last, 0))) d.reasons.push_back("last");
    for (BucketRule& r : rules) {
      if (r.count <= 0) continue;
      std::string b = r.bucket(s.time_ns);
      if (b == r.last) continue;
      r.last = b;
      r.count--;
      d.reasons.push_back(std::string(r.name) + " " + b);
    }
    if (p.within_ns > 0 && s.time_ns > newest - p.within_ns)
      d.reasons.push_back("within " + p.within_text);
    d.keep = !d.reasons.empty();
  }
}

}  // namespace

bool RetentionPolicy::Empty() const {
  return last <= 0 && hourly <= 0 && daily <= 0 && weekly <= 0 && monthly <= 0 && yearly <= 0 &&
         within_ns <= 0;
}

std::string HourBucket(int64_t ns) {
  auto ymd = DateOf(ns);
  auto hours = chr::floor<chr::hours>(Clock(chr::nanoseconds(ns)) - DayOf(ns)).count();
  return Format("%04d-%02u-%02uT%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()), static_cast<unsigned>(hours));
}

std::string DayBucket(int64_t ns) {
  auto ymd = DateOf(ns);
  return Format("%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()), unsigned(ymd.day()));
}

std::string WeekBucket(int64_t ns) {
  // ISO 8601: a week belongs to the year of its Thursday.
  chr::sys_days day = DayOf(ns);
  unsigned iso_weekday = chr::weekday(day).iso_encoding();  // Monday 1 .. Sunday 7
  chr::sys_days thursday = day + chr::days(4 - static_cast<int>(iso_weekday));
  chr::year year = chr::year_month_day(thursday).year();
  auto into_year = (thursday - chr::sys_days(year / chr::January / 1)).count();
  return Format("%04d-W%02u", int(year), static_cast<unsigned>(into_year / 7 + 1));
}

std::string MonthBucket(int64_t ns) {
  auto ymd = DateOf(ns);
  return Format("%04d-%02u", int(ymd.year()), unsigned(ymd.month()));
}

std::string YearBucket(int64_t ns) { return Format("%04d", int(DateOf(ns).year())); }

std::vector<RetentionDecision> ApplyRetention(std::span<const RetentionItem> items,
                                              const RetentionPolicy& policy,
                                              const RetentionSelection& selection) {
  std::vector<RetentionDecision> out(items.size());
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < items.size(); ++i) {
    out[i].group = GroupKey(items[i]);
    out[i].selected = Selected(items[i], selection);
    if (out[i].selected) groups[out[i].group].push_back(i);
  }
  for (auto& [key, order] : groups) {
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (items[a].time_ns != items[b].time_ns) return items[a].time_ns > items[b].time_ns;
      return items[a].id > items[b].id;
    });
    ApplyToGroup(items, order, policy, &out);
  }
  return out;
}

Result<int64_t> ParseDuration(std::string_view text) {
  constexpr int64_t kSecond = 1000000000, kDay = 86400 * kSecond;
  constexpr int64_t kMax = 200 * 365 * kDay;  // int64 ns reach 292 years
  static const std::pair<std::string_view, int64_t> kUnits[] = {
      {"min", 60 * kSecond}, {"s", kSecond}, {"h", 3600 * kSecond}, {"d", kDay},
      {"w", 7 * kDay},       {"m", 30 * kDay}, {"y", 365 * kDay}};
  auto bad = [&] {
    return Status::InvalidArgument("cannot read duration '" + std::string(text) +
                                   "': use e.g. 30d, 1y6m, 12h, 90s (units s, min, h, d, w, "
                                   "m = 30 days, y = 365 days)");
  };
  if (text.empty()) return bad();
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t digits = i;
    int64_t n = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      n = n * 10 + (text[i++] - '0');
      if (n > kMax / kSecond) return bad();
    }
    if (i == digits) return bad();
    auto unit = std::find_if(std::begin(kUnits), std::end(kUnits),
                             [&](const auto& u) { return text.substr(i).starts_with(u.first); });
    if (unit == std::end(kUnits)) return bad();
    i += unit->first.size();
    if (n > (kMax - total) / unit->second) return bad();
    total += n * unit->second;
  }
  return total;
}

}  // namespace snap::engine::gc

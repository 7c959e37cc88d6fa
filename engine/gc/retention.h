// Retention: which snapshots a `forget` keeps (DESIGN.md "Retention and
// garbage collection"), restic's policy as a pure function: no I/O, no
// clock. The caller lists the snapshots and deletes what is not kept.
//
// Snapshots are grouped by host and the set of their source names; each
// group gets the whole policy on its own. Within a group, snapshots are seen
// newest first, and a snapshot is kept when any rule keeps it:
//   last N      the N newest;
//   hourly N    the newest snapshot of each of the newest N hours that have
//   daily N     snapshots (likewise days, ISO weeks, months, years; all
//   weekly N    buckets in UTC);
//   monthly N
//   yearly N
//   within D    every snapshot newer than the group's newest minus D.
// A selection (hosts, tags) limits which snapshots the policy sees at all:
// the others are untouched, as if absent.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/result.h"

namespace snap::engine::gc {

struct RetentionPolicy {
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  int64_t within_ns = 0;    // 0: no within rule
  std::string within_text;  // the duration as given ("30d"), for reasons

  // True when no rule keeps anything: applying it would remove every
  // selected snapshot, which callers refuse.
  bool Empty() const;
};

// Which snapshots the policy applies to; empty lists select all.
struct RetentionSelection {
  std::vector<std::string> hosts;  // the snapshot's host is one of these
  std::vector<std::string> tags;   // the snapshot has one of these tags
};

struct RetentionItem {
  ChunkId id;
  int64_t time_ns = 0;
  std::string host;
  std::vector<std::string> sources;  // source names, any order
  std::vector<std::string> tags;
};

struct RetentionDecision {
  bool selected = false;  // false: outside the selection, kept untouched
  bool keep = true;
  // The rules that keep it, each with its bucket: "last", "hourly
  // 2026-11-20T03", "daily 2026-11-20", "weekly 2026-W47", "monthly
  // 2026-11", "yearly 2026", "within 30d". Empty when removed.
  std::vector<std::string> reasons;
  std::string group;  // "host [source,source]"
};

// One decision per item, in the order of `items`. Ties in time are broken
// by ID so the result does not depend on the input order.
std::vector<RetentionDecision> ApplyRetention(std::span<const RetentionItem> items,
                                              const RetentionPolicy& policy,
                                              const RetentionSelection& selection = {});

// Bucket labels of a time (ns since the epoch), in UTC.
std::string HourBucket(int64_t ns);   // 2026-11-20T03
std::string DayBucket(int64_t ns);    // 2026-11-20
std::string WeekBucket(int64_t ns);   // 2026-W47 (ISO 8601 week-numbering year and week)
std::string MonthBucket(int64_t ns);  // 2026-11
std::string YearBucket(int64_t ns);   // 2026

// Parses a duration made of <number><unit> parts ("30d", "1y6m", "90s",
// "1h30min"): s seconds, min minutes, h hours, d days, w weeks, m months
// of 30 days, y years of 365 days. InvalidArgument naming the text
// otherwise. Returns ns.
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace snap::engine::gc

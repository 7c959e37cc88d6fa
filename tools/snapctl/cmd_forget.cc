// snapctl forget [--keep-last N] [--keep-hourly N] [--keep-daily N] [--keep-weekly N]
//                [--keep-monthly N] [--keep-yearly N] [--keep-within DURATION]
//                [--tag T] [--host H] [--dry-run]
// Without --keep-* options the config file's [retention] table is the policy.
#include <iostream>
#include <map>

#include "engine/gc.h"
#include "tools/snapctl/cli.h"

namespace snap::cli {
namespace {

struct ForgetArgs {
  RetentionConfig keep;
  std::vector<std::string> tags, hosts;
  bool dry_run = false;
};

engine::Result<engine::gc::RetentionPolicy> PolicyOf(const RetentionConfig& c) {
  engine::gc::RetentionPolicy p;
  p.last = c.keep_last;
  p.hourly = c.keep_hourly;
  p.daily = c.keep_daily;
  p.weekly = c.keep_weekly;
  p.monthly = c.keep_monthly;
  p.yearly = c.keep_yearly;
  if (!c.keep_within.empty()) {
    SNAP_ASSIGN_OR_RETURN(p.within_ns, engine::gc::ParseDuration(c.keep_within));
    p.within_text = c.keep_within;
  }
  return p;
}

// The command line's rules; the config file's [retention] when it gives none.
engine::Result<engine::gc::RetentionPolicy> ChoosePolicy(const Globals& g, const ForgetArgs& a) {
  SNAP_ASSIGN_OR_RETURN(engine::gc::RetentionPolicy p, PolicyOf(a.keep));
  if (!p.Empty()) return p;
  SNAP_ASSIGN_OR_RETURN(std::optional<ConfigFile> c, LoadConfig(g));
  if (!c) return p;
  return PolicyOf(c->retention);
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

nlohmann::json ItemJson(const engine::ForgetItem& item) {
  const auto& r = item.snapshot.record;
  std::vector<std::string> sources;
  for (const auto& s : r.sources) sources.push_back(s.name);
  return {{"id", item.snapshot.id.ToHex()},
          {"time", FormatTime(r.time_ns)},
          {"host", r.host},
          {"sources", sources},
          {"tags", r.tags},
          {"group", item.decision.group},
          {"action", item.decision.keep ? "keep" : "remove"},
          {"reasons", item.decision.reasons}};
}

void PrintText(const std::vector<engine::ForgetItem>& plan) {
  std::map<std::string, std::vector<const engine::ForgetItem*>> groups;
  for (const engine::ForgetItem& item : plan)
    if (item.decision.selected) groups[item.decision.group].push_back(&item);
  for (const auto& [group, items] : groups) {
    std::cout << "group " << group << "\n";
    for (auto it = items.rbegin(); it != items.rend(); ++it) {  // newest first
      const engine::ForgetItem& i = **it;
      std::cout << "  " << (i.decision.keep ? "keep  " : "remove") << "  "
                << i.snapshot.id.ShortHex() << "  " << FormatTime(i.snapshot.record.time_ns);
      if (i.decision.keep) std::cout << "  " << Joined(i.decision.reasons);
      std::cout << "\n";
    }
  }
}

int Run(const Globals& g, const ForgetArgs& a) {
  engine::Result<engine::gc::RetentionPolicy> policy = ChoosePolicy(g, a);
  if (!policy.ok()) return Fail(g, policy.status());
  // Read-only: forgetting deletes snapshot objects only, so it works while
  // a snapshot holds the index (the catalog catches up at its next open).
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  engine::gc::RetentionSelection selection{a.hosts, a.tags};
  auto plan = engine::PlanForget(**repo, *policy, selection);
  if (!plan.ok()) return Fail(g, plan.status());
  size_t kept = 0, to_remove = 0;
  for (const auto& item : *plan) {
    if (!item.decision.selected) continue;
    (item.decision.keep ? kept : to_remove)++;
  }
  size_t removed = 0;
  if (!a.dry_run) {
    auto n = engine::ApplyForget(**repo, *plan);
    if (!n.ok()) return Fail(g, n.status());
    removed = *n;
  }
  if (g.json) {
    nlohmann::json items = nlohmann::json::array();
    for (const auto& item : *plan)
      if (item.decision.selected) items.push_back(ItemJson(item));
    PrintJson({{"dry_run", a.dry_run}, {"snapshots", items}, {"kept", kept},
               {"removed", a.dry_run ? 0 : removed}, {"would_remove", to_remove}});
  } else if (!g.quiet) {
    PrintText(*plan);
    if (a.dry_run)
      std::cout << "dry run: would keep " << kept << " and remove " << to_remove
                << " snapshots; nothing was changed\n";
    else
      std::cout << "kept " << kept << " snapshots, removed " << removed
                << (removed ? "; run `snapctl gc` to reclaim their space" : "") << "\n";
  }
  return 0;
}

}  // namespace

void RegisterForget(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("forget", "remove snapshots by a retention policy");
  auto a = std::make_shared<ForgetArgs>();
  RetentionConfig& k = a->keep;
  cmd->add_option("--keep-last", k.keep_last, "keep the N newest snapshots")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-hourly", k.keep_hourly, "keep the newest of each of the last N hours")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-daily", k.keep_daily, "keep the newest of each of the last N days")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-weekly", k.keep_weekly, "keep the newest of each of the last N ISO weeks")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-monthly", k.keep_monthly, "keep the newest of each of the last N months")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-yearly", k.keep_yearly, "keep the newest of each of the last N years")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-within", k.keep_within,
                  "keep all newer than the newest minus DURATION (30d, 1y6m; m = 30 days)");
  cmd->add_option("--tag", a->tags, "only consider snapshots with this tag (repeatable)");
  cmd->add_option("--host", a->hosts, "only consider snapshots of this host (repeatable)");
  cmd->add_flag("--dry-run,-n", a->dry_run, "show what would be kept and removed, change nothing");
  cmd->callback([&g, a] { g.run = [&g, a] { return Run(g, *a); }; });
}

}  // namespace snap::cli

// replicad forget --dir DIR --repo ID [--keep-last N] [--keep-hourly N] [--keep-daily N]
//                 [--keep-weekly N] [--keep-monthly N] [--keep-yearly N]
//                 [--keep-within DURATION] [--dry-run] [--json]
//
// The replica admin's retention: the rules of `snapctl forget` over the
// times the replica received each snapshot (replicator/server/replica_forget.h).
// Runs beside `replicad serve`: it waits while sessions use the repository,
// and refuses its sessions ("retry later") while it works. --dry-run
// changes nothing and does not wait.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "replicator/server/replica_forget.h"
#include "replicator/server/replica_store.h"
#include "tools/replicad/cli.h"

namespace snap::replicad {
namespace {

namespace server = replicator::server;

struct ForgetArgs {
  std::string dir, repo;
  int last = 0, hourly = 0, daily = 0, weekly = 0, monthly = 0, yearly = 0;
  std::string within;
  bool dry_run = false, json = false;
};

engine::Result<engine::gc::RetentionPolicy> PolicyOf(const ForgetArgs& a) {
  engine::gc::RetentionPolicy p;
  p.last = a.last;
  p.hourly = a.hourly;
  p.daily = a.daily;
  p.weekly = a.weekly;
  p.monthly = a.monthly;
  p.yearly = a.yearly;
  if (!a.within.empty()) {
    SNAP_ASSIGN_OR_RETURN(p.within_ns, engine::gc::ParseDuration(a.within));
    p.within_text = a.within;
  }
  return p;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

nlohmann::json PlanJson(const server::ReplicaRepo& repo, const server::ReplicaForgetPlan& plan,
                        const ForgetArgs& a, size_t removed) {
  nlohmann::json items = nlohmann::json::array();
  for (const server::ReplicaForgetItem& i : plan.items)
    items.push_back({{"id", i.snapshot.id.ToHex()},
                     {"received", FormatTime(i.snapshot.received_ns)},
                     {"received_ns", i.snapshot.received_ns},
                     {"size", i.snapshot.size},
                     {"action", i.decision.keep ? "keep" : "remove"},
                     {"reasons", i.decision.reasons}});
  nlohmann::json unlisted = nlohmann::json::array();
  for (const engine::ChunkId& id : plan.unlisted) unlisted.push_back(id.ToHex());
  return {{"repository", repo.id_hex()}, {"dry_run", a.dry_run}, {"snapshots", items},
          {"kept", plan.kept()},         {"removed", removed},   {"would_remove", plan.removed()},
          {"unlisted", unlisted}};
}

void PrintText(const server::ReplicaRepo& repo, const server::ReplicaForgetPlan& plan,
               const ForgetArgs& a, size_t removed) {
  std::cout << "repository " << repo.id_hex() << " (by the time the replica received each)\n";
  for (auto it = plan.items.rbegin(); it != plan.items.rend(); ++it) {  // newest first
    const server::ReplicaForgetItem& i = *it;
    std::cout << "  " << (i.decision.keep ? "keep  " : "remove") << "  " << i.snapshot.id.ShortHex()
              << "  " << FormatTime(i.snapshot.received_ns);
    if (i.decision.keep) std::cout << "  " << Joined(i.decision.reasons);
    std::cout << "\n";
  }
  if (!plan.unlisted.empty())
    std::cout << (a.dry_run ? "would remove " : "removed ") << plan.unlisted.size()
              << " unlisted snapshot objects (a forget or a commit cut short)\n";
  if (a.dry_run) {
    std::cout << "dry run: would keep " << plan.kept() << " and remove " << plan.removed()
              << " snapshots; nothing was changed\n";
    return;
  }
  std::cout << "kept " << plan.kept() << " snapshots, removed " << removed;
  if (removed)
    std::cout << "; run `replicad gc --dir " << a.dir << " --repo " << repo.id_hex()
              << "` to reclaim their space";
  std::cout << "\n";
}

int Run(const ForgetArgs& a) {
  engine::Result<engine::gc::RetentionPolicy> policy = PolicyOf(a);
  if (!policy.ok()) return UsageError("--keep-within " + policy.status().message());
  if (policy->Empty())
    return UsageError("no --keep-* rule given; forget would remove every snapshot");
  engine::Result<std::unique_ptr<server::ReplicaRepo>> repo =
      ReplicaForAdmin(a.dir, a.repo, "forget", a.dry_run);
  if (!repo.ok()) return Fail(repo.status());
  engine::Result<server::ReplicaForgetPlan> plan = server::PlanReplicaForget(**repo, *policy);
  if (!plan.ok()) return Fail(plan.status());
  size_t removed = 0;
  if (!a.dry_run) {
    engine::Result<size_t> n = server::ApplyReplicaForget(**repo, *plan);
    if (!n.ok()) return Fail(n.status());
    removed = *n;
  }
  if (a.json)
    std::cout << PlanJson(**repo, *plan, a, removed).dump(2) << "\n";
  else
    PrintText(**repo, *plan, a, removed);
  return 0;
}

}  // namespace

void RegisterForget(CLI::App& app, Globals& g) {
  auto a = std::make_shared<ForgetArgs>();
  auto* cmd = app.add_subcommand(
      "forget", "remove a repository's snapshots by a retention policy over receive times");
  cmd->add_option("--dir", a->dir, "the replica directory")->required();
  cmd->add_option("--repo", a->repo, "the repository ID (`replicad list` shows them)")->required();
  cmd->add_option("--keep-last", a->last, "keep the N newest snapshots")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-hourly", a->hourly, "keep the newest of each of the last N hours")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-daily", a->daily, "keep the newest of each of the last N days")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-weekly", a->weekly, "keep the newest of each of the last N ISO weeks")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-monthly", a->monthly, "keep the newest of each of the last N months")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-yearly", a->yearly, "keep the newest of each of the last N years")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--keep-within", a->within,
                  "keep all received after the newest minus DURATION (30d, 1y6m; m = 30 days)");
  cmd->add_flag("--dry-run,-n", a->dry_run, "show what would be kept and removed, change nothing");
  cmd->add_flag("--json", a->json, "machine-readable output");
  cmd->callback([&g, a] { g.run = [a] { return Run(*a); }; });
}

}  // namespace snap::replicad

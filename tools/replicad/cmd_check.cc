// replicad check --dir DIR [--repo ID] [--read-data] [--repair] [--json]
//
// Verifies each repository held (replicator/server/replica_check.h). Runs
// beside `replicad serve` on a read-only open; with --repair it holds each
// repository as forget and gc do (waiting while sessions use it, refusing
// them meanwhile). Exit codes as `snapctl check`: 0 nothing found, 3 damage
// found, 1 the check could not run, 2 usage.
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "replicator/server/replica_check.h"
#include "replicator/server/replica_store.h"
#include "tools/replicad/cli.h"

namespace snap::replicad {
namespace {

using replicator::server::ReplicaCheckReport;
using replicator::server::ReplicaRepo;
using replicator::server::ReplicaStore;

struct CheckArgs {
  std::string dir, repo;
  bool read_data = false, repair = false, json = false;
};

std::string ShortList(const std::vector<engine::ChunkId>& ids) {
  std::string out;
  for (const engine::ChunkId& id : ids) out += (out.empty() ? "" : " ") + id.ShortHex();
  return out;
}

nlohmann::json HexList(const std::vector<engine::ChunkId>& ids) {
  nlohmann::json out = nlohmann::json::array();
  for (const engine::ChunkId& id : ids) out.push_back(id.ToHex());
  return out;
}

nlohmann::json ToJson(const ReplicaRepo& repo, const ReplicaCheckReport& r, const CheckArgs& a) {
  nlohmann::json damaged = nlohmann::json::array(), objects = nlohmann::json::array();
  for (const auto& d : r.chunks)
    damaged.push_back({{"chunk", d.id.ToHex()},
                       {"kind", d.kind},
                       {"problem", d.problem},
                       {"snapshots", HexList(d.snapshots)}});
  for (const auto& s : r.snapshot_objects)
    objects.push_back({{"snapshot", s.id.ToHex()}, {"problem", s.problem}});
  nlohmann::json j = {{"id", repo.id_hex()},
                      {"ok", r.ok()},
                      {"snapshots", r.snapshots},
                      {"objects", r.objects},
                      {"packs", r.packs},
                      {"packs_read", r.packs_read},
                      {"bytes_read", r.bytes_read},
                      {"damaged", damaged},
                      {"snapshot_objects", objects},
                      {"incomplete", HexList(r.incomplete)},
                      {"awaiting_resend", HexList(r.awaiting_resend)},
                      {"notes", r.notes}};
  if (a.repair)
    j["repair"] = {
        {"unindexed", r.unindexed}, {"marked", r.marked}, {"objects_deleted", r.objects_deleted}};
  return j;
}

void PrintText(const ReplicaRepo& repo, const ReplicaCheckReport& r, const CheckArgs& a) {
  for (const auto& d : r.chunks) {
    std::cerr << "error: chunk " << d.id.ShortHex() << (d.kind.empty() ? "" : " (" + d.kind + ")")
              << ": " << d.problem << "; needed by "
              << (d.snapshots.empty() ? std::string("no snapshot the replica can trace")
                                      : "snapshot(s) " + ShortList(d.snapshots))
              << "\n";
  }
  for (const auto& s : r.snapshot_objects)
    std::cerr << "error: snapshot " << s.id.ShortHex() << ": " << s.problem << "\n";
  for (const auto& id : r.awaiting_resend)
    std::cerr << "error: snapshot " << id.ShortHex()
              << ": awaiting re-send by its client (marked by a check --repair)\n";
  for (const auto& n : r.notes) std::cerr << "note: " << n << "\n";
  std::cout << "repository " << repo.id_hex() << ": " << r.snapshots << " snapshots, " << r.objects
            << " objects, " << r.packs << " packs";
  if (a.read_data) std::cout << " (all data read: " << HumanBytes(r.bytes_read) << ")";
  if (r.ok())
    std::cout << ": no errors\n";
  else
    std::cout << ": " << r.chunks.size() << " damaged or missing chunk(s), " << r.incomplete.size()
              << " incomplete snapshot(s): " << ShortList(r.incomplete) << "\n";
  if (a.repair && (r.unindexed || r.marked))
    std::cout << "repair: " << r.unindexed << " object(s) removed from the index, " << r.marked
              << " snapshot(s) marked for re-send; the owner's next `snapctl replicate` sends "
                 "them again\n";
}

// Any failure to check, NotFound included: exit 3 means damage found.
int CouldNotRun(const engine::Status& s) {
  std::cerr << "replicad: " << s.message() << "\n";
  return kExitFailure;
}

// The repositories to check: `only` (32 lower-case hex digits), else every
// one held, sorted.
engine::Result<std::vector<std::string>> RepoIds(const CheckArgs& a, const std::string& only) {
  replicator::server::StoreOptions opts;
  opts.read_only = true;  // takes no lock: only to list
  SNAP_ASSIGN_OR_RETURN(std::unique_ptr<ReplicaStore> store, ReplicaStore::Open(a.dir, opts));
  SNAP_ASSIGN_OR_RETURN(std::vector<replicator::protocol::RepoId> ids, store->RepoIds());
  std::vector<std::string> out;
  for (const auto& id : ids) out.push_back(replicator::server::RepoIdHex(id));
  if (only.empty()) return out;
  if (std::find(out.begin(), out.end(), only) == out.end())
    return engine::Status::InvalidArgument("repository " + only +
                                           ": not held by this replica (`replicad list --dir " +
                                           a.dir + "` shows what it holds)");
  return std::vector<std::string>{only};
}

int RunCheck(const CheckArgs& a) {
  std::string only;
  if (!a.repo.empty()) {
    auto id = replicator::server::ParseRepoId(a.repo);
    if (!id.ok()) return UsageError("--repo " + a.repo + ": " + id.status().message());
    only = replicator::server::RepoIdHex(*id);
  }
  auto ids = RepoIds(a, only);
  if (!ids.ok() && ids.status().IsInvalidArgument()) return UsageError(ids.status().message());
  if (!ids.ok()) return CouldNotRun(ids.status());
  replicator::server::ReplicaCheckOptions opts;
  opts.read_data = a.read_data;
  opts.repair = a.repair;
  nlohmann::json all = nlohmann::json::array();
  bool failed = false, damaged = false;
  for (const std::string& id : *ids) {
    // Without --repair read-only: beside `replicad serve`, in nobody's
    // way. A repair holds the repository as forget and gc do.
    auto repo = ReplicaForAdmin(a.dir, id, "check", /*dry_run=*/!a.repair);
    auto r = repo.ok() ? replicator::server::CheckReplicaRepo(**repo, opts)
                       : engine::Result<ReplicaCheckReport>(repo.status());
    if (!r.ok()) {
      failed = true;
      std::cerr << "replicad: " << r.status().message() << "\n";
      if (a.json) all.push_back({{"id", id}, {"ok", false}, {"error", r.status().message()}});
      continue;
    }
    damaged = damaged || !r->ok();
    if (a.json)
      all.push_back(ToJson(**repo, *r, a));
    else
      PrintText(**repo, *r, a);
  }
  if (a.json)
    std::cout << nlohmann::json{{"ok", !failed && !damaged}, {"repositories", all}}.dump(2) << "\n";
  else if (ids->empty())
    std::cout << "no repositories yet\n";
  if (damaged && !a.repair && !a.json)
    std::cerr << "replicad: to have the owners send what is damaged again, run `replicad check "
                 "--dir "
              << a.dir << " --repair`, then `snapctl replicate` on each client\n";
  if (failed) return kExitFailure;
  return damaged ? kExitCheckFailed : 0;
}

}  // namespace

void RegisterCheck(CLI::App& app, Globals& g) {
  auto a = std::make_shared<CheckArgs>();
  auto* cmd = app.add_subcommand(
      "check", "verify the repositories held: snapshots complete, frames where the index says");
  cmd->add_option("--dir", a->dir, "the replica directory")->required();
  cmd->add_option("--repo", a->repo, "only this repository (32 hex digits)");
  cmd->add_flag("--read-data", a->read_data, "read every pack and verify every frame's checksum");
  cmd->add_flag("--repair", a->repair,
                "forget what is damaged, so the owner's next push sends it again");
  cmd->add_flag("--json", a->json, "machine-readable output");
  cmd->callback([&g, a] { g.run = [a] { return RunCheck(*a); }; });
}

}  // namespace snap::replicad

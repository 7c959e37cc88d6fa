// replicad list --dir DIR [--json]
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "replicator/server/replica_store.h"
#include "tools/replicad/cli.h"

namespace snap::replicad {
namespace {

using replicator::server::ReplicaRepo;
using replicator::server::ReplicaStore;

struct RepoListing {
  std::shared_ptr<ReplicaRepo> repo;
  uint64_t pack_bytes = 0;
  std::vector<replicator::protocol::SnapshotList::Entry> snapshots;
};

nlohmann::json ToJson(const RepoListing& r) {
  nlohmann::json snaps = nlohmann::json::array();
  for (const auto& s : r.snapshots)
    snaps.push_back({{"id", s.id.ToHex()},
                     {"received", FormatTime(s.received_ns)},
                     {"received_ns", s.received_ns},
                     {"size", s.size}});
  return {{"id", r.repo->id_hex()},
          {"owner", r.repo->owner()},
          {"encrypted", r.repo->config().encrypted},
          {"snapshot_count", r.snapshots.size()},
          {"pack_bytes", r.pack_bytes},
          {"snapshots", snaps}};
}

void PrintText(const RepoListing& r) {
  std::cout << "repository " << r.repo->id_hex() << "\n"
            << "  owner      " << r.repo->owner() << "\n"
            << "  encrypted  " << (r.repo->config().encrypted ? "yes" : "no") << "\n"
            << "  snapshots  " << r.snapshots.size() << "\n"
            << "  packs      " << HumanBytes(r.pack_bytes) << "\n";
  for (const auto& s : r.snapshots)
    std::cout << "    " << s.id.ShortHex() << "  " << FormatTime(s.received_ns) << "  "
              << HumanBytes(s.size) << "\n";
}

int RunList(const std::string& dir, bool json) {
  replicator::server::StoreOptions opts;
  opts.read_only = true;  // works beside a running `replicad serve`
  engine::Result<std::unique_ptr<ReplicaStore>> store = ReplicaStore::Open(dir, opts);
  if (!store.ok()) return Fail(store.status());
  nlohmann::json all = nlohmann::json::array();
  for (const std::shared_ptr<ReplicaRepo>& repo : (*store)->Repos()) {
    RepoListing r;
    r.repo = repo;
    engine::Result<uint64_t> bytes = repo->PackBytes();
    if (!bytes.ok()) return Fail(bytes.status());
    r.pack_bytes = *bytes;
    auto snaps = repo->ListSnapshots();
    if (!snaps.ok()) return Fail(snaps.status());
    r.snapshots = std::move(*snaps);
    if (json)
      all.push_back(ToJson(r));
    else
      PrintText(r);
  }
  if (json)
    std::cout << nlohmann::json{{"repositories", all}}.dump(2) << "\n";
  else if ((*store)->Repos().empty())
    std::cout << "no repositories yet\n";
  return 0;
}

}  // namespace

void RegisterList(CLI::App& app, Globals& g) {
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("list", "list repositories and their snapshots");
  cmd->add_option("--dir", *dir, "the replica directory")->required();
  cmd->add_flag("--json", *json, "machine-readable output");
  cmd->callback([&g, dir, json] { g.run = [dir, json] { return RunList(*dir, *json); }; });
}

}  // namespace snap::replicad

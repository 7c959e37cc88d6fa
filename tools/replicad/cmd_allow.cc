// replicad allow --dir DIR CLIENT-KEY [--read-only --repo REPO-ID]
#include <iostream>
#include <memory>
#include <optional>

#include "replicator/server/clients_file.h"
#include "replicator/server/replica_store.h"
#include "tools/replicad/cli.h"

namespace snap::replicad {
namespace {

using replicator::server::ClientGrant;

struct AllowArgs {
  std::string dir;
  std::string key;
  bool read_only = false;
  std::string repo;
};

int RunAllow(const AllowArgs& a) {
  if (a.read_only && a.repo.empty()) return UsageError("--read-only needs --repo REPO-ID");
  if (!a.read_only && !a.repo.empty())
    return UsageError("--repo goes with --read-only (a push client may create repositories)");
  engine::Result<ClientGrant> grant =
      ClientGrant::Make(a.key, a.read_only ? std::optional<std::string>(a.repo) : std::nullopt);
  if (!grant.ok()) return UsageError(grant.status().message());
  engine::Result<std::string> path = replicator::server::ReplicaStore::ClientsFilePath(a.dir);
  if (!path.ok()) return Fail(path.status());
  engine::Result<bool> added = replicator::server::AddGrant(*path, *grant);
  if (!added.ok()) return Fail(added.status());
  std::string what = a.read_only ? "to read repository " + a.repo
                                 : "to push (create repositories, push to and read its own)";
  std::cout << (*added ? "admitted " : "already admitted ") << a.key << " " << what << "\n";
  return 0;
}

}  // namespace

void RegisterAllow(CLI::App& app, Globals& g) {
  auto a = std::make_shared<AllowArgs>();
  auto* cmd = app.add_subcommand("allow", "admit a client by its key");
  cmd->add_option("--dir", a->dir, "the replica directory")->required();
  cmd->add_option("key", a->key, "the client's key (sha256:..., from `snapctl identity`)")
      ->required();
  cmd->add_flag("--read-only", a->read_only, "only read one repository (needs --repo)");
  cmd->add_option("--repo", a->repo, "the repository ID the client may read (32 hex digits)");
  cmd->callback([&g, a] { g.run = [a] { return RunAllow(*a); }; });
}

}  // namespace snap::replicad

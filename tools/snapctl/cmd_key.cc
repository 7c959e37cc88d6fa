// snapctl key export: prints the repository's master keys as an exported
// key, which `--key-file` accepts on a machine that restores from a replica
// without the repository.
#include <iostream>

#include "engine/repo/exported_key.h"
#include "tools/snapctl/cli.h"

namespace snap::cli {
namespace {

int RunExport(const Globals& g) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  engine::repo::ExportedKey k;
  k.repo_id = (*repo)->config().repo_id;
  k.keys = (*repo)->master_keys();
  if (!g.quiet)
    std::cerr << "snapctl: this key reads every snapshot of repository "
              << (*repo)->config().RepoIdHex() << "; keep it as secret as the data\n";
  std::cout << k.Encode();
  return 0;
}

}  // namespace

void RegisterKey(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("key", "key management");
  cmd->require_subcommand(1);
  auto* exp = cmd->add_subcommand(
      "export", "print the repository's data key, for `--key-file` on a machine without it");
  exp->callback([&g] { g.run = [&g] { return RunExport(g); }; });
}

}  // namespace snap::cli

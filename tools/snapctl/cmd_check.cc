// snapctl check [--read-data] [--rebuild-index]
#include <iostream>

#include "engine/check.h"
#include "tools/snapctl/cli.h"

namespace snap::cli {
namespace {

int Rebuild(const Globals& g, engine::Repository& repo) {
  auto r = engine::RebuildIndex(repo);
  if (!r.ok()) return Fail(g, r.status());
  for (const auto& e : r->errors) std::cerr << "error: " << e << "\n";
  if (!g.quiet && !g.json)
    std::cout << "index rebuilt: " << r->packs << " packs, " << r->chunks << " chunks, "
              << r->snapshots << " snapshots\n";
  return r->errors.empty() ? 0 : kExitCheckFailed;
}

int Run(const Globals& g, bool read_data, bool rebuild) {
  auto repo = OpenRepo(g, /*read_only=*/!rebuild);
  if (!repo.ok()) return Fail(g, repo.status());
  if (rebuild) {
    int rc = Rebuild(g, **repo);
    if (rc != 0) return rc;
  }
  engine::CheckOptions opts;
  opts.read_data = read_data;
  auto r = engine::CheckRepository(**repo, opts);
  if (!r.ok()) return Fail(g, r.status());
  if (g.json) {
    PrintJson({{"ok", r->ok()}, {"snapshots", r->snapshots}, {"trees", r->trees},
               {"chunks", r->chunks_referenced}, {"packs", r->packs},
               {"packs_read", r->packs_read}, {"errors", r->errors}});
  } else {
    for (const auto& e : r->errors) std::cerr << "error: " << e << "\n";
    if (!g.quiet)
      std::cout << "checked " << r->snapshots << " snapshots, " << r->trees << " trees, "
                << r->chunks_referenced << " chunks, " << r->packs << " packs"
                << (read_data ? " (all data read: " + HumanBytes(r->bytes_read) + ")" : "")
                << ": " << (r->ok() ? "no errors" : std::to_string(r->errors.size()) + " errors")
                << "\n";
  }
  return r->ok() ? 0 : kExitCheckFailed;
}

}  // namespace

void RegisterCheck(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("check", "verify the repository");
  auto read_data = std::make_shared<bool>(false), rebuild = std::make_shared<bool>(false);
  cmd->add_flag("--read-data", *read_data, "read and authenticate every stored payload");
  cmd->add_flag("--rebuild-index", *rebuild, "recreate the index from packs and snapshots first");
  cmd->callback([&g, read_data, rebuild] {
    g.run = [&g, read_data, rebuild] { return Run(g, *read_data, *rebuild); };
  });
}

}  // namespace snap::cli

// snapctl dump SNAP NAME: writes a dump to stdout, e.g.
//   snapctl dump latest catalog | mysql pim
#include <unistd.h>

#include "engine/dump.h"
#include "tools/snapctl/cli.h"
#include "tools/snapctl/tree_walk.h"

namespace snap::cli {
namespace {

int Run(const Globals& g, const std::string& spec, const std::string& name, const std::string& at) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  auto snap = Resolve(**repo, spec, at);
  if (!snap.ok()) return Fail(g, snap.status());
  const engine::snapshot::SourceRecord* src = snap->record.FindSource(name);
  if (!src) return Fail(g, engine::Status::NotFound("snapshot " + snap->id.ShortHex() +
                                                    " has no dump named '" + name + "'"));
  engine::Status s = engine::WriteDump(**repo, *src, STDOUT_FILENO);
  if (!s.ok()) return Fail(g, s);
  return 0;
}

}  // namespace

void RegisterDump(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("dump", "write a dump of a snapshot to stdout");
  auto spec = std::make_shared<std::string>(), name = std::make_shared<std::string>(),
       at = std::make_shared<std::string>();
  cmd->add_option("snapshot", *spec, "snapshot ID prefix or 'latest'")->required();
  cmd->add_option("name", *name, "the dump's name")->required();
  cmd->add_option("--at", *at, "with 'latest': the last snapshot at or before this time");
  cmd->callback([&g, spec, name, at] {
    g.run = [&g, spec, name, at] { return Run(g, *spec, *name, *at); };
  });
}

}  // namespace snap::cli

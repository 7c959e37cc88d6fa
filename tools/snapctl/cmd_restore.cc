// snapctl restore SNAP|latest [--at TIME] [--source NAME] [--include GLOB] --target DIR [--delta]
#include <unistd.h>

#include <iostream>

#include "engine/restore.h"
#include "tools/snapctl/cli.h"
#include "tools/snapctl/progress.h"
#include "tools/snapctl/tree_walk.h"

namespace snap::cli {
namespace {

struct RestoreArgs {
  std::string spec = "latest", at, target, source;
  std::vector<std::string> includes;
  bool delta = false;
};

int Run(const Globals& g, const RestoreArgs& a) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  auto snap = Resolve(**repo, a.spec, a.at);
  if (!snap.ok()) return Fail(g, snap.status());
  engine::RestoreOptions opts;
  opts.target = a.target;
  if (!a.source.empty()) {
    opts.sources = {a.source};
    opts.into_target = true;
  }
  opts.includes = a.includes;
  opts.delta = a.delta;
  opts.restore_owners = geteuid() == 0;
  ProgressLine line(ShowProgress(g));
  opts.progress = [&](const engine::RestoreProgress& p) {
    line.Update(p.files, p.bytes_done, p.bytes_total, p.current);
  };
  auto r = engine::Restore(**repo, snap->record, opts);
  line.Done();
  if (!r.ok()) return Fail(g, r.status().WithContext("restore of " + snap->id.ShortHex()));
  if (r->xattr_failures > 0)
    std::cerr << "warning: " << r->xattr_failures
              << " extended attributes could not be set (the target file system refused them)\n";
  if (g.json) {
    PrintJson({{"snapshot", snap->id.ToHex()}, {"target", a.target}, {"files", r->files},
               {"dirs", r->dirs}, {"others", r->others}, {"files_unchanged", r->files_unchanged},
               {"chunks_written", r->chunks_written}, {"chunks_unchanged", r->chunks_unchanged},
               {"bytes_written", r->bytes_written}, {"removed", r->removed}});
  } else if (!g.quiet) {
    std::cout << "restored snapshot " << snap->id.ShortHex() << " to " << a.target << ": "
              << r->files << " files (" << r->files_unchanged << " unchanged), "
              << HumanBytes(r->bytes_written) << " written\n";
  }
  return 0;
}

}  // namespace

void RegisterRestore(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("restore", "restore a snapshot into a directory");
  auto a = std::make_shared<RestoreArgs>();
  cmd->add_option("snapshot", a->spec, "snapshot ID prefix or 'latest'");
  cmd->add_option("--at", a->at, "the last snapshot at or before this time (UTC)");
  cmd->add_option("--source", a->source, "restore only this source, straight into the target");
  cmd->add_option("--include", a->includes, "restore only paths matching this glob (repeatable)");
  cmd->add_option("--target", a->target, "directory to restore into")->required();
  cmd->add_flag("--delta", a->delta,
                "update an existing tree: keep right files, rewrite changed chunks, remove extras");
  cmd->callback([&g, a] { g.run = [&g, a] { return Run(g, *a); }; });
}

}  // namespace snap::cli

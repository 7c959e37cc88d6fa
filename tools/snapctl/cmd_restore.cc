// snapctl restore SNAP|latest [--at TIME] [--source NAME] [--include GLOB] --target DIR [--delta]
// snapctl restore SNAP|latest --dump NAME [--restore-command CMD]
// snapctl restore SNAP|latest --profile NAME --target DIR [--delta]
// Each also --from PEER, or --from replica://HOST:PORT/REPO-ID --fingerprint
// FP --key-file EXPORTED-KEY (remote_restore.h).
#include <unistd.h>

#include <iostream>

#include "engine/dump.h"
#include "engine/exec/subprocess.h"
#include "engine/restore.h"
#include "replicator/client/restore_prefetch.h"
#include "tools/snapctl/cli.h"
#include "tools/snapctl/progress.h"
#include "tools/snapctl/remote_restore.h"
#include "tools/snapctl/tree_walk.h"

namespace snap::cli {
namespace {

struct RestoreArgs {
  std::string spec = "latest", at, target, source, profile, restore_command;
  std::string from, fingerprint, cache;
  std::vector<std::string> includes, dumps;
  bool delta = false;
};

// With a remote source, first fetches in batches what the restore needs.
engine::Result<engine::RestoreStats> RestoreFiles(const Globals& g, const engine::Repository& repo,
                                                  const engine::snapshot::SnapshotRecord& rec,
                                                  engine::RestoreOptions opts,
                                                  RemoteSource* remote) {
  if (remote) {
    engine::Status s = replicator::client::PrefetchForRestore(*remote->repo, *remote->fetcher,
                                                              rec, opts);
    if (!s.ok()) return s.WithContext("fetching from the replica");
  }
  ProgressLine line(ShowProgress(g));
  opts.restore_owners = geteuid() == 0;
  opts.progress = [&](const engine::RestoreProgress& p) {
    line.Update(p.files, p.bytes_done, p.bytes_total, p.current);
  };
  return engine::Restore(repo, rec, opts);
}

// Prints the outcome; returns the exit code (1 when files were lost).
int Report(const Globals& g, const engine::Repository::SnapshotInfo& snap, const std::string& target,
           const engine::RestoreStats& r) {
  for (const std::string& l : r.lost) std::cerr << "error: not restored: " << l << "\n";
  if (r.xattr_failures > 0)
    std::cerr << "warning: " << r.xattr_failures
              << " extended attributes could not be set (the target file system refused them)\n";
  if (g.json) {
    PrintJson({{"snapshot", snap.id.ToHex()}, {"target", target}, {"files", r.files},
               {"dirs", r.dirs}, {"others", r.others}, {"files_unchanged", r.files_unchanged},
               {"chunks_written", r.chunks_written}, {"chunks_unchanged", r.chunks_unchanged},
               {"bytes_written", r.bytes_written}, {"chunks_read", r.chunks_read},
               {"pack_reads", r.pack_reads}, {"pack_bytes_read", r.pack_bytes_read},
               {"removed", r.removed}, {"lost", r.lost}});
  } else if (!g.quiet) {
    std::cout << "restored snapshot " << snap.id.ShortHex() << " to " << target << ": " << r.files
              << " files (" << r.files_unchanged << " unchanged), " << HumanBytes(r.bytes_written)
              << " written\n";
  }
  if (r.lost.empty()) return 0;
  std::cerr << "snapctl: " << r.lost.size()
            << " file(s) could not be restored (damaged or missing chunks; see `snapctl check "
               "--read-data`, and `check --repair --from PEER` to heal from a replica); every "
               "other file was restored\n";
  return kExitFailure;
}

// The restore command for a dump: --restore-command, else the config's,
// else the one recorded in the snapshot.
std::string RestoreCommandFor(const RestoreArgs& a, const std::optional<ConfigFile>& config,
                              const engine::snapshot::SourceRecord& src) {
  if (!a.restore_command.empty()) return a.restore_command;
  if (config)
    if (const DumpConfig* d = config->FindDump(src.name); d && !d->restore.empty()) return d->restore;
  return src.restore_command;
}

engine::Status RestoreDumps(const Globals& g, const engine::Repository& repo,
                            const engine::snapshot::SnapshotRecord& rec,
                            const std::vector<std::string>& names, const RestoreArgs& a,
                            const std::optional<ConfigFile>& config, const std::string& cwd) {
  for (const std::string& name : names) {
    const engine::snapshot::SourceRecord* src = rec.FindSource(name);
    if (!src || src->kind != engine::snapshot::SourceKind::kDump)
      return engine::Status::NotFound("the snapshot holds no dump named '" + name + "'");
    std::string cmd = RestoreCommandFor(a, config, *src);
    if (!g.quiet && !g.json) std::cerr << "restoring dump " << name << " through: " << cmd << "\n";
    SNAP_RETURN_IF_ERROR(engine::RestoreDump(repo, *src, cmd, cwd));
  }
  return engine::Status::OK();
}

int RunProfile(const Globals& g, const engine::Repository& repo,
               const engine::Repository::SnapshotInfo& snap, const RestoreArgs& a,
               RemoteSource* remote) {
  auto config = LoadConfig(g);
  if (!config.ok()) return Fail(g, config.status());
  const ProfileConfig* p = *config ? (*config)->FindProfile(a.profile) : nullptr;
  if (!p) return Fail(g, engine::Status::NotFound("no [profile." + a.profile + "] in the config file"));
  std::string step = "profile " + a.profile;
  engine::RestoreOptions opts;
  opts.target = a.target;
  opts.sources = p->sources;
  opts.delta = a.delta;
  if (opts.sources.empty())
    for (const auto& s : snap.record.sources)
      if (s.kind == engine::snapshot::SourceKind::kDirectory) opts.sources.push_back(s.name);
  auto files = RestoreFiles(g, repo, snap.record, opts, remote);
  if (!files.ok()) return Fail(g, files.status().WithContext(step + ": restoring files"));
  engine::Status s = RestoreDumps(g, repo, snap.record, p->dumps, a, *config, a.target);
  if (!s.ok()) return Fail(g, s.WithContext(step));
  for (size_t i = 0; i < p->post.size(); ++i) {
    s = engine::exec::RunCommand(p->post[i], step + " post step " + std::to_string(i + 1), a.target);
    if (!s.ok()) return Fail(g, s.WithContext("stopped"));
  }
  return Report(g, snap, a.target, *files);
}

int Run(const Globals& g, const RestoreArgs& a) {
  if (a.target.empty() && a.dumps.empty())
    return Fail(g, engine::Status::InvalidArgument("pass --target DIR (or --dump NAME)"));
  std::unique_ptr<RemoteSource> remote;
  std::unique_ptr<engine::Repository> local;
  if (!a.from.empty()) {
    auto r = OpenRemoteSource(g, a.from, a.fingerprint, a.cache);
    if (!r.ok()) return Fail(g, r.status());
    remote = std::move(*r);
  } else {
    auto r = OpenRepo(g, /*read_only=*/true);
    if (!r.ok()) return Fail(g, r.status());
    local = std::move(*r);
  }
  engine::Repository* repo = remote ? remote->repo.get() : local.get();
  auto snap = Resolve(*repo, a.spec, a.at);
  if (!snap.ok()) return Fail(g, snap.status());
  if (!a.profile.empty()) return RunProfile(g, *repo, *snap, a, remote.get());
  if (!a.dumps.empty()) {
    auto config = LoadConfig(g);
    if (!config.ok()) return Fail(g, config.status());
    engine::Status s = RestoreDumps(g, *repo, snap->record, a.dumps, a, *config, "");
    if (!s.ok()) return Fail(g, s);
    if (a.target.empty()) return 0;
  }
  engine::RestoreOptions opts;
  opts.target = a.target;
  if (!a.source.empty()) {
    opts.sources = {a.source};
    opts.into_target = true;
  }
  opts.includes = a.includes;
  opts.delta = a.delta;
  auto r = RestoreFiles(g, *repo, snap->record, opts, remote.get());
  if (!r.ok()) return Fail(g, r.status().WithContext("restore of " + snap->id.ShortHex()));
  return Report(g, *snap, a.target, *r);
}

}  // namespace

void RegisterRestore(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("restore", "restore a snapshot into a directory");
  auto a = std::make_shared<RestoreArgs>();
  cmd->add_option("snapshot", a->spec, "snapshot ID prefix or 'latest'");
  cmd->add_option("--at", a->at, "the last snapshot at or before this time (UTC)");
  cmd->add_option("--source", a->source, "restore only this source, straight into the target");
  cmd->add_option("--include", a->includes, "restore only paths matching this glob (repeatable)");
  cmd->add_option("--target", a->target, "directory to restore into");
  cmd->add_flag("--delta", a->delta,
                "update an existing tree: keep right files, rewrite changed chunks, remove extras");
  cmd->add_option("--dump", a->dumps, "pipe this dump into its restore command (repeatable)");
  cmd->add_option("--restore-command", a->restore_command,
                  "with --dump: the command to pipe into instead of the declared one");
  cmd->add_option("--profile", a->profile,
                  "run the config file's [profile.NAME]: sources, dump restores, post steps");
  cmd->add_option("--from", a->from,
                  "restore from a replica: a peer NAME, or replica://HOST:PORT/REPO-ID");
  cmd->add_option("--fingerprint", a->fingerprint, "with --from replica://...: its fingerprint");
  cmd->add_option("--cache", a->cache,
                  "with --from replica://...: where fetched chunks are kept (default "
                  "~/.cache/snapctl)");
  cmd->callback([&g, a] { g.run = [&g, a] { return Run(g, *a); }; });
}

}  // namespace snap::cli

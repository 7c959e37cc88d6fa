// snapctl replicate [--peer NAME] [--attempts N] [--backoff SECONDS]
#include "tools/snapctl/replication.h"

namespace snap::cli {
namespace {

struct Args {
  std::string peer;
  int attempts = 0, backoff = -1;  // unset: the config's [replication]
};

int Run(const Globals& g, const Args& a) {
  auto settings = ReplicationSettings(g);
  if (!settings.ok()) return Fail(g, settings.status());
  ReplicateOptions opts;
  if (!a.peer.empty()) opts.peer = a.peer;
  opts.attempts = a.attempts > 0 ? a.attempts : settings->attempts;
  opts.backoff_seconds = a.backoff >= 0 ? a.backoff : settings->backoff_seconds;
  auto repo = OpenRepo(g);
  if (!repo.ok()) return Fail(g, repo.status());
  return Replicate(g, **repo, opts);
}

}  // namespace

void RegisterReplicate(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("replicate", "send queued snapshots to the peers");
  auto a = std::make_shared<Args>();
  cmd->add_option("--peer", a->peer, "only this peer");
  cmd->add_option("--attempts", a->attempts, "tries per peer before giving up (default 3)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("--backoff", a->backoff, "seconds before the first retry, doubling (default 2)")
      ->check(CLI::Range(0, 3600));
  cmd->callback([&g, a] { g.run = [&g, a] { return Run(g, *a); }; });
}

}  // namespace snap::cli

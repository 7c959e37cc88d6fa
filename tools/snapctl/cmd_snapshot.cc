// snapctl snapshot --source NAME=PATH [...] [--exclude GLOB] [--exclude-caches] [--tag T]
//                  [--time TIME] [--replicate]
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "engine/capture.h"
#include "tools/snapctl/cli.h"
#include "tools/snapctl/progress.h"
#include "tools/snapctl/replication.h"

namespace snap::cli {
namespace {

struct SnapshotArgs {
  std::vector<std::string> sources, dumps, excludes, tags;
  std::string host, pre, post, time;
  bool exclude_caches = false;
  bool replicate = false;
};

engine::Result<engine::DirectorySource> ParseSource(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    return engine::Status::InvalidArgument("--source " + spec + ": expected NAME=PATH");
  return engine::DirectorySource{spec.substr(0, eq), spec.substr(eq + 1), {}};
}

engine::Result<engine::DumpSource> ParseDump(const std::string& spec) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    return engine::Status::InvalidArgument("--dump " + spec + ": expected NAME=COMMAND");
  return engine::DumpSource{spec.substr(0, eq), spec.substr(eq + 1), ""};
}

// With no --source and no --dump, the config file says what to capture.
engine::Status FromConfig(const Globals& g, engine::CaptureOptions* opts) {
  SNAP_ASSIGN_OR_RETURN(std::optional<ConfigFile> c, LoadConfig(g));
  if (!c)
    return engine::Status::InvalidArgument(
        "nothing to capture: pass --source NAME=PATH / --dump NAME=COMMAND, or declare sources "
        "in " + std::string(kDefaultConfigPath) + " (or --config FILE)");
  for (const SourceConfig& s : c->sources)
    opts->sources.push_back({s.name, s.path, s.excludes});
  for (const DumpConfig& d : c->dumps) opts->dumps.push_back({d.name, d.command, d.restore});
  if (std::any_of(c->sources.begin(), c->sources.end(),
                  [](const SourceConfig& s) { return s.exclude_caches; }))
    opts->exclude_caches = true;
  if (opts->pre_hook.empty()) opts->pre_hook = c->pre_hook;
  if (opts->post_hook.empty()) opts->post_hook = c->post_hook;
  return engine::Status::OK();
}

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string UserName() {
  struct passwd* pw = getpwuid(geteuid());
  return pw ? pw->pw_name : std::to_string(geteuid());
}

nlohmann::json StatsJson(const engine::snapshot::SourceStats& s) {
  return {{"files", s.files},           {"dirs", s.dirs},
          {"others", s.others},         {"bytes", s.bytes},
          {"new_chunks", s.new_chunks}, {"new_bytes", s.new_bytes},
          {"stored_bytes", s.stored_bytes}};
}

// The size of the newest snapshot of the same sources: the ETA's estimate.
uint64_t PreviousSize(const engine::Repository& repo, const engine::CaptureOptions& opts) {
  auto all = repo.ListSnapshots();
  if (!all.ok()) return 0;
  for (auto it = all->rbegin(); it != all->rend(); ++it) {
    uint64_t total = 0;
    size_t matched = 0;
    for (const auto& src : opts.sources)
      if (const auto* r = it->record.FindSource(src.name)) {
        total += r->stats.bytes;
        matched++;
      }
    if (matched == opts.sources.size()) return total;
  }
  return 0;
}

// Queues the committed snapshot for the peers and, with `now`, replicates.
// With `doc` (--json), the outcome goes into (*doc)["replication"] instead
// of out: the report, or {"error", "code"} when queueing or replication
// stopped before any peer (the snapshot itself is saved either way).
int QueueAndReplicate(const Globals& g, engine::Repository& repo, const engine::ChunkId& id,
                      bool now, nlohmann::json* doc) {
  auto fail = [&](const engine::Status& s) {
    if (!doc) return Fail(g, s);
    (*doc)["replication"] = ErrorJson(s);
    std::cerr << "snapctl: " << s.message() << "\n";
    return kExitFailure;
  };
  engine::Status queued = EnqueueForPeers(g, repo, id);
  if (!queued.ok()) return fail(queued.WithContext("snapshot saved, but not queued for peers"));
  if (!now) return 0;
  auto settings = ReplicationSettings(g);
  if (!settings.ok()) return fail(settings.status());
  ReplicateOptions ropts;
  ropts.attempts = settings->attempts;
  ropts.backoff_seconds = settings->backoff_seconds;
  if (!doc) return Replicate(g, repo, ropts);
  return Replicate(g, repo, ropts, &(*doc)["replication"]);
}

int Run(const Globals& g, const SnapshotArgs& a) {
  engine::CaptureOptions opts;
  for (const std::string& spec : a.sources) {
    engine::Result<engine::DirectorySource> s = ParseSource(spec);
    if (!s.ok()) return Fail(g, s.status());
    opts.sources.push_back(*s);
  }
  for (const std::string& spec : a.dumps) {
    engine::Result<engine::DumpSource> d = ParseDump(spec);
    if (!d.ok()) return Fail(g, d.status());
    opts.dumps.push_back(*d);
  }
  opts.pre_hook = a.pre;
  opts.post_hook = a.post;
  if (opts.sources.empty() && opts.dumps.empty()) {
    engine::Status s = FromConfig(g, &opts);
    if (!s.ok()) return Fail(g, s);
  }
  opts.excludes = a.excludes;
  opts.exclude_caches = a.exclude_caches;
  opts.tags = a.tags;
  opts.host = a.host.empty() ? HostName() : a.host;
  if (!a.time.empty()) {
    engine::Result<int64_t> t = ParseTime(a.time);
    if (!t.ok()) return Fail(g, t.status().WithContext("--time"));
    // ParseTime counts the whole second (for --at); a capture time is its start.
    opts.time_ns = *t - 999999999;
  }
  opts.user = UserName();
  auto repo = OpenRepo(g);
  if (!repo.ok()) return Fail(g, repo.status());
  ProgressLine line(ShowProgress(g));
  uint64_t estimate = PreviousSize(**repo, opts);
  opts.progress = [&](const engine::CaptureProgress& p) {
    // Bytes seen (read or found unchanged) against the last snapshot's size.
    line.Update(p.files, p.bytes_total_seen, estimate, p.current);
  };
  engine::Result<engine::CaptureResult> r = engine::TakeSnapshot(**repo, opts);
  line.Done();
  if (!r.ok()) return Fail(g, r.status().WithContext("snapshot failed, nothing was committed"));
  for (const std::string& w : r->warnings) std::cerr << "warning: " << w << "\n";
  nlohmann::json doc;
  if (g.json) {
    nlohmann::json sources = nlohmann::json::object();
    for (const auto& s : r->record.sources) sources[s.name] = StatsJson(s.stats);
    doc = {{"id", r->id.ToHex()},         {"time", FormatTime(r->record.time_ns)},
           {"files_read", r->files_read}, {"sources", sources},
           {"warnings", r->warnings}};
  } else if (!g.quiet) {
    for (const auto& s : r->record.sources)
      std::cout << s.name << ": " << s.stats.files << " files, " << s.stats.dirs << " dirs, "
                << HumanBytes(s.stats.bytes) << "; new: " << s.stats.new_chunks << " chunks, "
                << HumanBytes(s.stats.new_bytes) << "\n";
    std::cout << "snapshot " << r->id.ShortHex() << " saved (" << r->files_read
              << " files read)\n";
  }
  // Committed: from here on a failure concerns only its replication. Under
  // --json it all goes into one document: the snapshot's, with the error or
  // the replication report added.
  int code = QueueAndReplicate(g, **repo, r->id, a.replicate, g.json ? &doc : nullptr);
  if (g.json) PrintJson(doc);
  return code;
}

}  // namespace

void RegisterSnapshot(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("snapshot", "take a snapshot of directories");
  auto a = std::make_shared<SnapshotArgs>();
  cmd->add_option("--source", a->sources, "NAME=PATH of a directory to capture (repeatable)");
  cmd->add_option("--dump", a->dumps,
                  "NAME=COMMAND whose stdout is captured as a dump (repeatable; run first)");
  cmd->add_option("--pre", a->pre, "command run before the capture (fails the snapshot)");
  cmd->add_option("--post", a->post, "command run after the capture, even when it failed");
  cmd->add_option("--exclude", a->excludes, "glob of paths to skip (repeatable)");
  cmd->add_flag("--exclude-caches", a->exclude_caches, "skip directories holding a CACHEDIR.TAG");
  cmd->add_option("--tag", a->tags, "tag the snapshot (repeatable)");
  cmd->add_option("--host", a->host, "host name to record (default: this host)");
  cmd->add_option("--time", a->time,
                  "record this capture time instead of now (2026-11-20T03:00[:00], UTC; for "
                  "imports)");
  cmd->add_flag("--replicate", a->replicate, "then send it (and anything queued) to the peers");
  cmd->callback([&g, a] { g.run = [&g, a] { return Run(g, *a); }; });
}

}  // namespace snap::cli

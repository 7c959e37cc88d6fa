// replicad gc --dir DIR --repo ID [--dry-run] [--max-repack-ratio R] [--scratch DIR] [--json]
//
// Reclaims the packs no listed snapshot of the repository needs
// (replicator/server/replica_gc.h): deletes those with nothing live,
// repacks those whose live share fell below R. Needs no key. Runs beside
// `replicad serve` as forget does: it waits while sessions use the
// repository and refuses its sessions ("retry later") while it works.
// Progress on stderr; the summary on stdout.
#include <chrono>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "replicator/server/replica_gc.h"
#include "replicator/server/replica_store.h"
#include "tools/replicad/cli.h"
#include "tools/step_progress.h"

namespace snap::replicad {
namespace {

namespace server = replicator::server;

struct GcArgs {
  std::string dir, repo, scratch;
  double ratio = 0.5;
  bool dry_run = false, json = false;
};

nlohmann::json ReportJson(const std::string& repo, const server::ReplicaGcReport& r, bool dry_run,
                          double seconds) {
  return {{"repository", repo},
          {"dry_run", dry_run},
          {"snapshots", r.snapshots},
          {"unlisted_snapshots", r.unlisted_snapshots},
          {"packs", r.packs},
          {"pack_bytes", r.pack_bytes},
          {"live_chunks", r.live_chunks},
          {"live_bytes", r.live_bytes},
          {"stray_frames", r.stray_frames},
          {"deleted_packs", r.deleted_packs},
          {"deleted_bytes", r.deleted_bytes},
          {"repacked_packs", r.repacked_packs},
          {"repacked_bytes", r.repacked_bytes},
          {"new_packs", r.new_packs},
          {"new_bytes", r.new_bytes},
          {"reclaimed_bytes", r.reclaimed_bytes()},
          {"damaged_packs", r.damaged_packs},
          {"temp_files_removed", r.temp_files_removed},
          {"notes", r.notes},
          {"seconds", seconds}};
}

void PrintText(const server::ReplicaGcReport& r, bool dry_run, double seconds) {
  std::cout << r.snapshots << " snapshots; " << r.packs << " packs, " << HumanBytes(r.pack_bytes)
            << "; live: " << r.live_chunks << " chunks, " << HumanBytes(r.live_bytes) << "\n";
  if (r.unlisted_snapshots)
    std::cout << (dry_run ? "would remove " : "removed ") << r.unlisted_snapshots
              << " unlisted snapshot objects (a forget or a commit cut short)\n";
  std::cout << (dry_run ? "would delete " : "deleted ") << r.deleted_packs
            << " packs with nothing live (" << HumanBytes(r.deleted_bytes) << ")\n";
  std::cout << (dry_run ? "would repack " : "repacked ") << r.repacked_packs << " packs ("
            << HumanBytes(r.repacked_bytes) << " into " << HumanBytes(r.new_bytes) << ")\n";
  std::cout << (dry_run ? "would reclaim " : "reclaimed ") << HumanBytes(r.reclaimed_bytes())
            << " of " << HumanBytes(r.pack_bytes) << "\n";
  if (r.temp_files_removed)
    std::cout << "removed " << r.temp_files_removed << " temp files left by interrupted writers\n";
  for (const std::string& n : r.notes) std::cerr << "note: " << n << "\n";
  if (dry_run) std::cout << "dry run: nothing was changed\n";
  std::cout << "took " << static_cast<int64_t>(seconds * 1000) / 1000.0 << " s\n";
}

int Run(const GcArgs& a) {
  if (!(a.ratio >= 0 && a.ratio <= 1)) return UsageError("--max-repack-ratio must be from 0 to 1");
  auto start = std::chrono::steady_clock::now();
  engine::Result<std::unique_ptr<server::ReplicaRepo>> repo =
      ReplicaForAdmin(a.dir, a.repo, "gc", a.dry_run);
  if (!repo.ok()) return Fail(repo.status());
  server::ReplicaGcOptions opts;
  opts.dry_run = a.dry_run;
  opts.max_repack_ratio = a.ratio;
  opts.scratch_dir = a.scratch;
  tools::StepProgress progress("gc");
  opts.progress = [&](const std::string& step, uint64_t done, uint64_t total) {
    progress.Update(step, done, total);
  };
  engine::Result<server::ReplicaGcReport> r = server::CollectReplicaGarbage(**repo, opts);
  progress.Done();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.ok()) return Fail(r.status().WithContext("gc"));
  if (a.json)
    std::cout << ReportJson((*repo)->id_hex(), *r, a.dry_run, seconds).dump(2) << "\n";
  else
    PrintText(*r, a.dry_run, seconds);
  return 0;
}

}  // namespace

void RegisterGc(CLI::App& app, Globals& g) {
  auto a = std::make_shared<GcArgs>();
  auto* cmd = app.add_subcommand("gc",
                                 "delete and repack the packs no snapshot of a repository "
                                 "needs");
  cmd->add_option("--dir", a->dir, "the replica directory")->required();
  cmd->add_option("--repo", a->repo, "the repository ID (`replicad list` shows them)")->required();
  cmd->add_flag("--dry-run,-n", a->dry_run,
                "show what would be deleted or repacked, change nothing");
  cmd->add_option("--max-repack-ratio", a->ratio,
                  "repack packs whose live share is below R (0 to 1; default 0.5)");
  cmd->add_option("--scratch", a->scratch, "directory for the mark set (default $TMPDIR)");
  cmd->add_flag("--json", a->json, "machine-readable output");
  cmd->callback([&g, a] { g.run = [a] { return Run(*a); }; });
}

}  // namespace snap::replicad

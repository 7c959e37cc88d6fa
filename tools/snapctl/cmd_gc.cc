// snapctl gc [--dry-run] [--max-repack-ratio R] [--grace DURATION]
// Needs no key and no index: it reads pack footers and frame headers only,
// so it runs beside a snapshot, a replication or a restore.
#include <chrono>
#include <iostream>

#include "engine/gc.h"
#include "tools/snapctl/cli.h"
#include "tools/step_progress.h"

namespace snap::cli {
namespace {

struct GcArgs {
  bool dry_run = false;
  double ratio = 0.5;
  std::string grace = "1h";
  std::string scratch;
};

nlohmann::json ReportJson(const engine::GcReport& r, bool dry_run, double seconds) {
  return {{"dry_run", dry_run},
          {"snapshots", r.snapshots},
          {"packs", r.packs},
          {"pack_bytes", r.pack_bytes},
          {"live_chunks", r.live_chunks},
          {"live_bytes", r.live_bytes},
          {"condemned_packs", r.condemned_packs},
          {"condemned_bytes", r.condemned_bytes},
          {"deleted_packs", r.deleted_packs},
          {"deleted_bytes", r.deleted_bytes},
          {"repacked_packs", r.repacked_packs},
          {"repacked_bytes", r.repacked_bytes},
          {"new_packs", r.new_packs},
          {"new_bytes", r.new_bytes},
          {"restored_packs", r.restored_packs},
          {"waiting_packs", r.waiting_packs},
          {"waiting_bytes", r.waiting_bytes},
          {"damaged_packs", r.incomplete_packs},
          {"temp_files_removed", r.temp_files_removed},
          {"record", r.record},
          {"notes", r.notes},
          {"seconds", seconds}};
}

void PrintText(const engine::GcReport& r, bool dry_run, double seconds) {
  const char* will = dry_run ? "would " : "";
  std::cout << r.snapshots << " snapshots; " << r.packs << " packs, " << HumanBytes(r.pack_bytes)
            << "; live: " << r.live_chunks << " chunks, " << HumanBytes(r.live_bytes) << "\n";
  std::cout << (dry_run ? "would delete " : "deleted ") << r.deleted_packs << " packs ("
            << HumanBytes(r.deleted_bytes) << " reclaimed" << (dry_run ? "" : " now") << ")\n";
  std::cout << will << "condemn " << r.condemned_packs << " packs with nothing live ("
            << HumanBytes(r.condemned_bytes) << "; a later gc deletes them)\n";
  std::cout << will << "repack " << r.repacked_packs << " packs (" << HumanBytes(r.repacked_bytes)
            << " into " << HumanBytes(r.new_bytes) << "; a later gc deletes the old ones)\n";
  if (r.restored_packs)
    std::cout << will << "keep " << r.restored_packs
              << " condemned packs that snapshots use again\n";
  if (r.waiting_packs)
    std::cout << r.waiting_packs << " condemned packs (" << HumanBytes(r.waiting_bytes)
              << ") wait for a later gc\n";
  if (r.temp_files_removed)
    std::cout << "removed " << r.temp_files_removed
              << " temp files left by interrupted writers\n";
  for (const std::string& n : r.notes) std::cerr << "note: " << n << "\n";
  if (dry_run) std::cout << "dry run: nothing was changed\n";
  std::cout << "took " << static_cast<int64_t>(seconds * 1000) / 1000.0 << " s\n";
}

int Run(const Globals& g, const GcArgs& a) {
  if (!(a.ratio >= 0 && a.ratio <= 1))
    return Fail(g, engine::Status::InvalidArgument("--max-repack-ratio must be from 0 to 1"));
  engine::Result<int64_t> grace = engine::gc::ParseDuration(a.grace);
  if (!grace.ok()) return Fail(g, grace.status().WithContext("--grace"));
  if (g.repo.empty())
    return Fail(g, engine::Status::InvalidArgument(
                       "no repository given: pass --repo DIR or set SNAPCTL_REPO"));
  engine::GcOptions opts;
  opts.dry_run = a.dry_run;
  opts.max_repack_ratio = a.ratio;
  opts.grace_ns = *grace;
  opts.scratch_dir = a.scratch;
  tools::StepProgress progress("gc", !g.quiet && !g.json);
  opts.progress = [&](const std::string& step, uint64_t done, uint64_t total) {
    progress.Update(step, done, total);
  };
  auto start = std::chrono::steady_clock::now();
  engine::Result<engine::GcReport> r = engine::CollectGarbage(g.repo, opts);
  progress.Done();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r.ok()) return Fail(g, r.status().WithContext("gc"));
  if (g.json) PrintJson(ReportJson(*r, a.dry_run, seconds));
  else if (!g.quiet) PrintText(*r, a.dry_run, seconds);
  return 0;
}

}  // namespace

void RegisterGc(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("gc", "delete and repack packs no snapshot needs");
  auto a = std::make_shared<GcArgs>();
  cmd->add_flag("--dry-run,-n", a->dry_run, "show what would be deleted or repacked, change nothing");
  cmd->add_option("--max-repack-ratio", a->ratio,
                  "repack packs whose live share is below R (0 to 1; default 0.5)");
  cmd->add_option("--grace", a->grace,
                  "delete what an earlier gc condemned only once that is this old (default 1h)");
  cmd->add_option("--scratch", a->scratch, "directory for the mark set (default $TMPDIR)");
  cmd->callback([&g, a] { g.run = [&g, a] { return Run(g, *a); }; });
}

}  // namespace snap::cli

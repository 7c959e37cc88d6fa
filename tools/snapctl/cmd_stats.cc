// snapctl stats: what the repository holds and how well it deduplicates.
#include <iostream>

#include "tools/snapctl/cli.h"

namespace snap::cli {
namespace {

int Run(const Globals& g) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  auto snaps = (*repo)->ListSnapshots();
  if (!snaps.ok()) return Fail(g, snaps.status());
  uint64_t logical = 0, packs = 0, pack_bytes = 0, chunks = 0, raw = 0;
  for (const auto& s : *snaps)
    for (const auto& src : s.record.sources) logical += src.stats.bytes;
  engine::Status st = (*repo)->store().List("packs/", [&](std::string_view, uint64_t size) {
    packs++;
    pack_bytes += size;
    return engine::Status::OK();
  });
  if (!st.ok()) return Fail(g, st);
  st = (*repo)->chunk_index().ForEach([&](const engine::ChunkId&, const engine::index::ChunkLocation& l) {
    chunks++;
    raw += l.entry.raw_length;
    return true;
  });
  if (!st.ok()) return Fail(g, st);
  double ratio = pack_bytes ? static_cast<double>(logical) / static_cast<double>(pack_bytes) : 0;
  if (g.json) {
    PrintJson({{"snapshots", snaps->size()}, {"logical_bytes", logical}, {"packs", packs},
               {"stored_bytes", pack_bytes}, {"chunks", chunks}, {"unique_raw_bytes", raw},
               {"encrypted", (*repo)->encrypted()}, {"repository_id", (*repo)->config().RepoIdHex()}});
  } else if (!g.quiet) {
    std::cout << "snapshots:         " << snaps->size() << "\n"
              << "logical size:      " << HumanBytes(logical) << " (sum over snapshots)\n"
              << "unique chunks:     " << chunks << " (" << HumanBytes(raw) << " uncompressed)\n"
              << "stored in packs:   " << HumanBytes(pack_bytes) << " in " << packs << " packs\n"
              << "space saving:      " << (ratio > 0 ? std::to_string(ratio).substr(0, 5) : "-")
              << "x\n"
              << "encryption:        " << ((*repo)->encrypted() ? "AES-256-GCM" : "off") << "\n";
  }
  return 0;
}

}  // namespace

void RegisterStats(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("stats", "show repository statistics");
  cmd->callback([&g] { g.run = [&g] { return Run(g); }; });
}

}  // namespace snap::cli

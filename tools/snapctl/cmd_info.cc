// snapctl info: the repository's identity, format, encryption and sizes.
#include <iostream>

#include "engine/pack/pack_format.h"
#include "engine/repo/config.h"
#include "tools/snapctl/cli.h"

namespace snap::cli {
namespace {

struct Sizes {
  uint64_t packs = 0, pack_bytes = 0, snapshots = 0;
};

engine::Result<Sizes> Measure(const engine::Repository& repo) {
  Sizes s;
  SNAP_RETURN_IF_ERROR(repo.store().List("packs/", [&](std::string_view, uint64_t size) {
    s.packs++;
    s.pack_bytes += size;
    return engine::Status::OK();
  }));
  SNAP_RETURN_IF_ERROR(repo.store().List("snapshots/", [&](std::string_view, uint64_t) {
    s.snapshots++;
    return engine::Status::OK();
  }));
  return s;
}

int Run(const Globals& g) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  const engine::repo::Config& c = (*repo)->config();
  auto sizes = Measure(**repo);
  if (!sizes.ok()) return Fail(g, sizes.status());
  auto chunking = [](const engine::chunk::ChunkerParams& p) {
    return std::to_string(p.min_size) + "/" + std::to_string(p.avg_size) + "/" +
           std::to_string(p.max_size);
  };
  if (g.json) {
    PrintJson({{"repository", c.RepoIdHex()}, {"path", (*repo)->dir()},
               {"format_version", c.version}, {"encrypted", c.encrypted},
               {"encryption", c.encrypted ? "AES-256-GCM" : "none"},
               {"file_chunking", chunking(c.file_chunking)},
               {"dump_chunking", chunking(c.dump_chunking)}, {"zstd_level", c.zstd_level},
               {"pack_target_size", c.pack_target_size}, {"snapshots", sizes->snapshots},
               {"packs", sizes->packs}, {"pack_bytes", sizes->pack_bytes}});
    return 0;
  }
  std::cout << "repository   " << c.RepoIdHex() << "\n"
            << "path         " << (*repo)->dir() << "\n"
            << "format       version " << c.version << "\n"
            << "encryption   " << (c.encrypted ? "AES-256-GCM" : "none") << "\n"
            << "chunking     files " << chunking(c.file_chunking) << ", dumps "
            << chunking(c.dump_chunking) << " (min/avg/max bytes)\n"
            << "compression  zstd level " << c.zstd_level << "\n"
            << "snapshots    " << sizes->snapshots << "\n"
            << "packs        " << sizes->packs << " (" << HumanBytes(sizes->pack_bytes) << ")\n";
  return 0;
}

}  // namespace

void RegisterInfo(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("info", "repository ID, format, encryption and sizes");
  cmd->callback([&g] { g.run = [&g] { return Run(g); }; });
}

}  // namespace snap::cli

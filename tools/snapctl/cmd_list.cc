// snapctl list: the snapshots, oldest first.
#include <iomanip>
#include <iostream>

#include "tools/snapctl/cli.h"

namespace snap::cli {
namespace {

nlohmann::json SnapshotJson(const engine::Repository::SnapshotInfo& s) {
  nlohmann::json sources = nlohmann::json::array();
  for (const auto& src : s.record.sources)
    sources.push_back({{"name", src.name},
                       {"kind", src.kind == engine::snapshot::SourceKind::kDump ? "dump" : "directory"},
                       {"path", src.path},
                       {"files", src.stats.files},
                       {"start", FormatTime(src.start_ns)},
                       {"end", FormatTime(src.end_ns)},
                       {"command", src.command},
                       {"exit_status", src.exit_status},
                       {"bytes", src.stats.bytes},
                       {"notes", src.notes}});
  return {{"id", s.id.ToHex()},     {"time", FormatTime(s.record.time_ns)},
          {"time_ns", s.record.time_ns}, {"host", s.record.host},
          {"tags", s.record.tags},  {"parent", s.record.parent ? s.record.parent->ToHex() : ""},
          {"sources", sources}};
}

int Run(const Globals& g) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  auto all = (*repo)->ListSnapshots();
  if (!all.ok()) return Fail(g, all.status());
  if (g.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : *all) out.push_back(SnapshotJson(s));
    PrintJson(out);
    return 0;
  }
  if (g.quiet) return 0;
  std::cout << std::left << std::setw(14) << "ID" << std::setw(22) << "TIME" << std::setw(16)
            << "HOST" << std::setw(12) << "SIZE" << "SOURCES  TAGS\n";
  for (const auto& s : *all) {
    uint64_t bytes = 0;
    std::string names, tags;
    for (const auto& src : s.record.sources) {
      bytes += src.stats.bytes;
      names += (names.empty() ? "" : ",") + src.name;
    }
    for (const auto& t : s.record.tags) tags += (tags.empty() ? "" : ",") + t;
    std::cout << std::setw(14) << s.id.ShortHex() << std::setw(22) << FormatTime(s.record.time_ns)
              << std::setw(16) << s.record.host << std::setw(12) << HumanBytes(bytes) << names
              << "  " << tags << "\n";
  }
  return 0;
}

}  // namespace

void RegisterList(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("list", "list snapshots");
  cmd->alias("snapshots");
  cmd->callback([&g] { g.run = [&g] { return Run(g); }; });
}

}  // namespace snap::cli

// snapctl ls SNAP [PATH]: the entries of a snapshot, below PATH if given.
#include <iostream>

#include "tools/snapctl/cli.h"
#include "tools/snapctl/tree_walk.h"

namespace snap::cli {
namespace {

bool Under(const std::string& path, const std::string& prefix) {
  if (prefix.empty()) return true;
  return path == prefix || (path.size() > prefix.size() && path.starts_with(prefix) &&
                            path[prefix.size()] == '/');
}

int Run(const Globals& g, const std::string& spec, std::string prefix, const std::string& at) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (prefix.starts_with('/')) prefix.erase(0, 1);
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  auto snap = Resolve(**repo, spec, at);
  if (!snap.ok()) return Fail(g, snap.status());
  nlohmann::json out = nlohmann::json::array();
  engine::Status s = WalkSnapshot(**repo, snap->record, [&](const std::string& path,
                                                            const engine::snapshot::Node& n) {
    if (!Under(path, prefix)) return engine::Status::OK();
    if (g.json) {
      out.push_back({{"path", path}, {"mode", ModeString(n)}, {"size", n.size},
                     {"mtime", FormatTime(n.mtime_ns)}, {"uid", n.uid}, {"gid", n.gid},
                     {"user", n.user}, {"group", n.group}});
    } else if (!g.quiet) {
      std::cout << ModeString(n) << " " << (n.user.empty() ? std::to_string(n.uid) : n.user) << " "
                << (n.group.empty() ? std::to_string(n.gid) : n.group) << " " << n.size << " "
                << FormatTime(n.mtime_ns) << " " << path;
      if (n.type == engine::snapshot::NodeType::kSymlink) std::cout << " -> " << n.link_target;
      std::cout << "\n";
    }
    return engine::Status::OK();
  });
  if (!s.ok()) return Fail(g, s);
  if (g.json) PrintJson(out);
  return 0;
}

}  // namespace

void RegisterLs(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("ls", "list the files of a snapshot");
  auto spec = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto at = std::make_shared<std::string>();
  cmd->add_option("snapshot", *spec, "snapshot ID prefix or 'latest'")->required();
  cmd->add_option("path", *path, "only entries below this path (source/dir)");
  cmd->add_option("--at", *at, "with 'latest': the last snapshot at or before this time");
  cmd->callback([&g, spec, path, at] { g.run = [&g, spec, path, at] { return Run(g, *spec, *path, *at); }; });
}

}  // namespace snap::cli

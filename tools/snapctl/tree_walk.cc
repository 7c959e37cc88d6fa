#include "tools/snapctl/tree_walk.h"

#include "tools/snapctl/cli.h"

namespace snap::cli {
namespace {

using engine::snapshot::Node;
using engine::snapshot::NodeType;

engine::Status WalkNode(
    const engine::Repository& repo, const std::string& path, const Node& node,
    const std::function<engine::Status(const std::string&, const Node&)>& fn) {
  SNAP_RETURN_IF_ERROR(fn(path, node));
  if (node.type != NodeType::kDir || !node.subtree) return engine::Status::OK();
  engine::Result<engine::snapshot::Tree> tree = repo.ReadTree(*node.subtree);
  if (!tree.ok()) return tree.status().WithContext(path);
  for (const Node& child : tree->nodes)
    SNAP_RETURN_IF_ERROR(WalkNode(repo, path + "/" + child.name, child, fn));
  return engine::Status::OK();
}

}  // namespace

engine::Status WalkSnapshot(
    const engine::Repository& repo, const engine::snapshot::SnapshotRecord& rec,
    const std::function<engine::Status(const std::string&, const Node&)>& fn) {
  for (const auto& src : rec.sources) {
    if (src.kind != engine::snapshot::SourceKind::kDirectory) continue;
    engine::Result<engine::snapshot::Tree> wrapper = repo.ReadTree(src.root);
    if (!wrapper.ok()) return wrapper.status().WithContext("source " + src.name);
    for (const Node& n : wrapper->nodes) SNAP_RETURN_IF_ERROR(WalkNode(repo, src.name, n, fn));
  }
  return engine::Status::OK();
}

std::string ModeString(const Node& n) {
  static constexpr char kTypes[] = "?-dlpcbs";
  std::string s(1, kTypes[static_cast<int>(n.type) < 8 ? static_cast<int>(n.type) : 0]);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) s += (n.mode & (0400 >> i)) ? rwx[i] : '-';
  if (n.mode & 04000) s[3] = (n.mode & 0100) ? 's' : 'S';
  if (n.mode & 02000) s[6] = (n.mode & 0010) ? 's' : 'S';
  if (n.mode & 01000) s[9] = (n.mode & 0001) ? 't' : 'T';
  return s;
}

engine::Result<engine::Repository::SnapshotInfo> Resolve(const engine::Repository& repo,
                                                        const std::string& spec,
                                                        const std::string& at) {
  std::optional<int64_t> at_ns;
  if (!at.empty()) {
    SNAP_ASSIGN_OR_RETURN(int64_t t, ParseTime(at));
    at_ns = t;
  }
  return repo.ResolveSnapshot(spec, at_ns);
}

}  // namespace snap::cli

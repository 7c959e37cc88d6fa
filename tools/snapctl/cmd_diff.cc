// snapctl diff SNAP1 SNAP2: what changed between two snapshots. Subtrees
// with the same ID are skipped unread, so the cost follows the change.
#include <array>
#include <iostream>
#include <map>
#include <optional>

#include "tools/snapctl/cli.h"
#include "tools/snapctl/tree_walk.h"

namespace snap::cli {
namespace {

using engine::snapshot::Node;
using engine::snapshot::NodeType;
using engine::snapshot::Tree;

class Differ {
 public:
  Differ(const engine::Repository& repo, const Globals& g) : repo_(repo), g_(g) {}

  engine::Status Compare(const std::string& path, const Node* a, const Node* b) {
    if (!a) return Emit('+', path, *b);
    if (!b) return Emit('-', path, *a);
    if (a->type != b->type) {
      SNAP_RETURN_IF_ERROR(Emit('-', path, *a));
      return Emit('+', path, *b);
    }
    if (a->type == NodeType::kDir) {
      if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid || a->xattrs != b->xattrs)
        SNAP_RETURN_IF_ERROR(Emit('U', path, *b));
      if (a->subtree == b->subtree) return engine::Status::OK();
      return CompareTrees(path, *a->subtree, *b->subtree);
    }
    if (a->content != b->content || a->link_target != b->link_target || a->rdev != b->rdev)
      return Emit('M', path, *b);
    if (a->mode != b->mode || a->uid != b->uid || a->gid != b->gid || a->xattrs != b->xattrs ||
        a->mtime_ns != b->mtime_ns)
      return Emit('U', path, *b);
    return engine::Status::OK();
  }

  engine::Status CompareTrees(const std::string& path, const engine::ChunkId& ta,
                              const engine::ChunkId& tb) {
    SNAP_ASSIGN_OR_RETURN(Tree a, repo_.ReadTree(ta));
    SNAP_ASSIGN_OR_RETURN(Tree b, repo_.ReadTree(tb));
    size_t i = 0, j = 0;
    while (i < a.nodes.size() || j < b.nodes.size()) {
      const Node* x = i < a.nodes.size() ? &a.nodes[i] : nullptr;
      const Node* y = j < b.nodes.size() ? &b.nodes[j] : nullptr;
      if (x && y && x->name == y->name) {
        SNAP_RETURN_IF_ERROR(Compare(path + "/" + x->name, x, y));
        ++i, ++j;
      } else if (x && (!y || x->name < y->name)) {
        SNAP_RETURN_IF_ERROR(Compare(path + "/" + x->name, x, nullptr));
        ++i;
      } else {
        SNAP_RETURN_IF_ERROR(Compare(path + "/" + y->name, nullptr, y));
        ++j;
      }
    }
    return engine::Status::OK();
  }

  void EmitDump(char what, const std::string& name) {
    ++changes_;
    if (g_.json)
      out_.push_back({{"change", std::string(1, what)}, {"path", name}, {"dump", true}});
    else if (!g_.quiet)
      std::cout << what << "  " << name << " (dump)\n";
  }

  nlohmann::json& json() { return out_; }
  uint64_t changes() const { return changes_; }

 private:
  engine::Status Emit(char what, const std::string& path, const Node& n) {
    ++changes_;
    std::string p = path + (n.type == NodeType::kDir ? "/" : "");
    if (g_.json)
      out_.push_back({{"change", std::string(1, what)}, {"path", p}});
    else if (!g_.quiet)
      std::cout << what << "  " << p << "\n";
    return engine::Status::OK();
  }

  const engine::Repository& repo_;
  const Globals& g_;
  nlohmann::json out_ = nlohmann::json::array();
  uint64_t changes_ = 0;
};

engine::Result<Tree> Wrapper(const engine::Repository& repo,
                             const engine::snapshot::SourceRecord& s) {
  return repo.ReadTree(s.root);
}

int Run(const Globals& g, const std::string& s1, const std::string& s2) {
  auto repo = OpenRepo(g, /*read_only=*/true);
  if (!repo.ok()) return Fail(g, repo.status());
  auto a = (*repo)->ResolveSnapshot(s1), b = (*repo)->ResolveSnapshot(s2);
  if (!a.ok()) return Fail(g, a.status());
  if (!b.ok()) return Fail(g, b.status());
  Differ d(**repo, g);
  std::map<std::string, std::pair<const Node*, const Node*>> sources;
  std::map<std::string, std::array<std::optional<engine::ChunkId>, 2>> dumps;
  std::vector<Tree> keep;
  keep.reserve(a->record.sources.size() + b->record.sources.size());
  for (int side = 0; side < 2; ++side) {
    for (const auto& s : (side == 0 ? a : b)->record.sources) {
      if (s.kind != engine::snapshot::SourceKind::kDirectory) {
        dumps[s.name][side] = s.root;
        continue;
      }
      auto w = Wrapper(**repo, s);
      if (!w.ok()) return Fail(g, w.status().WithContext("source " + s.name));
      if (w->nodes.size() != 1) return Fail(g, engine::Status::Corruption("source " + s.name + ": bad root"));
      keep.push_back(std::move(*w));
      (side == 0 ? sources[s.name].first : sources[s.name].second) = &keep.back().nodes[0];
    }
  }
  for (const auto& [name, pair] : sources) {
    engine::Status s = d.Compare(name, pair.first, pair.second);
    if (!s.ok()) return Fail(g, s);
  }
  for (const auto& [name, roots] : dumps) {
    if (roots[0] == roots[1]) continue;
    char what = !roots[0] ? '+' : !roots[1] ? '-' : 'M';
    d.EmitDump(what, name);
  }
  if (g.json) PrintJson(d.json());
  else if (!g.quiet) std::cout << d.changes() << " changes\n";
  return 0;
}

}  // namespace

void RegisterDiff(CLI::App& app, Globals& g) {
  auto* cmd = app.add_subcommand("diff", "show what changed between two snapshots");
  auto a = std::make_shared<std::string>(), b = std::make_shared<std::string>();
  cmd->add_option("snapshot1", *a)->required();
  cmd->add_option("snapshot2", *b)->required();
  cmd->callback([&g, a, b] { g.run = [&g, a, b] { return Run(g, *a, *b); }; });
}

}  // namespace snap::cli

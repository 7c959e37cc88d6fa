#include "replicator/client/restore_prefetch.h"

#include <sys/stat.h>

#include <algorithm>

#include "engine/capture/glob.h"

namespace snap::replicator::client {
namespace {

using engine::ChunkId;
using engine::snapshot::Node;
using engine::snapshot::NodeType;

constexpr size_t kFetchBatch = 4096;

struct DirToVisit {
  ChunkId tree;
  std::string path;  // in the target
  std::string rel;   // relative to the source root
  bool included;
};

class Prefetcher {
 public:
  Prefetcher(engine::Repository& repo, RemoteFetcher& fetcher, const engine::RestoreOptions& opts)
      : repo_(repo), fetcher_(fetcher), opts_(opts), includes_(opts.includes) {}

  Status Source(const engine::snapshot::SourceRecord& src) {
    SNAP_RETURN_IF_ERROR(fetcher_.Fetch(std::span<const ChunkId>(&src.root, 1)));
    SNAP_ASSIGN_OR_RETURN(engine::snapshot::Tree wrapper, repo_.ReadTree(src.root));
    if (wrapper.nodes.size() != 1 || !wrapper.nodes[0].subtree) return Status::OK();  // restore reports it
    std::string base = opts_.into_target ? opts_.target : opts_.target + "/" + src.name;
    std::vector<DirToVisit> level{{*wrapper.nodes[0].subtree, base, "", includes_.empty()}};
    while (!level.empty()) {
      SNAP_ASSIGN_OR_RETURN(level, Level(level));
    }
    return Flush();
  }

 private:
  Result<std::vector<DirToVisit>> Level(const std::vector<DirToVisit>& level) {
    std::vector<ChunkId> trees;
    for (const DirToVisit& d : level) trees.push_back(d.tree);
    SNAP_RETURN_IF_ERROR(fetcher_.Fetch(trees));
    std::vector<DirToVisit> next;
    for (const DirToVisit& d : level) {
      SNAP_ASSIGN_OR_RETURN(engine::snapshot::Tree tree, repo_.ReadTree(d.tree));
      for (const Node& n : tree.nodes) {
        std::string rel = d.rel.empty() ? n.name : d.rel + "/" + n.name;
        bool inc = d.included || includes_.Matches(rel);
        if (n.type == NodeType::kDir && n.subtree) {
          next.push_back({*n.subtree, d.path + "/" + n.name, rel, inc});
        } else if (inc && n.type == NodeType::kFile && !AlreadyThere(d.path + "/" + n.name, n)) {
          want_.insert(want_.end(), n.content.begin(), n.content.end());
          if (want_.size() >= kFetchBatch) SNAP_RETURN_IF_ERROR(Flush());
        }
      }
    }
    return next;
  }

  // A delta restore leaves a file alone when it already matches.
  bool AlreadyThere(const std::string& path, const Node& n) const {
    if (!opts_.delta) return false;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
    int64_t mtime = int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    return uint64_t(st.st_size) == n.size && mtime == n.mtime_ns;
  }

  Status Flush() {
    Status s = fetcher_.Fetch(want_);
    want_.clear();
    return s;
  }

  engine::Repository& repo_;
  RemoteFetcher& fetcher_;
  const engine::RestoreOptions& opts_;
  engine::capture::GlobSet includes_;
  std::vector<ChunkId> want_;
};

}  // namespace

Status PrefetchForRestore(engine::Repository& repo, RemoteFetcher& fetcher,
                          const engine::snapshot::SnapshotRecord& snap,
                          const engine::RestoreOptions& opts) {
  Prefetcher p(repo, fetcher, opts);
  for (const auto& src : snap.sources) {
    if (src.kind != engine::snapshot::SourceKind::kDirectory) continue;
    if (!opts.sources.empty() &&
        std::find(opts.sources.begin(), opts.sources.end(), src.name) == opts.sources.end())
      continue;
    SNAP_RETURN_IF_ERROR(p.Source(src));
  }
  return Status::OK();
}

}  // namespace snap::replicator::client

#include "engine/restore/restorer.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace snap::engine::restore {
namespace {

std::string Join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "/" + b; }

// Up to 512 open directories, less under a descriptor limit below ~960:
// the index keeps up to 256 table files open, packs 16, the batches up to
// 128 files, and the process a few more.
int MaxOpenDirs() {
  constexpr int64_t kOthers = 448;
  struct rlimit r;
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 512;
  return static_cast<int>(std::clamp<int64_t>(static_cast<int64_t>(r.rlim_cur) - kOthers, 16, 512));
}

}  // namespace

Restorer::Restorer(const Repository& repo, const RestoreOptions& opts)
    : repo_(repo), opts_(opts), includes_(opts.includes), max_open_dirs_(MaxOpenDirs()) {}

Status Restorer::RestoreSource(int parent_fd, const std::string& name, const snapshot::Node& node,
                               const std::string& display) {
  links_.clear();
  DirCtx parent;
  parent.fixed_fd = parent_fd;
  parent.display = display;
  if (!opts_.delta) {
    Result<struct stat> st = fs::StatAt(parent_fd, name);
    if (st.ok() && S_ISDIR(st->st_mode)) {
      Result<fs::Fd> d = fs::OpenDirAt(parent_fd, name);
      if (d.ok()) {
        SNAP_ASSIGN_OR_RETURN(auto names, fs::ListDir(d->get()));
        if (!names.empty())
          return Status::InvalidArgument(display + ": not empty; restore into an empty "
                                                   "directory, or pass --delta to update it");
      }
    } else if (st.ok()) {
      return Status::InvalidArgument(display + ": exists and is not a directory");
    }
  }
  auto* root = new DirCtx;
  root->parent = &parent;
  root->name = name;
  root->node = &node;
  root->display = display;
  source_root_ = root;
  // The walk's reference on the root keeps source_root_ open for hardlinks.
  Hold(root);
  Status s = RestoreDir(root, includes_.empty());
  // Even after a failure: every file of the batch holds a directory.
  Status flushed = FlushBatch();
  Release(root);
  source_root_ = nullptr;
  Status jobs = pool_.WaitIdle();
  SNAP_RETURN_IF_ERROR(s);
  SNAP_RETURN_IF_ERROR(flushed);
  SNAP_RETURN_IF_ERROR(jobs);
  std::lock_guard<std::mutex> lock(mu_);
  return finish_error_;
}

Status Restorer::EnsureDir(DirCtx* dir) {
  if (dir->fixed_fd >= 0 || dir->fd.valid()) return Status::OK();
  SNAP_RETURN_IF_ERROR(EnsureDir(dir->parent));
  int pfd = dir->parent->fixed_fd >= 0 ? dir->parent->fixed_fd : dir->parent->fd.get();
  Result<fs::Fd> fd = CreateDir(pfd, dir->name, opts_.delta);
  if (!fd.ok()) return fd.status().WithContext(dir->display);
  dir->fd = std::move(*fd);
  open_dirs_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.dirs++;
  progress_.dirs++;
  return Status::OK();
}

// Takes over the walk's reference on `dir`.
Status Restorer::RestoreDir(DirCtx* dir, bool included) {
  Status s;
  if (!dir->node->subtree) {
    s = Status::Corruption(dir->display + ": directory without a tree");
  } else if (Result<snapshot::Tree> tree = repo_.ReadTree(*dir->node->subtree); !tree.ok()) {
    s = tree.status().WithContext(dir->display);
  } else {
    dir->tree = std::move(*tree);
    s = RestoreDirEntries(dir, included);
  }
  if (!s.ok()) failed_ = true;
  Release(dir);
  return s;
}

Status Restorer::RestoreDirEntries(DirCtx* dir, bool included) {
  if (included) SNAP_RETURN_IF_ERROR(EnsureDir(dir));
  for (const snapshot::Node& child : dir->tree.nodes)
    SNAP_RETURN_IF_ERROR(RestoreChild(dir, child, included));
  if (dir->fd.valid() && opts_.delta && includes_.empty())
    SNAP_RETURN_IF_ERROR(RemoveExtraneous(dir, dir->tree));
  return Status::OK();
}

void Restorer::Release(DirCtx* dir) {
  while (dir->fixed_fd < 0 && dir->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    Status s = FinishDir(dir);
    if (!s.ok()) {
      failed_ = true;
      std::lock_guard<std::mutex> lock(mu_);
      if (finish_error_.ok()) finish_error_ = s;
    }
    DirCtx* parent = dir->parent;
    delete dir;
    dir = parent;
  }
}

// REQUIRES: nothing is left to write in `dir` (its mtime must be final).
Status Restorer::FinishDir(DirCtx* dir) {
  if (!dir->fd.valid()) return Status::OK();
  int pfd = dir->parent->fixed_fd >= 0 ? dir->parent->fixed_fd : dir->parent->fd.get();
  dir->fd = fs::Fd();
  open_dirs_.fetch_sub(1, std::memory_order_relaxed);
  if (failed_) return Status::OK();  // a failing restore leaves what it wrote as it is
  return ApplyMeta(pfd, dir->name, *dir->node);
}

Status Restorer::RestoreChild(DirCtx* dir, const snapshot::Node& node, bool included) {
  if (!snapshot::IsValidName(node.name))
    return Status::Corruption(dir->display + ": refusing entry with unsafe name");
  std::string rel = Join(dir->rel, node.name);
  bool inc = included || includes_.Matches(rel);
  if (node.type == snapshot::NodeType::kDir) {
    auto* sub = new DirCtx;
    sub->parent = dir;
    sub->name = node.name;
    sub->node = &node;
    sub->rel = rel;
    sub->display = dir->display + "/" + node.name;
    Hold(dir);
    return RestoreDir(sub, inc);
  }
  if (!inc) return Status::OK();
  SNAP_RETURN_IF_ERROR(EnsureDir(dir));
  std::string display = dir->display + "/" + node.name;
  if (node.type == snapshot::NodeType::kFile) return RestoreFile(dir, node, rel);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.others++;
  }
  if (opts_.delta) {
    SNAP_ASSIGN_OR_RETURN(bool same, IsUnchanged(dir->fd.get(), node));
    if (same) return Status::OK();
  }
  Status s = CreateSpecial(dir->fd.get(), node, opts_.delta);
  if (!s.ok()) return s.WithContext(display);
  return ApplyMeta(dir->fd.get(), node.name, node);
}

// With `replace` (--delta), what is in the way may be a whole tree to
// remove first: not under the lock, which would hold every create for it.
std::unique_lock<std::mutex> Restorer::CreateLock(bool replace) {
  return replace ? std::unique_lock<std::mutex>() : std::unique_lock<std::mutex>(create_mu_);
}

Result<fs::Fd> Restorer::CreateFile(int dirfd, const std::string& name, bool replace) {
  std::unique_lock<std::mutex> lock = CreateLock(replace);
  return fs::CreateFileAt(dirfd, name, replace);
}

Result<fs::Fd> Restorer::CreateDir(int dirfd, const std::string& name, bool replace) {
  std::unique_lock<std::mutex> lock = CreateLock(replace);
  return fs::MakeDirAt(dirfd, name, replace);
}

Status Restorer::CreateSpecial(int dirfd, const snapshot::Node& node, bool replace) {
  std::unique_lock<std::mutex> lock = CreateLock(replace);
  return fs::MakeSpecialAt(dirfd, node.name, node, replace);
}

Status Restorer::ApplyMeta(int dirfd, const std::string& name, const snapshot::Node& node) {
  int failures = 0;
  Status s = fs::ApplyMetadata(dirfd, name, node, opts_.restore_owners, &failures);
  if (failures > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.xattr_failures += failures;
  }
  return s;
}

Status Restorer::ApplyFileMeta(int dirfd, int fd, const snapshot::Node& node) {
  int failures = 0;
  Status s = fs::ApplyFileMetadata(dirfd, fd, node.name, node, opts_.restore_owners, &failures);
  if (failures > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.xattr_failures += failures;
  }
  return s;
}

void Restorer::Report(const std::string& display) {
  if (!opts_.progress) return;
  progress_.current = display;
  opts_.progress(progress_);
}

}  // namespace snap::engine::restore

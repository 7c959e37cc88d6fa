// Restorer: regular files (full, delta, hardlinked) and the public entry.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "engine/restore/restorer.h"

namespace snap::engine::restore {
namespace {

// Opens the parent directory of `rel` (relative to root_fd) without
// following symlinks; *leaf receives the last component.
Result<fs::Fd> OpenParent(int root_fd, const std::string& rel, std::string* leaf) {
  size_t slash = rel.rfind('/');
  *leaf = slash == std::string::npos ? rel : rel.substr(slash + 1);
  fs::Fd fd(::fcntl(root_fd, F_DUPFD_CLOEXEC, 0));
  if (!fd.valid()) return Status::FromErrno("restore: dup", errno);
  if (slash == std::string::npos) return fd;
  std::string_view dirs(rel.data(), slash);
  while (!dirs.empty()) {
    size_t next = dirs.find('/');
    std::string part(dirs.substr(0, next));
    SNAP_ASSIGN_OR_RETURN(fd, fs::OpenDirAt(fd.get(), part));
    dirs = next == std::string_view::npos ? std::string_view() : dirs.substr(next + 1);
  }
  return fd;
}

}  // namespace

Result<bool> Restorer::IsUnchanged(int dfd, const snapshot::Node& node) {
  Result<struct stat> st = fs::StatAt(dfd, node.name);
  if (!st.ok()) return false;
  Result<snapshot::Node> have = fs::NodeFromStat(dfd, node.name, *st);
  if (!have.ok()) return false;
  bool same = have->type == node.type && have->size == node.size &&
              have->mtime_ns == node.mtime_ns && have->mode == node.mode &&
              have->xattrs == node.xattrs && have->link_target == node.link_target &&
              have->rdev == node.rdev &&
              (!opts_.restore_owners || (have->uid == node.uid && have->gid == node.gid));
  return same;
}

Status Restorer::RestoreFile(DirCtx* dir, const snapshot::Node& node, const std::string& rel) {
  std::string display = dir->display + "/" + node.name;
  int dfd = dir->fd.get();
  if (node.hardlink_group != 0) {
    auto it = links_.find(node.hardlink_group);
    if (it != links_.end()) {
      // The first copy may still be in a batch or in the pool's hands.
      SNAP_RETURN_IF_ERROR(FlushBatch());
      SNAP_RETURN_IF_ERROR(pool_.WaitIdle());
      {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.files++;
        progress_.files++;
      }
      std::string leaf;
      SNAP_ASSIGN_OR_RETURN(fs::Fd pfd, OpenParent(source_root_->fd.get(), it->second, &leaf));
      Result<struct stat> a = fs::StatAt(pfd.get(), leaf), b = fs::StatAt(dfd, node.name);
      if (opts_.delta && a.ok() && b.ok() && a->st_ino == b->st_ino && a->st_dev == b->st_dev)
        return Status::OK();
      return fs::LinkAt(pfd.get(), leaf, dfd, node.name, opts_.delta).WithContext(display);
    }
    links_[node.hardlink_group] = rel;
  }
  if (!opts_.delta) return AddToBatch(dir, node, display);
  const snapshot::Node* n = &node;
  Hold(dir);
  Status s = pool_.Submit([this, dir, n, display] {
    Status job = failed_ ? Status::OK() : FileJob(dir->fd.get(), *n, display);
    if (!job.ok()) failed_ = true;
    Release(dir);
    return job;
  });
  if (!s.ok()) Release(dir);  // not queued
  return s;
}

// A file whose content cannot be read (a damaged or lost chunk) is removed
// rather than left partial or wrong, named in the stats, and the restore
// goes on with every other file. Other failures (a full disk) stop it.
Status Restorer::FileJob(int dfd, const snapshot::Node& node, const std::string& display) {
  Status s = FileContentJob(dfd, node, display);
  if (s.ok() || !(s.IsCorruption() || s.IsNotFound())) return s;
  (void)fs::RemoveAt(dfd, node.name);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.lost.push_back(s.message());
  return Status::OK();
}

Status Restorer::FileContentJob(int dfd, const snapshot::Node& node, const std::string& display) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.files++;
    progress_.files++;
  }
  if (opts_.delta) {
    SNAP_ASSIGN_OR_RETURN(bool same, IsUnchanged(dfd, node));
    if (same) {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.files_unchanged++;
      progress_.bytes_done += node.size;
      Report(display);
      return Status::OK();
    }
    Result<fs::Fd> fd = fs::OpenFileForUpdateAt(dfd, node.name);
    if (fd.ok()) {
      SNAP_RETURN_IF_ERROR(WriteContent(fd->get(), node, display, true));
      return ApplyFileMeta(dfd, fd->get(), node);
    }
  }
  Result<fs::Fd> fd = CreateFile(dfd, node.name, opts_.delta);
  if (!fd.ok()) return fd.status().WithContext(display);
  SNAP_RETURN_IF_ERROR(WriteContent(fd->get(), node, display, false));
  return ApplyFileMeta(dfd, fd->get(), node);
}

// Writes each chunk at its offset. With `compare`, a chunk whose bytes are
// already there (same keyed hash) is not written: a delta restore rewrites
// only what changed, and the file is cut to its size. Without, the file is
// new and empty: what is written is its size.
Status Restorer::WriteContent(int fd, const snapshot::Node& node, const std::string& what,
                              bool compare) {
  uint64_t offset = 0;
  // Each pool thread reads every chunk through the same buffers.
  thread_local ChunkScratch scratch;
  thread_local Buffer on_disk;
  for (const ChunkId& id : node.content) {
    if (compare) {
      Result<std::optional<index::ChunkLocation>> loc = repo_.chunk_index().Get(id);
      if (loc.ok() && *loc) {
        MutableByteSpan existing = Grow(&on_disk, (*loc)->entry.raw_length);
        ssize_t n = ::pread(fd, existing.data(), existing.size(), static_cast<off_t>(offset));
        if (n == static_cast<ssize_t>(existing.size()) && repo_.Hash(existing) == id) {
          offset += existing.size();
          std::lock_guard<std::mutex> lock(mu_);
          stats_.chunks_unchanged++;
          progress_.bytes_done += existing.size();
          continue;
        }
      }
    }
    Result<ByteSpan> data = repo_.ReadChunk(id, &scratch);
    if (!data.ok()) return data.status().WithContext(what);
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.chunks_read++;
    }
    SNAP_RETURN_IF_ERROR(fs::WriteAt(fd, offset, *data, what));
    offset += data->size();
    std::lock_guard<std::mutex> lock(mu_);
    stats_.chunks_written++;
    stats_.bytes_written += data->size();
    progress_.bytes_done += data->size();
    Report(what);
  }
  if (offset != node.size && !(node.flags & snapshot::kNodeChangedWhileRead))
    return Status::Corruption(what + ": content is " + std::to_string(offset) +
                              " bytes, the snapshot says " + std::to_string(node.size));
  if (compare && ::ftruncate(fd, static_cast<off_t>(offset)) != 0)
    return Status::FromErrno(what + ": ftruncate", errno);
  return Status::OK();
}

Status Restorer::RemoveExtraneous(DirCtx* dir, const snapshot::Tree& tree) {
  SNAP_ASSIGN_OR_RETURN(std::vector<std::string> names, fs::ListDir(dir->fd.get()));
  for (const std::string& name : names) {
    if (tree.Find(name) != nullptr) continue;
    SNAP_RETURN_IF_ERROR(fs::RemoveAt(dir->fd.get(), name).WithContext(dir->display));
    std::lock_guard<std::mutex> lock(mu_);
    stats_.removed++;
  }
  return Status::OK();
}

}  // namespace snap::engine::restore

namespace snap::engine {
namespace {

// A restore holds directories and files open in its batches, next to the
// index's table files (Restorer bounds the directories by the limit): raise
// a soft limit of 1024 where the hard limit allows.
void RaiseOpenFileLimit() {
  struct rlimit r;
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= 4096 || r.rlim_cur >= r.rlim_max) return;
  r.rlim_cur = std::min<rlim_t>(r.rlim_max, 4096);
  (void)::setrlimit(RLIMIT_NOFILE, &r);
}

uint64_t TotalBytes(const snapshot::SnapshotRecord& snap, const RestoreOptions& opts) {
  uint64_t total = 0;
  for (const auto& s : snap.sources)
    if (opts.sources.empty() ||
        std::find(opts.sources.begin(), opts.sources.end(), s.name) != opts.sources.end())
      total += s.stats.bytes;
  return total;
}

Status RestoreOne(const Repository& repo, restore::Restorer& r, const snapshot::SourceRecord& src,
                  const RestoreOptions& opts, int target_fd) {
  Result<snapshot::Tree> wrapper = repo.ReadTree(src.root);
  if (!wrapper.ok()) return wrapper.status().WithContext("source " + src.name);
  if (wrapper->nodes.size() != 1 || wrapper->nodes[0].type != snapshot::NodeType::kDir)
    return Status::Corruption("source " + src.name + ": root tree is malformed");
  if (!opts.into_target)
    return r.RestoreSource(target_fd, src.name, wrapper->nodes[0], opts.target + "/" + src.name);
  std::filesystem::path t = std::filesystem::absolute(opts.target).lexically_normal();
  if (!t.has_filename()) t = t.parent_path();
  SNAP_ASSIGN_OR_RETURN(fs::Fd parent, fs::OpenDirPath(t.parent_path().string()));
  return r.RestoreSource(parent.get(), t.filename().string(), wrapper->nodes[0], opts.target);
}

}  // namespace

Result<RestoreStats> Restore(const Repository& repo, const snapshot::SnapshotRecord& snap,
                             const RestoreOptions& opts) {
  for (const std::string& name : opts.sources) {
    const snapshot::SourceRecord* src = snap.FindSource(name);
    if (!src) return Status::NotFound("snapshot has no source named '" + name + "'");
    if (src->kind == snapshot::SourceKind::kDump)
      return Status::InvalidArgument("'" + name + "' is a dump: restore it with --dump " + name +
                                     " or write it out with `snapctl dump`");
  }
  if (opts.into_target && opts.sources.size() != 1)
    return Status::InvalidArgument("restoring straight into the target needs exactly one source");
  std::error_code ec;
  std::filesystem::create_directories(opts.target, ec);
  if (ec) return Status::IOError(opts.target + ": cannot create: " + ec.message());
  SNAP_ASSIGN_OR_RETURN(fs::Fd target, fs::OpenDirPath(opts.target));
  RaiseOpenFileLimit();
  restore::Restorer r(repo, opts);
  r.set_total_bytes(TotalBytes(snap, opts));
  for (const snapshot::SourceRecord& src : snap.sources) {
    if (src.kind != snapshot::SourceKind::kDirectory) continue;  // dumps restore on their own
    if (!opts.sources.empty() &&
        std::find(opts.sources.begin(), opts.sources.end(), src.name) == opts.sources.end())
      continue;
    SNAP_RETURN_IF_ERROR(RestoreOne(repo, r, src, opts, target.get()));
  }
  return r.stats();
}

}  // namespace snap::engine

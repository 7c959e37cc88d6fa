#include "engine/capture/dir_capture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "engine/fs/fs.h"
#include "engine/repository.h"

namespace snap::engine::capture {
namespace {

constexpr size_t kFilesCacheBatch = 2000;
constexpr std::string_view kCacheDirTag = "CACHEDIR.TAG";
constexpr std::string_view kCacheDirSignature = "Signature: 8a477f597d28d172789f06886806bc55";

std::string Join(const std::string& rel, const std::string& name) {
  return rel.empty() ? name : rel + "/" + name;
}

int64_t Ns(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// The source root's own metadata (restored onto TARGET/NAME).
// Read through its parent so names and xattrs come as for any directory;
// falls back to the bare stat for "/".
snapshot::Node RootNode(const std::string& path, const struct stat& st) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::canonical(path, ec);
  if (!ec && p.has_parent_path() && p.has_filename()) {
    Result<fs::Fd> parent = fs::OpenDirPath(p.parent_path().string());
    if (parent.ok()) {
      Result<snapshot::Node> n = fs::NodeFromStat(parent->get(), p.filename().string(), st);
      if (n.ok()) {
        n->atime_ns = n->mtime_ns;
        return std::move(*n);
      }
    }
  }
  snapshot::Node n;
  n.type = snapshot::NodeType::kDir;
  n.mode = st.st_mode & 07777;
  n.uid = st.st_uid;
  n.gid = st.st_gid;
  n.mtime_ns = Ns(st.st_mtim);
  n.inode = st.st_ino;
  n.links = st.st_nlink;
  n.atime_ns = n.mtime_ns;
  return n;
}

index::FileStamp StampOf(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
          static_cast<uint64_t>(st.st_size), Ns(st.st_mtim), Ns(st.st_ctim)};
}

std::vector<std::string> CombinedExcludes(const CaptureOptions& o, const DirectorySource& s) {
  std::vector<std::string> all = o.excludes;
  all.insert(all.end(), s.excludes.begin(), s.excludes.end());
  return all;
}

}  // namespace

DirCapture::DirCapture(Repository* repo, repo::PackSink* sink, EncodePool* pool,
                       const CaptureOptions& opts, const DirectorySource& source,
                       CaptureProgress* progress)
    : repo_(repo),
      sink_(sink),
      pool_(pool),
      opts_(opts),
      source_(source),
      progress_(progress),
      stream_(repo, sink, pool, repo->config().file_chunking),
      excludes_(CombinedExcludes(opts, source)) {}

Result<ChunkId> DirCapture::Run() {
  Result<fs::Fd> root = fs::OpenDirPath(source_.path);
  if (!root.ok())
    return root.status().WithContext("source " + source_.name + " (" + source_.path + ")");
  struct stat st;
  if (::fstat(root->get(), &st) != 0)
    return Status::FromErrno("source " + source_.name + ": fstat " + source_.path, errno);
  SNAP_ASSIGN_OR_RETURN(ChunkId content, CaptureDir(root->get(), ""));
  snapshot::Node top = RootNode(source_.path, st);
  top.name = source_.name;
  top.subtree = content;
  snapshot::Tree wrapper;
  wrapper.nodes.push_back(std::move(top));
  Buffer bytes;
  wrapper.EncodeTo(&bytes);
  SNAP_RETURN_IF_ERROR(FlushFilesCache(true));
  return sink_->Put(pack::EntryKind::kTree, bytes, wrapper.Refs());
}

Result<ChunkId> DirCapture::CaptureDir(int dirfd, const std::string& rel) {
  stats_.dirs++;
  progress_->dirs++;
  SNAP_ASSIGN_OR_RETURN(std::vector<std::string> names, fs::ListDir(dirfd));
  if (opts_.exclude_caches && IsCacheDir(dirfd, names)) names = {std::string(kCacheDirTag)};
  snapshot::Tree tree;
  SNAP_RETURN_IF_ERROR(CaptureEntries(dirfd, rel, std::move(names), &tree));
  tree.Sort();
  Buffer bytes;
  tree.EncodeTo(&bytes);
  return sink_->Put(pack::EntryKind::kTree, bytes, tree.Refs());
}

Status DirCapture::CaptureEntries(int dirfd, const std::string& rel,
                                  std::vector<std::string> names, snapshot::Tree* tree) {
  std::vector<struct stat> stats;
  std::vector<std::string> kept, cache_paths;
  for (std::string& name : names) {
    std::string path = Join(rel, name);
    if (excludes_.Matches(path)) continue;
    Result<struct stat> st = fs::StatAt(dirfd, name);
    if (st.status().IsNotFound()) continue;  // deleted since listed
    if (!st.ok()) return st.status().WithContext(Display(path));
    if (S_ISREG(st->st_mode)) cache_paths.push_back(path);
    stats.push_back(*st);
    kept.push_back(std::move(name));
  }
  std::vector<std::optional<index::CachedFile>> cached;
  SNAP_RETURN_IF_ERROR(repo_->files_cache().Lookup(source_.name, cache_paths, &cached));
  size_t next_cached = 0;
  for (size_t i = 0; i < kept.size(); ++i) {
    std::string path = Join(rel, kept[i]);
    Result<snapshot::Node> node = fs::NodeFromStat(dirfd, kept[i], stats[i]);
    if (node.status().code() == Status::Code::kNotSupported) continue;
    if (node.status().IsNotFound()) continue;
    if (!node.ok()) return node.status().WithContext(Display(path));
    // Access times are not kept: reading the tree moves them, and a moving
    // atime would change every tree ID and defeat dedup. Restore sets the
    // atime to the mtime.
    node->atime_ns = node->mtime_ns;
    if (node->type == snapshot::NodeType::kDir) {
      Result<fs::Fd> sub = fs::OpenDirAt(dirfd, kept[i]);
      if (sub.status().IsNotFound()) continue;
      if (!sub.ok()) return sub.status().WithContext(Display(path));
      SNAP_ASSIGN_OR_RETURN(ChunkId id, CaptureDir(sub->get(), path));
      node->subtree = id;
    } else if (node->type == snapshot::NodeType::kFile) {
      SNAP_RETURN_IF_ERROR(AddFileContent(dirfd, path, &*node, stats[i], cached[next_cached++]));
    } else {
      stats_.others++;
    }
    if (node->type != snapshot::NodeType::kDir) AssignHardlinkGroup(stats[i], &*node);
    tree->nodes.push_back(std::move(*node));
  }
  return Status::OK();
}

Status DirCapture::AddFileContent(int dirfd, const std::string& rel, snapshot::Node* node,
                                  const struct stat& st,
                                  const std::optional<index::CachedFile>& cached) {
  stats_.files++;
  stats_.bytes += node->size;
  progress_->files++;
  progress_->bytes_total_seen += node->size;
  if (cached && cached->stamp == StampOf(st)) {
    SNAP_ASSIGN_OR_RETURN(bool present, CachedChunksPresent(*cached));
    if (present) {
      node->content = cached->chunks;
      progress_->cached_files++;
      Report(rel);
      return Status::OK();
    }
  }
  Status s = ReadFile(dirfd, rel, node);
  Report(rel);
  return s;
}

Result<bool> DirCapture::CachedChunksPresent(const index::CachedFile& cached) {
  if (cached.chunks.empty()) return true;
  std::vector<std::optional<index::ChunkLocation>> locs;
  SNAP_RETURN_IF_ERROR(repo_->chunk_index().MultiGet(cached.chunks, &locs));
  for (const auto& l : locs)
    if (!l) return false;
  return true;
}

// Reads the file; if its size, mtime or ctime moved while we read, reads it
// again, and after opts_.read_attempts records it as changed-while-read.
Status DirCapture::ReadFile(int dirfd, const std::string& rel, snapshot::Node* node) {
  std::string name = rel.substr(rel.rfind('/') == std::string::npos ? 0 : rel.rfind('/') + 1);
  for (int attempt = 1;; ++attempt) {
    Result<fs::Fd> fd = fs::OpenFileAt(dirfd, name);
    if (fd.status().IsNotFound()) return Status::OK();  // deleted: keep metadata, no content
    if (!fd.ok()) return fd.status().WithContext(Display(rel));
    struct stat before, after;
    if (::fstat(fd->get(), &before) != 0) return Status::FromErrno(Display(rel) + ": fstat", errno);
    std::vector<ChunkId> content;
    uint64_t bytes = 0;
    SNAP_RETURN_IF_ERROR(stream_.Consume(fd->get(), Display(rel), &content, &bytes,
                                         [&](uint64_t n) { progress_->bytes_read += n; }));
    if (::fstat(fd->get(), &after) != 0) return Status::FromErrno(Display(rel) + ": fstat", errno);
    files_read_++;
    bool stable = StampOf(before) == StampOf(after) && bytes == static_cast<uint64_t>(after.st_size);
    node->content = std::move(content);
    node->size = bytes;
    node->mtime_ns = Ns(after.st_mtim);
    node->atime_ns = node->mtime_ns;
    if (stable) {
      index::FilesCache::Put(source_.name, rel, {StampOf(after), node->content},
                             &files_cache_batch_);
      return FlushFilesCache(false);
    }
    if (attempt >= opts_.read_attempts) {
      node->flags |= snapshot::kNodeChangedWhileRead;
      warnings_.push_back(Display(rel) + ": kept changing while read (" +
                          std::to_string(attempt) + " attempts); its content may be torn");
      return Status::OK();
    }
  }
}

Status DirCapture::FlushFilesCache(bool force) {
  if (files_cache_batch_.empty() || (!force && files_cache_batch_.size() < kFilesCacheBatch))
    return Status::OK();
  // Safe before the chunks are packed: a cache hit is only used after the
  // index confirms every chunk (CachedChunksPresent).
  Status s = repo_->kv().Write(files_cache_batch_);
  files_cache_batch_ = index::WriteBatch();
  return s;
}

bool DirCapture::IsCacheDir(int dirfd, const std::vector<std::string>& names) const {
  if (std::find(names.begin(), names.end(), kCacheDirTag) == names.end()) return false;
  Result<fs::Fd> fd = fs::OpenFileAt(dirfd, kCacheDirTag);
  if (!fd.ok()) return false;
  char buf[kCacheDirSignature.size()];
  ssize_t n = ::pread(fd->get(), buf, sizeof buf, 0);
  return n == static_cast<ssize_t>(sizeof buf) && kCacheDirSignature == std::string_view(buf, n);
}

void DirCapture::AssignHardlinkGroup(const struct stat& st, snapshot::Node* node) {
  if (st.st_nlink < 2) return;
  auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
  auto [it, inserted] = hardlinks_.try_emplace(key, hardlinks_.size() + 1);
  node->hardlink_group = it->second;
}

std::string DirCapture::Display(const std::string& rel) const {
  return rel.empty() ? source_.path : source_.path + "/" + rel;
}

void DirCapture::Report(const std::string& rel) {
  if (!opts_.progress) return;
  progress_->current = source_.name + "/" + rel;
  opts_.progress(*progress_);
}

}  // namespace snap::engine::capture

#include "engine/capture/dir_capture.h"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "engine/fs/fs.h"
#include "engine/index/gc_state.h"
#include "engine/repository.h"

namespace snap::engine::capture {
namespace {

constexpr size_t kFilesCacheBatch = 2000;
// Reads handed to the readers and not yet applied, and directories with
// reads among them (each holds its descriptor open until its last is in).
constexpr size_t kMaxReadsInFlight = 256;
constexpr int kMaxReadingDirs = 64;
// A directory is cached only when each entry's ctime is older than the
// capture's start by this much. A change in the same clock tick as our
// lstat would leave ctime where it was (file systems stamp with a coarse
// clock, some with whole seconds), and an xattr change shows in nothing
// else; an entry this old gets a later ctime from any change after it.
constexpr int64_t kSettledNs = 1'000'000'000;
constexpr std::string_view kCacheDirTag = "CACHEDIR.TAG";
constexpr std::string_view kCacheDirSignature = "Signature: 8a477f597d28d172789f06886806bc55";

std::string Join(const std::string& rel, const std::string& name) {
  return rel.empty() ? name : rel + "/" + name;
}

int64_t Ns(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int64_t NowNs() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);  // the clock file systems stamp with
  return Ns(ts);
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

DirCapture::DirCapture(Repository* repo, repo::PackSink* sink, ReadPool* reads,
                       const CaptureOptions& opts, const DirectorySource& source, ReportFn report,
                       index::DirCacheUpdate* dir_cache, const std::atomic<bool>* cancel,
                       std::atomic<uint64_t>* stored)
    : repo_(repo),
      sink_(sink),
      opts_(opts),
      source_(source),
      report_(std::move(report)),
      cancel_(cancel),
      stored_(stored),
      excludes_(CombinedExcludes(opts, source)),
      dir_cache_(dir_cache),
      reads_(reads, [this](FileRead* r, ChunkStream& stream) { ReadFile(r, stream); }) {}

Result<ChunkId> DirCapture::Run() {
  if (cancel_->load(std::memory_order_relaxed))
    return Status::Aborted("source " + source_.name + ": not started, another source failed");
  Result<fs::Fd> root = fs::OpenDirPath(source_.path);
  if (!root.ok())
    return root.status().WithContext("source " + source_.name + " (" + source_.path + ")");
  struct stat st;
  if (::fstat(root->get(), &st) != 0)
    return Status::FromErrno("source " + source_.name + ": fstat " + source_.path, errno);
  // Read after BeginWriting applied the gc records, and unchanged until the
  // commit: this process holds the index.
  SNAP_ASSIGN_OR_RETURN(gc_applied_, index::GcState(&repo_->kv()).Applied());
  SNAP_RETURN_IF_ERROR(index::DirCache(&repo_->kv()).Load(source_.name, &dirs_before_));
  SNAP_ASSIGN_OR_RETURN(files_cached_, repo_->files_cache().HasEntries(source_.name));
  settled_before_ns_ = NowNs() - kSettledNs;
  SNAP_RETURN_IF_ERROR(Walk(NewDir("", std::move(*root), nullptr, 0)));
  while (reads_.in_flight() > 0) SNAP_RETURN_IF_ERROR(Collect(true));
  if (!root_ || !dirs_.empty())
    return Status::Aborted("source " + source_.name + ": the walk ended with directories unstored");
  snapshot::Node top = RootNode(source_.path, st);
  top.name = source_.name;
  top.subtree = *root_;
  snapshot::Tree wrapper;
  wrapper.nodes.push_back(std::move(top));
  Buffer bytes;
  wrapper.EncodeTo(&bytes);
  SNAP_RETURN_IF_ERROR(FlushFilesCache(true));
  for (const auto& [rel, dir] : dirs_before_) dir_cache_->Delete(source_.name, rel);
  dirs_before_.clear();
  return sink_->Put(pack::EntryKind::kTree, bytes, wrapper.Refs());
}

PendingDir* DirCapture::NewDir(std::string rel, fs::Fd fd, PendingDir* parent, size_t slot) {
  auto d = std::make_unique<PendingDir>();
  d->rel = std::move(rel);
  d->fd = std::move(fd);
  d->parent = parent;
  d->slot = slot;
  PendingDir* p = d.get();
  dirs_.emplace(p, std::move(d));
  if (parent) parent->waiting++;
  return p;
}

// Lists `d`, walks its subdirectories (their tree IDs are part of its
// digest), then reuses its cached tree when every subdirectory is already
// in and the digest matches, or describes it and hands its changed files
// to the readers. Returns without waiting for them: `d` is stored when its
// last file and subdirectory are in (Collect).
Status DirCapture::Walk(PendingDir* d) {
  if (cancel_->load(std::memory_order_relaxed))
    return Status::Aborted("source " + source_.name + ": stopped, another source failed");
  stats_.dirs++;
  progress_.dirs++;
  SNAP_RETURN_IF_ERROR(ListEntries(d));
  SNAP_RETURN_IF_ERROR(WalkSubdirs(d));
  // Hardlink groups are numbered across the whole source, so a tree holding
  // one depends on more than this directory: never cached.
  d->cacheable = std::none_of(d->entries.begin(), d->entries.end(), [](const DirEntry& e) {
    return e.gone || e.hardlink_group != 0;
  });
  if (d->cacheable && d->waiting == 0) {
    Buffer input;
    AppendDigestInput(d->entries, &input);
    if (std::optional<ChunkId> id = Reuse(d->rel, repo_->Hash(input), d->entries))
      return Done(d, *id);
  }
  SNAP_RETURN_IF_ERROR(Describe(d));
  return Collect(false);  // store what the readers finished meanwhile
}

// The entries to capture, lstat'ed, in name order.
Status DirCapture::ListEntries(PendingDir* d) {
  int dirfd = d->fd.get();
  SNAP_ASSIGN_OR_RETURN(std::vector<std::string> names, fs::ListDir(dirfd));
  if (opts_.exclude_caches && IsCacheDir(dirfd, names)) names = {std::string(kCacheDirTag)};
  d->entries.reserve(names.size());
  for (std::string& name : names) {
    if (!excludes_.empty() && excludes_.Matches(Join(d->rel, name))) continue;
    Result<struct stat> st = fs::StatAt(dirfd, name);
    if (st.status().IsNotFound()) continue;  // deleted since listed
    if (!st.ok()) return st.status().WithContext(Display(Join(d->rel, name)));
    if (!IsCapturedType(st->st_mode)) continue;
    DirEntry& e = d->entries.emplace_back();
    e.name = std::move(name);
    e.st = *st;
  }
  return Status::OK();
}

// Walks each subdirectory and numbers hardlinked entries, both in name
// order: the walk order, which the hardlink group numbers follow.
Status DirCapture::WalkSubdirs(PendingDir* d) {
  for (size_t i = 0; i < d->entries.size(); ++i) {
    DirEntry& e = d->entries[i];
    if (!S_ISDIR(e.st.st_mode)) {
      AssignHardlinkGroup(&e);
      continue;
    }
    std::string path = Join(d->rel, e.name);
    Result<fs::Fd> sub = fs::OpenDirAt(d->fd.get(), e.name);
    if (sub.status().IsNotFound()) {
      e.gone = true;
      continue;
    }
    if (!sub.ok()) return sub.status().WithContext(Display(path));
    SNAP_RETURN_IF_ERROR(Walk(NewDir(std::move(path), std::move(*sub), d, i)));
  }
  return Status::OK();
}

// The cached tree of `rel` when its digest still matches and no gc record
// was applied since it was stored (so nothing below it was dropped from the
// index or hidden from writers).
std::optional<ChunkId> DirCapture::Reuse(const std::string& rel, const ChunkId& digest,
                                         const std::vector<DirEntry>& entries) {
  auto it = dirs_before_.find(rel);
  if (it == dirs_before_.end() || it->second.digest != digest || it->second.gc != gc_applied_)
    return std::nullopt;
  for (const DirEntry& e : entries) {
    if (S_ISREG(e.st.st_mode)) {
      stats_.files++;
      stats_.bytes += static_cast<uint64_t>(e.st.st_size);
      progress_.files++;
      progress_.cached_files++;
      progress_.bytes_total_seen += static_cast<uint64_t>(e.st.st_size);
    } else if (!S_ISDIR(e.st.st_mode)) {
      stats_.others++;
    }
  }
  Report(rel);
  ChunkId tree = it->second.tree;
  dirs_before_.erase(it);  // unchanged: nothing to write
  return tree;
}

// Describes every entry into d->tree: metadata, xattrs, symlink targets,
// file content from the files cache; the files it misses go to the
// readers. A subdirectory's node gets its tree ID when `d` is stored.
Status DirCapture::Describe(PendingDir* d) {
  std::vector<std::optional<index::CachedFile>> hits;
  SNAP_RETURN_IF_ERROR(LookUpFiles(d->rel, d->entries, &hits));
  snapshot::Tree& tree = d->tree;
  std::vector<ToRead> reads;  // small: a huge directory's FileReads come a slice at a time
  for (size_t i = 0; i < d->entries.size(); ++i) {
    const DirEntry& e = d->entries[i];
    if (e.gone) {
      d->complete = false;
      continue;
    }
    std::string path = Join(d->rel, e.name);
    Result<snapshot::Node> node = fs::NodeFromStat(d->fd.get(), e.name, e.st);
    if (node.status().code() == Status::Code::kNotSupported || node.status().IsNotFound()) {
      d->complete = false;
      continue;
    }
    if (!node.ok()) return node.status().WithContext(Display(path));
    // Access times are not kept: reading the tree moves them, and a moving
    // atime would change every tree ID and defeat dedup. Restore sets the
    // atime to the mtime.
    node->atime_ns = node->mtime_ns;
    if (node->type == snapshot::NodeType::kDir) {
      d->subdirs.emplace_back(i, tree.nodes.size());
    } else if (node->type == snapshot::NodeType::kFile) {
      CountFile(*node);
      if (hits[i]) {
        node->content = hits[i]->chunks;
        progress_.cached_files++;
        Report(path);
      } else {
        reads.push_back({tree.nodes.size(), node->size});
      }
    } else {
      stats_.others++;
    }
    node->hardlink_group = e.hardlink_group;
    tree.nodes.push_back(std::move(*node));
  }
  return SubmitReads(d, std::move(reads));
}

// Hands d's changed files to the readers, largest first (small files last
// keep every reader busy to the end), and marks `d` described. Waits while
// kMaxReadsInFlight reads or kMaxReadingDirs directories are in flight, so
// memory and open descriptors stay bounded whatever the tree.
Status DirCapture::SubmitReads(PendingDir* d, std::vector<ToRead> reads) {
  std::stable_sort(reads.begin(), reads.end(),
                   [](const ToRead& a, const ToRead& b) { return a.size > b.size; });
  d->waiting += static_cast<int>(reads.size());
  d->reading = static_cast<int>(reads.size());
  if (!reads.empty()) {
    while (reading_dirs_ >= kMaxReadingDirs && reads_.in_flight() > 0)
      SNAP_RETURN_IF_ERROR(Collect(true));
    reading_dirs_++;
  }
  for (size_t next = 0; next < reads.size();) {
    while (reads_.in_flight() >= kMaxReadsInFlight) SNAP_RETURN_IF_ERROR(Collect(true));
    size_t n = std::min(reads.size() - next, kMaxReadsInFlight - reads_.in_flight());
    std::vector<std::unique_ptr<FileRead>> slice;
    slice.reserve(n);
    for (size_t k = 0; k < n; ++k) {
      auto& r = slice.emplace_back(std::make_unique<FileRead>());
      r->dir = d;
      r->dirfd = d->fd.get();
      r->node = reads[next + k].node;
      r->rel = Join(d->rel, d->tree.nodes[r->node].name);
      r->size = reads[next + k].size;
    }
    reads_.Submit(std::move(slice));
    next += n;
  }
  d->described = true;
  if (d->reading == 0) d->fd = fs::Fd();
  if (d->waiting == 0) return Finish(d);
  return Status::OK();
}

void DirCapture::CountFile(const snapshot::Node& node) {
  stats_.files++;
  stats_.bytes += node.size;
  progress_.files++;
  progress_.bytes_total_seen += node.size;
}

// Applies the reads the readers finished; with `wait`, waits for one.
Status DirCapture::Collect(bool wait) {
  for (std::unique_ptr<FileRead>& r : reads_.Collect(wait)) SNAP_RETURN_IF_ERROR(Apply(*r));
  return Status::OK();
}

// Records what reading one file found in its directory's tree, and stores
// the directory when that was the last thing it waited for.
Status DirCapture::Apply(FileRead& r) {
  new_chunks_ += r.new_chunks;
  new_bytes_ += r.new_bytes;
  SNAP_RETURN_IF_ERROR(r.status);
  PendingDir* d = r.dir;
  progress_.bytes_read += r.bytes;
  if (!r.found) {  // deleted: keep metadata, no content
    d->complete = false;
  } else {
    files_read_++;
    snapshot::Node& node = d->tree.nodes[r.node];
    node.size = r.bytes;
    node.mtime_ns = Ns(r.after.st_mtim);
    node.atime_ns = node.mtime_ns;
    if (r.stable) {
      index::FilesCache::Put(source_.name, r.rel, {StampOf(r.after), r.content},
                             &files_cache_batch_);
      SNAP_RETURN_IF_ERROR(FlushFilesCache(false));
    } else {
      d->complete = false;
      node.flags |= snapshot::kNodeChangedWhileRead;
      warnings_.push_back(Display(r.rel) + ": kept changing while read (" +
                          std::to_string(r.attempts) + " attempts); its content may be torn");
    }
    node.content = std::move(r.content);
    Report(r.rel);
  }
  if (--d->reading == 0) {
    d->fd = fs::Fd();
    reading_dirs_--;
  }
  if (--d->waiting == 0 && d->described) return Finish(d);
  return Status::OK();
}

// Stores d's tree (every file and subdirectory is in) and records it in the
// directory cache when the tree shows exactly its settled entries.
Status DirCapture::Finish(PendingDir* d) {
  for (const auto& [entry, node] : d->subdirs) d->tree.nodes[node].subtree = d->entries[entry].subtree;
  d->tree.Sort();
  Buffer bytes;
  d->tree.EncodeTo(&bytes);
  SNAP_ASSIGN_OR_RETURN(ChunkId id, sink_->Put(pack::EntryKind::kTree, bytes, d->tree.Refs()));
  bool settled = std::all_of(d->entries.begin(), d->entries.end(), [&](const DirEntry& e) {
    return Ns(e.st.st_ctim) < settled_before_ns_;
  });
  std::optional<index::CachedDir> now;
  if (d->cacheable && d->complete && settled) {
    Buffer input;
    AppendDigestInput(d->entries, &input);
    now = index::CachedDir{gc_applied_, repo_->Hash(input), id};
  }
  SettleCachedDir(d->rel, now);
  return Done(d, id);
}

// `d` is stored as `tree`: its parent gets the ID (and is stored in turn
// when it waited for nothing else), and `d` is forgotten.
Status DirCapture::Done(PendingDir* d, const ChunkId& tree) {
  PendingDir* parent = d->parent;
  size_t slot = d->slot;
  dirs_.erase(d);
  if (!parent) {
    root_ = tree;
    return Status::OK();
  }
  parent->entries[slot].subtree = tree;
  if (--parent->waiting == 0 && parent->described) return Finish(parent);
  return Status::OK();
}

void DirCapture::SettleCachedDir(const std::string& rel,
                                 const std::optional<index::CachedDir>& now) {
  auto it = dirs_before_.find(rel);
  bool had = it != dirs_before_.end();
  if (now && (!had || !(it->second == *now))) dir_cache_->Put(source_.name, rel, *now);
  if (!now && had) dir_cache_->Delete(source_.name, rel);
  if (had) dirs_before_.erase(it);
}

// Reads the file; if its size, mtime or ctime moved while we read, reads it
// again, and after opts_.read_attempts keeps it as changed-while-read.
// Stable when the content read is the file's as of one stable stamp. Runs
// on a reading thread: touches nothing but *r (not r->dir) and `stream`.
void DirCapture::ReadFile(FileRead* r, ChunkStream& stream) const {
  stream.count_stored_in(stored_);  // the stream reads for every source in turn
  size_t slash = r->rel.rfind('/');
  std::string name = slash == std::string::npos ? r->rel : r->rel.substr(slash + 1);
  for (r->attempts = 1;; ++r->attempts) {
    struct stat before;
    Result<fs::Fd> fd = fs::OpenFileAt(r->dirfd, name, &before);
    if (fd.status().IsNotFound()) {
      r->found = false;
      return;
    }
    if (!fd.ok()) {
      r->status = fd.status().WithContext(Display(r->rel));
      return;
    }
    r->content.clear();
    r->bytes = 0;
    r->status = stream.Consume(fd->get(), Display(r->rel), &r->content, &r->bytes, {},
                               static_cast<uint64_t>(before.st_size));
    if (!r->status.ok()) return;
    if (::fstat(fd->get(), &r->after) != 0) {
      r->status = Status::FromErrno(Display(r->rel) + ": fstat", errno);
      return;
    }
    r->stable = StampOf(before) == StampOf(r->after) &&
                r->bytes == static_cast<uint64_t>(r->after.st_size);
    if (r->stable || r->attempts >= opts_.read_attempts) return;
  }
}

// Per entry, its files-cache entry when that matches the entry's lstat and
// every chunk it lists is still indexed for reuse (one look-up and one
// chunk-index MultiGet per directory).
Status DirCapture::LookUpFiles(const std::string& rel, const std::vector<DirEntry>& entries,
                               std::vector<std::optional<index::CachedFile>>* hits) {
  hits->assign(entries.size(), std::nullopt);
  if (!files_cached_) return Status::OK();
  std::vector<std::string> paths;
  std::vector<size_t> which;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!S_ISREG(entries[i].st.st_mode)) continue;
    paths.push_back(Join(rel, entries[i].name));
    which.push_back(i);
  }
  if (paths.empty()) return Status::OK();
  std::vector<std::optional<index::CachedFile>> cached;
  SNAP_RETURN_IF_ERROR(repo_->files_cache().Lookup(source_.name, paths, &cached));
  std::vector<ChunkId> chunks;
  for (size_t k = 0; k < which.size(); ++k) {
    if (!cached[k] || cached[k]->stamp != StampOf(entries[which[k]].st)) continue;
    chunks.insert(chunks.end(), cached[k]->chunks.begin(), cached[k]->chunks.end());
    (*hits)[which[k]] = std::move(cached[k]);
  }
  if (chunks.empty()) return Status::OK();
  std::vector<std::optional<index::ChunkLocation>> locs;
  SNAP_RETURN_IF_ERROR(repo_->chunk_index().MultiGet(chunks, &locs));
  size_t next = 0;
  for (std::optional<index::CachedFile>& hit : *hits) {
    if (!hit) continue;
    bool present = true;
    for (size_t n = 0; n < hit->chunks.size(); ++n) present = present && locs[next++].has_value();
    if (!present) hit.reset();
  }
  return Status::OK();
}

Status DirCapture::FlushFilesCache(bool force) {
  if (files_cache_batch_.empty() || (!force && files_cache_batch_.size() < kFilesCacheBatch))
    return Status::OK();
  // Safe before the chunks are packed: a cache hit is only used after the
  // index confirms every chunk (LookUpFiles).
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

void DirCapture::AssignHardlinkGroup(DirEntry* entry) {
  if (entry->st.st_nlink < 2) return;
  auto key = std::make_pair(static_cast<uint64_t>(entry->st.st_dev),
                            static_cast<uint64_t>(entry->st.st_ino));
  auto [it, inserted] = hardlinks_.try_emplace(key, hardlinks_.size() + 1);
  entry->hardlink_group = it->second;
}

std::string DirCapture::Display(const std::string& rel) const {
  return rel.empty() ? source_.path : source_.path + "/" + rel;
}

void DirCapture::Report(const std::string& rel) {
  if (!report_) return;
  progress_.current = source_.name + "/" + rel;
  report_(progress_);
}

}  // namespace snap::engine::capture

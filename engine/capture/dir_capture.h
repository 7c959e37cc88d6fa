// DirCapture: walks one directory source depth first, reading changed
// files through the chunker, reusing unchanged ones from the files cache,
// and storing each directory as a tree. A directory whose entries' lstat
// and subtrees are what they were when its tree was last stored reuses that
// tree from the directory cache (keyspace 'd') without describing its
// entries again. Walks on one thread, which hands changed files to a
// ReadPool and goes on to the next directory; a directory's tree is stored
// once its files and subdirectories are in (dir_work.h). New chunks go to
// an EncodePool. Not thread-safe.
#pragma once

#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <utility>
#include <vector>

#include "engine/capture.h"
#include "engine/capture/chunk_stream.h"
#include "engine/capture/dir_entries.h"
#include "engine/capture/glob.h"
#include "engine/capture/dir_work.h"
#include "engine/capture/read_pool.h"
#include "engine/chunk/chunker.h"
#include "engine/index/dir_cache.h"
#include "engine/index/files_cache.h"
#include "engine/repo/pack_sink.h"
#include "engine/snapshot/tree.h"

namespace snap::engine::capture {

class DirCapture {
 public:
  // Reports this source's progress so far (with opts.progress set).
  using ReportFn = std::function<void(const CaptureProgress&)>;

  // Run adds to *dir_cache what brings the directory cache of this source
  // up to this run (entries of the directories it holds now, none of the
  // others). Write it only once the snapshot is committed: an entry claims
  // that every chunk below its tree is stored. Run stops (Aborted) once
  // *cancel is set: another source failed. The stored size of the chunks
  // it adds goes to *stored, as the encode pool stores them (read it after
  // the pool drained).
  DirCapture(Repository* repo, repo::PackSink* sink, ReadPool* reads, const CaptureOptions& opts,
             const DirectorySource& source, ReportFn report, index::DirCacheUpdate* dir_cache,
             const std::atomic<bool>* cancel, std::atomic<uint64_t>* stored = nullptr);

  // Captures the source; returns the ID of its wrapper tree (one directory
  // node named after the source whose subtree is the content).
  Result<ChunkId> Run();

  // Stats with the chunks this source added.
  snapshot::SourceStats stats() const {
    snapshot::SourceStats s = stats_;
    s.new_chunks = new_chunks_;
    s.new_bytes = new_bytes_;
    return s;
  }
  const std::vector<std::string>& warnings() const { return warnings_; }
  uint64_t files_read() const { return files_read_; }

 private:
  PendingDir* NewDir(std::string rel, fs::Fd fd, PendingDir* parent, size_t slot);
  Status Walk(PendingDir* d);
  Status ListEntries(PendingDir* d);
  Status WalkSubdirs(PendingDir* d);
  std::optional<ChunkId> Reuse(const std::string& rel, const ChunkId& digest,
                               const std::vector<DirEntry>& entries);
  Status Describe(PendingDir* d);
  struct ToRead {
    size_t node;    // in d->tree
    uint64_t size;  // as listed
  };
  Status SubmitReads(PendingDir* d, std::vector<ToRead> reads);
  Status LookUpFiles(const std::string& rel, const std::vector<DirEntry>& entries,
                     std::vector<std::optional<index::CachedFile>>* hits);
  Status Collect(bool wait);
  Status Apply(FileRead& r);
  Status Finish(PendingDir* d);
  Status Done(PendingDir* d, const ChunkId& tree);
  void CountFile(const snapshot::Node& node);
  void ReadFile(FileRead* r, ChunkStream& stream) const;
  Status FlushFilesCache(bool force);
  // Records what the directory cache holds for `rel` after this run
  // (nothing when `now` is empty) and forgets its loaded entry.
  void SettleCachedDir(const std::string& rel, const std::optional<index::CachedDir>& now);
  bool IsCacheDir(int dirfd, const std::vector<std::string>& names) const;
  void AssignHardlinkGroup(DirEntry* entry);
  std::string Display(const std::string& rel) const;
  void Report(const std::string& rel);

  Repository* repo_;
  repo::PackSink* sink_;
  const CaptureOptions& opts_;
  const DirectorySource& source_;
  ReportFn report_;
  const std::atomic<bool>* cancel_;
  std::atomic<uint64_t>* stored_;  // the source's stored bytes, counted by the encode pool
  CaptureProgress progress_;
  GlobSet excludes_;
  snapshot::SourceStats stats_;
  std::vector<std::string> warnings_;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> hardlinks_;  // (dev, ino) -> group
  index::WriteBatch files_cache_batch_;
  bool files_cached_ = true;       // the files cache holds any file of this source
  std::string gc_applied_;         // GcState::Applied() during this run
  int64_t settled_before_ns_ = 0;  // cache no directory with a newer ctime
  index::DirCacheUpdate* dir_cache_;
  // The directory cache as loaded, less the directories this run has
  // passed: what is left when it ends is gone from the source.
  index::CachedDirs dirs_before_;
  uint64_t files_read_ = 0;
  uint64_t new_chunks_ = 0, new_bytes_ = 0;
  // Every directory walked and not yet stored; the root's tree once it is.
  std::unordered_map<const PendingDir*, std::unique_ptr<PendingDir>> dirs_;
  int reading_dirs_ = 0;  // directories with file reads in flight (each holds its fd)
  std::optional<ChunkId> root_;
  ReadPool::Client reads_;  // after dirs_: its reads end before the directories go
};

}  // namespace snap::engine::capture

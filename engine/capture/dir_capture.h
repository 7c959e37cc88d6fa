// DirCapture: walks one directory source depth first, reading changed
// files through the chunker, reusing unchanged ones from the files cache,
// and storing each directory as a tree. A directory whose entries' lstat
// and subtrees are what they were when its tree was last stored reuses that
// tree from the directory cache (keyspace 'd') without describing its
// entries again. Walks on one thread; reads a directory's changed files on
// several (ParallelReads) and hands new chunks to an EncodePool. Not
// thread-safe.
#pragma once

#include <sys/stat.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/capture.h"
#include "engine/capture/chunk_stream.h"
#include "engine/capture/dir_entries.h"
#include "engine/capture/encode_pool.h"
#include "engine/capture/glob.h"
#include "engine/capture/parallel_reads.h"
#include "engine/chunk/chunker.h"
#include "engine/index/dir_cache.h"
#include "engine/index/files_cache.h"
#include "engine/repo/pack_sink.h"
#include "engine/snapshot/tree.h"

namespace snap::engine::capture {

class DirCapture {
 public:
  // Run adds to *dir_cache what brings the directory cache of this source
  // up to this run (entries of the directories it holds now, none of the
  // others). Write it only once the snapshot is committed: an entry claims
  // that every chunk below its tree is stored.
  DirCapture(Repository* repo, repo::PackSink* sink, EncodePool* pool, const CaptureOptions& opts,
             const DirectorySource& source, CaptureProgress* progress,
             index::DirCacheUpdate* dir_cache);

  // Captures the source; returns the ID of its wrapper tree (one directory
  // node named after the source whose subtree is the content).
  Result<ChunkId> Run();

  // Stats with the chunks this source added.
  snapshot::SourceStats stats() const {
    snapshot::SourceStats s = stats_;
    s.new_chunks = reads_.new_chunks();
    s.new_bytes = reads_.new_bytes();
    return s;
  }
  const std::vector<std::string>& warnings() const { return warnings_; }
  uint64_t files_read() const { return files_read_; }

 private:
  Result<ChunkId> CaptureDir(int dirfd, const std::string& rel);
  Result<std::vector<DirEntry>> ListEntries(int dirfd, const std::string& rel);
  Status CaptureSubdirs(int dirfd, const std::string& rel, std::vector<DirEntry>* entries);
  std::optional<ChunkId> Reuse(const std::string& rel, const ChunkId& digest,
                               const std::vector<DirEntry>& entries);
  Result<bool> DescribeEntries(int dirfd, const std::string& rel,
                               const std::vector<DirEntry>& entries, snapshot::Tree* tree);
  Status LookUpFiles(const std::string& rel, const std::vector<DirEntry>& entries,
                     std::vector<std::optional<index::CachedFile>>* hits);
  // One file to read, and what reading it found.
  struct FileRead {
    size_t node = 0;  // its index in the tree being described
    std::string rel;
    uint64_t size = 0;  // as listed: the largest are read first
    Status status;
    bool found = true;  // false: deleted before it could be opened
    bool stable = false;
    int attempts = 0;
    std::vector<ChunkId> content;
    uint64_t bytes = 0;
    struct stat after;
  };
  void CountFile(const snapshot::Node& node);
  Result<bool> ReadFiles(int dirfd, std::vector<FileRead>* reads, snapshot::Tree* tree);
  void ReadFile(int dirfd, FileRead* r, ChunkStream& stream) const;
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
  EncodePool* pool_;
  const CaptureOptions& opts_;
  const DirectorySource& source_;
  CaptureProgress* progress_;
  ParallelReads reads_;
  GlobSet excludes_;
  snapshot::SourceStats stats_;
  std::vector<std::string> warnings_;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> hardlinks_;  // (dev, ino) -> group
  index::WriteBatch files_cache_batch_;
  std::string gc_applied_;         // GcState::Applied() during this run
  int64_t settled_before_ns_ = 0;  // cache no directory with a newer ctime
  index::DirCacheUpdate* dir_cache_;
  // The directory cache as loaded, less the directories this run has
  // passed: what is left when it ends is gone from the source.
  index::CachedDirs dirs_before_;
  uint64_t files_read_ = 0;
};

}  // namespace snap::engine::capture

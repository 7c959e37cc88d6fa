// DirCapture: walks one directory source depth first, reading changed
// files through the chunker, reusing unchanged ones from the files cache,
// and storing each directory as a tree. Single-threaded itself; hands new
// chunks to an EncodePool. Not thread-safe.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/capture.h"
#include "engine/capture/chunk_stream.h"
#include "engine/capture/encode_pool.h"
#include "engine/capture/glob.h"
#include "engine/chunk/chunker.h"
#include "engine/index/files_cache.h"
#include "engine/repo/pack_sink.h"
#include "engine/snapshot/tree.h"

struct stat;

namespace snap::engine::capture {

class DirCapture {
 public:
  DirCapture(Repository* repo, repo::PackSink* sink, EncodePool* pool, const CaptureOptions& opts,
             const DirectorySource& source, CaptureProgress* progress);

  // Captures the source; returns the ID of its wrapper tree (one directory
  // node named after the source whose subtree is the content).
  Result<ChunkId> Run();

  // Stats with the chunks this source added.
  snapshot::SourceStats stats() const {
    snapshot::SourceStats s = stats_;
    s.new_chunks = stream_.new_chunks();
    s.new_bytes = stream_.new_bytes();
    return s;
  }
  const std::vector<std::string>& warnings() const { return warnings_; }
  uint64_t files_read() const { return files_read_; }

 private:
  Result<ChunkId> CaptureDir(int dirfd, const std::string& rel);
  Status CaptureEntries(int dirfd, const std::string& rel, std::vector<std::string> names,
                        snapshot::Tree* tree);
  Status AddFileContent(int dirfd, const std::string& rel, snapshot::Node* node,
                        const struct stat& st, const std::optional<index::CachedFile>& cached);
  Result<bool> CachedChunksPresent(const index::CachedFile& cached);
  Status ReadFile(int dirfd, const std::string& rel, snapshot::Node* node);
  Status FlushFilesCache(bool force);
  bool IsCacheDir(int dirfd, const std::vector<std::string>& names) const;
  void AssignHardlinkGroup(const struct stat& st, snapshot::Node* node);
  std::string Display(const std::string& rel) const;
  void Report(const std::string& rel);

  Repository* repo_;
  repo::PackSink* sink_;
  EncodePool* pool_;
  const CaptureOptions& opts_;
  const DirectorySource& source_;
  CaptureProgress* progress_;
  ChunkStream stream_;
  GlobSet excludes_;
  snapshot::SourceStats stats_;
  std::vector<std::string> warnings_;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> hardlinks_;  // (dev, ino) -> group
  index::WriteBatch files_cache_batch_;
  uint64_t files_read_ = 0;
};

}  // namespace snap::engine::capture

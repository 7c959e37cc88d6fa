// Restorer: the tree walk behind engine/restore.h. Not thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "engine/capture/glob.h"
#include "engine/fs/fs.h"
#include "engine/restore/content_batch.h"
#include "engine/restore/job_pool.h"
#include "engine/restore.h"

namespace snap::engine::restore {

// A directory on the way down, created only when something is written in
// it (so --include restores no empty directories around what it matches).
// It lives on the heap until the walk has left it and every file job and
// subdirectory in it is done; the last of them applies its metadata (so its
// mtime is final) and frees it. The walk thus never waits for a directory's
// files: it lists the next one while the pool writes.
struct DirCtx {
  DirCtx* parent = nullptr;
  std::string name;            // in parent
  const snapshot::Node* node;  // metadata to apply when done
  std::string rel;             // relative to the source root ("" for it)
  std::string display;         // for messages
  fs::Fd fd;                   // valid once ensured
  int fixed_fd = -1;           // the target's parent: never created, not counted
  snapshot::Tree tree;         // its entries, which jobs point into
  std::atomic<int> refs{1};    // the walk, each queued job, each unfinished subdirectory
};

class Restorer {
 public:
  Restorer(const Repository& repo, const RestoreOptions& opts);
  // Restores `node` (a source's wrapper node) as `name` inside `parent_fd`.
  Status RestoreSource(int parent_fd, const std::string& name, const snapshot::Node& node,
                       const std::string& display);
  const RestoreStats& stats() const { return stats_; }
  void set_total_bytes(uint64_t total) { progress_.bytes_total = total; }

 private:
  Status RestoreDir(DirCtx* dir, bool included);
  Status RestoreChild(DirCtx* dir, const snapshot::Node& node, bool included);
  Status EnsureDir(DirCtx* dir);
  Status FinishDir(DirCtx* dir);
  void Hold(DirCtx* dir) { dir->refs.fetch_add(1, std::memory_order_relaxed); }
  // Drops one reference; the last finishes the directory, frees it and
  // drops its reference on the parent. Any thread.
  void Release(DirCtx* dir);
  Status RestoreFile(DirCtx* dir, const snapshot::Node& node, const std::string& rel);
  // restore_batch.cc: new files go into a batch (content_batch.h) whose
  // content the pool restores pack by pack. At most two batches are in the
  // pool's hands while the walk fills the next.
  Status AddToBatch(DirCtx* dir, const snapshot::Node& node, std::string display);
  // Hands the batch being filled to the pool.
  Status FlushBatch();
  Status LocateBatch(Batch& b);
  // Runs on a pool thread: one read of the plan, its chunks written to
  // every target. Visits every target even when the restore has failed.
  Status RunRead(Batch& b, const PackRead& read);
  Status WriteTarget(BatchFile& f, uint64_t offset, const Result<ByteSpan>& plain);
  // REQUIRES: f.mu held (or f not shared yet); every target visited.
  Status FinishFile(BatchFile& f);
  void BatchJobDone(Batch& b);
  // Runs on a pool thread: the content and metadata of one regular file.
  Status FileJob(int dfd, const snapshot::Node& node, const std::string& display);
  Status FileContentJob(int dfd, const snapshot::Node& node, const std::string& display);
  Status RestoreDirEntries(DirCtx* dir, bool included);
  Status WriteContent(int fd, const snapshot::Node& node, const std::string& what, bool compare);
  Result<bool> IsUnchanged(int dfd, const snapshot::Node& node);
  Status RemoveExtraneous(DirCtx* dir, const snapshot::Tree& tree);
  Status ApplyMeta(int dirfd, const std::string& name, const snapshot::Node& node);
  // Make new inodes, one at a time in a full restore (see create_mu_).
  std::unique_lock<std::mutex> CreateLock(bool replace);
  Result<fs::Fd> CreateFile(int dirfd, const std::string& name, bool replace);
  Result<fs::Fd> CreateDir(int dirfd, const std::string& name, bool replace);
  Status CreateSpecial(int dirfd, const snapshot::Node& node, bool replace);
  Status ApplyFileMeta(int dirfd, int fd, const snapshot::Node& node);
  void Report(const std::string& display);  // REQUIRES: mu_ held

  const Repository& repo_;
  const RestoreOptions& opts_;
  capture::GlobSet includes_;
  std::mutex mu_;  // the walk and the pool threads update these
  RestoreStats stats_;        // guarded by mu_
  RestoreProgress progress_;  // guarded by mu_
  std::atomic<bool> failed_{false};  // set on the first error: finish without metadata
  Status finish_error_;              // guarded by mu_: the first FinishDir failure
  JobPool pool_{2, 64};
  std::shared_ptr<Batch> batch_;  // the walk's, being filled
  // Held while a full restore makes a new inode (file, directory, symlink,
  // special file). A new file's inode comes from its directory's block
  // group, whose bitmap the kernel scans from the start; ext4 without a
  // journal passes over every free inode freed in the last minute (six
  // while its table block is dirty, as the restore's own creates make it),
  // so right after a large delete one create costs ~0.1 ms. Two threads
  // scanning the same group at once slow each other down: 86,000 creates
  // cost 13-15 s of system time in parallel and 8-9 s one at a time, in
  // the same wall time. Measured on local ext4, where a create costs
  // microseconds otherwise and the lock no wall time; on a network file
  // system, where a create is a round trip, the writes and metadata of
  // other files still overlap it.
  std::mutex create_mu_;
  std::mutex batches_mu_;
  std::condition_variable batches_cv_;
  int batches_live_ = 0;  // guarded by batches_mu_: handed to the pool, not done
  // Directories this restore holds open (each until its last entry is
  // done): their ancestors count too, and the batches bound it.
  std::atomic<int> open_dirs_{0};
  int max_open_dirs_;  // what the descriptor limit leaves next to the index, packs and files
  // hardlink group -> path (relative to the source target) of its first copy
  std::map<uint64_t, std::string> links_;
  DirCtx* source_root_ = nullptr;
};

}  // namespace snap::engine::restore

// Restore: writes a snapshot's sources into a target directory
// (DESIGN.md "Restoring"). Never trusts the snapshot: every name is checked
// and every file-system call is dirfd-relative with O_NOFOLLOW (fs/fs.h), so
// nothing is written outside the target whatever the trees say.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/repository.h"
#include "engine/result.h"

namespace snap::engine {

struct RestoreProgress {
  uint64_t files = 0, dirs = 0, bytes_done = 0, bytes_total = 0;
  std::string current;
};

struct RestoreOptions {
  std::string target;
  // Sources to restore; empty means all. With into_target, exactly one
  // source whose content goes straight into `target`; else each source goes
  // to target/NAME.
  std::vector<std::string> sources;
  bool into_target = false;
  // Globs (capture/glob.h) against paths relative to a source root; empty
  // restores everything. A matching directory brings its whole subtree.
  std::vector<std::string> includes;
  // Restore into an existing tree: files already right are left alone,
  // changed files get only their changed chunks, entries the snapshot does
  // not hold are removed (not when includes are given).
  bool delta = false;
  bool restore_owners = false;  // lchown to the captured uid/gid (root)
  std::function<void(const RestoreProgress&)> progress;
};

struct RestoreStats {
  uint64_t files = 0, dirs = 0, others = 0;
  uint64_t files_unchanged = 0;   // delta: left untouched
  uint64_t chunks_written = 0, chunks_unchanged = 0;
  uint64_t bytes_written = 0;
  // Chunks read and decoded: once per distinct chunk of a batch of new
  // files, however many files hold it. The requests made to packs and the
  // bytes they returned (new files only; --delta reads chunk by chunk).
  uint64_t chunks_read = 0;
  uint64_t pack_reads = 0, pack_bytes_read = 0;
  uint64_t removed = 0;           // delta: extraneous entries removed
  int xattr_failures = 0;
  // Files not restored because a chunk of theirs is damaged or missing
  // (each "path: why"); they are absent from the target, every other file
  // is restored.
  std::vector<std::string> lost;
};

Result<RestoreStats> Restore(const Repository& repo, const snapshot::SnapshotRecord& snap,
                             const RestoreOptions& opts);

}  // namespace snap::engine

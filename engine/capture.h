// TakeSnapshot: captures directory sources into one snapshot and commits it
// (DESIGN.md "Capturing a consistent snapshot").
//
// Either every source is captured and the snapshot record is committed, or
// an error is returned and no snapshot is visible (chunks already packed
// stay, and the next run reuses them). Order: pre hook, dumps, directories,
// commit, post hook (which also runs after a failure, once pre ran).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/repository.h"
#include "engine/result.h"
#include "engine/snapshot/snapshot_record.h"

namespace snap::engine {

struct DirectorySource {
  std::string name;  // a valid tree entry name: restores to TARGET/NAME
  std::string path;
  std::vector<std::string> excludes;  // globs relative to path
};

// A dump: a command whose stdout is the content (mysqldump, pg_dump...).
struct DumpSource {
  std::string name;             // a valid tree entry name, unique among sources
  std::string command;          // run with /bin/sh -c
  std::string restore_command;  // recorded; `restore --dump` pipes into it
};

struct CaptureProgress {
  uint64_t files = 0, dirs = 0, bytes_read = 0, bytes_total_seen = 0;
  uint64_t cached_files = 0;
  std::string current;  // "source/rel/path"
};

struct CaptureOptions {
  std::vector<DirectorySource> sources;
  std::vector<DumpSource> dumps;      // run first: they fix the point in time
  std::string pre_hook, post_hook;    // post runs even when capture fails
  std::vector<std::string> excludes;  // apply to every source
  bool exclude_caches = false;        // skip dirs holding a valid CACHEDIR.TAG
  std::vector<std::string> tags;
  std::string host, user;
  // The snapshot's time (ns since the epoch); unset: now. Set for imports
  // and for tests with a simulated clock.
  std::optional<int64_t> time_ns;
  int read_attempts = 3;              // reads of a file that keeps changing
  int workers = 2;                    // compression/sealing threads
  // Called often, one call at a time (from the thread of whichever source
  // reports); must be cheap.
  std::function<void(const CaptureProgress&)> progress;
};

struct CaptureResult {
  ChunkId id;
  snapshot::SnapshotRecord record;
  std::vector<std::string> warnings;  // e.g. files that kept changing
  uint64_t files_read = 0;            // files whose content was read
};

Result<CaptureResult> TakeSnapshot(Repository& repo, const CaptureOptions& opts);

}  // namespace snap::engine

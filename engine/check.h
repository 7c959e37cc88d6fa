// Check: verifies a repository (structure; with read_data every payload)
// and rebuilds its index from the packs and snapshot records.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/repository.h"
#include "engine/result.h"

namespace snap::engine {

struct CheckOptions {
  bool read_data = false;
  // With read_data: read only this share of the packs (0 < share <= 1),
  // the ceil(share * packs) packs starting at position `cursor` (mod the
  // number of packs) in name order. A nightly check that passes the
  // report's next_cursor back covers every pack over 1/share runs.
  double read_share = 1.0;
  uint64_t cursor = 0;
  std::function<void(const std::string& step, uint64_t done, uint64_t total)> progress;
};

struct CheckReport {
  uint64_t snapshots = 0, trees = 0, chunks_referenced = 0, packs = 0, packs_read = 0;
  uint64_t bytes_read = 0;
  // One line per problem: what is wrong and where, with the snapshots and
  // files a damaged chunk belongs to.
  std::vector<std::string> errors;
  // Chunks found damaged or missing (for --repair).
  std::vector<ChunkId> damaged;
  uint64_t next_cursor = 0;  // where the next partial read should start
  bool ok() const { return errors.empty(); }
};

// Never modifies the repository. A Status error means check itself could
// not run (e.g. the store is unreadable); problems found go in the report.
Result<CheckReport> CheckRepository(const Repository& repo, const CheckOptions& opts);

struct RebuildReport {
  uint64_t packs = 0, chunks = 0, snapshots = 0;
  std::vector<std::string> errors;  // packs that could not be read
};
// Recreates the chunk index and the catalog from packs and snapshots/.
Result<RebuildReport> RebuildIndex(Repository& repo);

}  // namespace snap::engine

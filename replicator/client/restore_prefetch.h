// Prefetching for a restore from a replica: fetches, in batches, what
// restoring a snapshot needs and the local repository lacks, so the restore
// itself runs from local packs instead of waiting on one chunk at a time.
#pragma once

#include "engine/restore.h"
#include "replicator/client/fetcher.h"

namespace snap::replicator::client {

// Walks the snapshot's directory sources level by level (one fetch per
// level for the trees the local repository lacks), then fetches the
// content of every file the restore will write: with opts.delta, a file
// whose size and mtime already match in the target is left out, so a
// repeated restore pulls only what the target and the local repository
// both lack. Chunks it misses are still fetched on demand by the restore.
Status PrefetchForRestore(engine::Repository& repo, RemoteFetcher& fetcher,
                          const engine::snapshot::SnapshotRecord& snap,
                          const engine::RestoreOptions& opts);

}  // namespace snap::replicator::client

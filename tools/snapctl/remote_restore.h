// Restoring from a replica (`restore --from`): a local repository that
// pulls what it lacks from the replica as the restore reads it.
//
//   --from NAME                 a peer of the local repository (--repo);
//                               fetched chunks are stored in it
//   --from replica://H:P/ID     no local repository: a cache repository
//     --fingerprint FP          under the cache directory holds what was
//     --key-file EXPORTED-KEY   fetched, so the next restore pulls only what
//                               is new
#pragma once

#include <memory>
#include <string>

#include "replicator/client/fetcher.h"
#include "replicator/client/session.h"
#include "tools/snapctl/cli.h"

namespace snap::cli {

struct RemoteSource {
  std::unique_ptr<engine::Repository> repo;
  replicator::client::Session session;
  std::unique_ptr<replicator::client::RemoteFetcher> fetcher;
  ~RemoteSource();
};

// $SNAPCTL_CACHE_DIR, else $XDG_CACHE_HOME/snapctl, else ~/.cache/snapctl.
std::string DefaultCacheDir();

// Connects (read-only), brings the snapshot list over and returns the
// repository to restore from, its fetcher installed.
engine::Result<std::unique_ptr<RemoteSource>> OpenRemoteSource(const Globals& g,
                                                               const std::string& from,
                                                               const std::string& fingerprint,
                                                               const std::string& cache_dir);

}  // namespace snap::cli

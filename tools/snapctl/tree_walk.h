// Walks a snapshot's trees for ls, diff and stats.
#pragma once

#include <functional>
#include <string>

#include "engine/repository.h"

namespace snap::cli {

// Calls fn(path, node) for every node of every source, depth first, with
// paths "source/dir/file" (the source's own node has path "source").
engine::Status WalkSnapshot(
    const engine::Repository& repo, const engine::snapshot::SnapshotRecord& rec,
    const std::function<engine::Status(const std::string&, const engine::snapshot::Node&)>& fn);

// "drwxr-xr-x"-style type and permission string.
std::string ModeString(const engine::snapshot::Node& n);

// Resolves SNAP|latest with an optional --at time.
engine::Result<engine::Repository::SnapshotInfo> Resolve(const engine::Repository& repo,
                                                        const std::string& spec,
                                                        const std::string& at);

}  // namespace snap::cli

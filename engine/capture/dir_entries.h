// One directory's entries as a capture sees them: listed, filtered and
// lstat'ed in name order, and the digest the directory cache compares
// (keyspace 'd', FORMAT.md "Index keys").
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/bytes.h"
#include "engine/chunk_id.h"

namespace snap::engine::capture {

struct DirEntry {
  std::string name;
  struct stat st {};
  std::optional<ChunkId> subtree;  // directories, once captured
  uint64_t hardlink_group = 0;     // non-directories with st_nlink >= 2
  bool gone = false;               // vanished since it was listed
};

// True for the file types a tree holds (FORMAT.md "Tree": file, directory,
// symlink, fifo, devices, socket); a capture leaves any other out.
bool IsCapturedType(mode_t mode);

// Appends the digest input of `entries` (FORMAT.md "Index keys", `d`):
// a header, then per entry its stat key (fs::AppendStatKey) and, for a
// directory, its subtree ID. REQUIRES: every directory's subtree is set.
void AppendDigestInput(const std::vector<DirEntry>& entries, Buffer* out);

}  // namespace snap::engine::capture

// What a directory capture has in flight: directories walked but not yet
// stored (their files still being read, or a subdirectory's), and the file
// reads themselves. The walk goes on to the next directory while the
// reading threads work through the last one's files; a directory is stored
// once its last read and its last subdirectory are in.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "engine/capture/dir_entries.h"
#include "engine/chunk_id.h"
#include "engine/fs/fs.h"
#include "engine/snapshot/tree.h"
#include "engine/status.h"

namespace snap::engine::capture {

struct PendingDir {
  std::string rel;
  fs::Fd fd;                   // open while its own files are read
  PendingDir* parent = nullptr;
  size_t slot = 0;             // its entry in the parent's `entries`
  std::vector<DirEntry> entries;
  snapshot::Tree tree;         // once described
  std::vector<std::pair<size_t, size_t>> subdirs;  // (entry, node) of each subdirectory
  int waiting = 0;             // subdirectories and file reads not yet in
  int reading = 0;             // its file reads not yet in
  bool described = false;      // tree holds every entry; nothing more will wait
  bool cacheable = false;      // no hardlinks, nothing vanished since listed
  bool complete = true;        // the tree shows exactly what lstat said
};

// One file to read, and what reading it found. The reading thread touches
// nothing else; the walk applies the result to the directory's tree.
struct FileRead {
  PendingDir* dir = nullptr;  // the walk's: the reading thread uses dirfd
  int dirfd = -1;              // dir->fd, open until dir's last read is in
  size_t node = 0;             // its index in dir->tree.nodes
  std::string rel;
  uint64_t size = 0;   // as listed: the largest are read first
  Status status;
  bool found = true;   // false: deleted before it could be opened
  bool stable = false;
  int attempts = 0;
  std::vector<ChunkId> content;
  uint64_t bytes = 0;
  uint64_t new_chunks = 0, new_bytes = 0;  // what it added to the repository
  struct stat after {};
};

}  // namespace snap::engine::capture

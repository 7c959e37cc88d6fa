// Tree: one directory's entries, sorted by name (bytewise), encoded with the
// varint primitives (FORMAT.md "Tree"). Trees are stored as chunks of kind
// kTree, so an unchanged directory has the same ID in every snapshot.
//
// Decode treats its input as hostile: bounded counts and lengths, names
// checked (no '/', no NUL, not "." or "..", not empty), entries strictly
// sorted, known types only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/result.h"

namespace snap::engine::snapshot {

inline constexpr uint32_t kTreeVersion = 1;  // On disk.
inline constexpr size_t kMaxTreeEntries = 1u << 22;
inline constexpr size_t kMaxNameLength = 4096;
inline constexpr size_t kMaxXattrValue = 1u << 20;

// On disk: never renumber.
enum class NodeType : uint8_t {
  kFile = 1,
  kDir = 2,
  kSymlink = 3,
  kFifo = 4,
  kCharDevice = 5,
  kBlockDevice = 6,
  kSocket = 7,
};

// Node flags. On disk: never renumber.
inline constexpr uint32_t kNodeChangedWhileRead = 1 << 0;  // content may be torn

struct Xattr {
  std::string name;
  std::string value;  // bytes
  bool operator==(const Xattr&) const = default;
};

struct Node {
  std::string name;        // bytes, one path component
  NodeType type = NodeType::kFile;
  uint32_t mode = 0;       // permission bits incl. setuid/setgid/sticky (st_mode & 07777)
  uint32_t uid = 0, gid = 0;
  std::string user, group;  // names, empty when unknown
  int64_t mtime_ns = 0;
  int64_t atime_ns = 0;
  uint64_t size = 0;       // file size in bytes (symlink: target length)
  uint64_t rdev = 0;       // devices
  uint64_t inode = 0;      // st_ino at capture, informational
  uint64_t links = 1;      // st_nlink at capture
  uint64_t hardlink_group = 0;  // nonzero: nodes of one source sharing it are one inode
  uint32_t flags = 0;
  std::string link_target;  // symlinks, bytes
  std::vector<Xattr> xattrs;  // sorted by name
  std::vector<ChunkId> content;  // files: chunk IDs in order
  std::optional<ChunkId> subtree;  // directories

  bool operator==(const Node&) const = default;
};

struct Tree {
  std::vector<Node> nodes;  // sorted by name, unique

  // REQUIRES: nodes sorted and unique (Sort() first).
  void EncodeTo(Buffer* out) const;
  static Result<Tree> Decode(ByteSpan in);
  void Sort();
  // IDs the tree references (subtrees and content), for the entry's refs.
  std::vector<ChunkId> Refs() const;
  // Pointer to the node named `name`, or nullptr. Binary search.
  const Node* Find(std::string_view name) const;
};

// True when `name` may be a tree entry name: not empty, not "." or "..",
// no '/' and no NUL, at most kMaxNameLength bytes.
bool IsValidName(std::string_view name);

}  // namespace snap::engine::snapshot

// SnapshotRecord: the commit point of a snapshot (FORMAT.md "Snapshot
// record"). Encoded with the varint primitives, sealed, and stored under
// snapshots/<id>; its ID is the keyed hash of the encoding. Immutable once
// committed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/bytes.h"
#include "engine/chunk_id.h"
#include "engine/result.h"

namespace snap::engine::snapshot {

inline constexpr uint32_t kSnapshotVersion = 1;  // On disk.

// On disk: never renumber.
enum class SourceKind : uint8_t { kDirectory = 1, kDump = 2 };

struct SourceStats {
  uint64_t files = 0, dirs = 0, others = 0;
  uint64_t bytes = 0;          // logical content bytes
  uint64_t new_chunks = 0;     // chunks this snapshot added
  uint64_t new_bytes = 0;      // their raw bytes
  uint64_t stored_bytes = 0;   // their bytes as stored (compressed, sealed)
  bool operator==(const SourceStats&) const = default;
};

struct SourceRecord {
  std::string name;
  SourceKind kind = SourceKind::kDirectory;
  std::string path;          // directories: the path captured
  ChunkId root;              // directories: root tree; dumps: stream entry
  std::string command;       // dumps: the command run
  std::string restore_command;
  int32_t exit_status = 0;   // dumps
  int64_t start_ns = 0, end_ns = 0;  // capture window
  std::vector<std::string> notes;    // e.g. files that kept changing
  SourceStats stats;
  bool operator==(const SourceRecord&) const = default;
};

struct SnapshotRecord {
  int64_t time_ns = 0;       // when the capture started
  std::string host;
  std::string user;
  std::vector<std::string> tags;
  std::optional<ChunkId> parent;
  std::vector<SourceRecord> sources;  // sorted by name, unique
  std::string program_version;
  bool operator==(const SnapshotRecord&) const = default;

  void EncodeTo(Buffer* out) const;
  static Result<SnapshotRecord> Decode(ByteSpan in);
  // Root IDs of all sources, for the record's cleartext refs.
  std::vector<ChunkId> Refs() const;
  const SourceRecord* FindSource(std::string_view name) const;
};

}  // namespace snap::engine::snapshot

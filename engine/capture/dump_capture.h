// DumpCapture: runs a dump command and streams its stdout straight into the
// chunker (never through a temporary file); its stderr goes to our stderr,
// prefixed with the dump's name. A non-zero exit fails the capture.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/capture.h"
#include "engine/capture/chunk_stream.h"
#include "engine/snapshot/snapshot_record.h"

namespace snap::engine::capture {

class DumpCapture {
 public:
  // `parent`, when given, is the same dump's stream root in an earlier
  // snapshot: changed chunks are stored as deltas against it.
  DumpCapture(Repository* repo, repo::PackSink* sink, EncodePool* pool, const DumpSource& source,
              CaptureProgress* progress, std::optional<ChunkId> parent = std::nullopt,
              std::atomic<uint64_t>* stored = nullptr);  // counts its chunks' stored bytes

  // Captures the dump; returns the ID of its top stream list. Aborted when
  // the command fails, naming the dump and quoting its last stderr lines.
  Result<ChunkId> Run();

  snapshot::SourceStats stats() const;
  int exit_status() const { return exit_status_; }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  Result<ChunkId> StoreLists(const std::vector<ChunkId>& chunks);
  void SniffCompression();

  Repository* repo_;
  const DumpSource& source_;
  std::optional<ChunkId> parent_;
  std::optional<DeltaBases> bases_;
  CaptureProgress* progress_;
  ChunkStream stream_;
  uint64_t bytes_ = 0;
  int exit_status_ = -1;
  std::vector<std::string> warnings_;
};

}  // namespace snap::engine::capture

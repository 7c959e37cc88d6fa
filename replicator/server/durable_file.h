// Small whole-file helpers for the replica directory's text files (the
// admission list, health probes). Objects of the repositories themselves go
// through engine::store::ObjectStore.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "engine/result.h"

namespace snap::replicator::server {

// Replaces `path` with `text` atomically and durably: writes a temp file
// beside it, fsyncs it, renames it over `path`, then fsyncs the directory.
// A crash leaves either the old file or the new one, never a mix. IOError
// naming the step on failure (the temp file is removed).
engine::Status WriteFileAtomic(const std::string& path, std::string_view text, mode_t mode);

// The whole file. NotFound when it does not exist, IOError otherwise.
engine::Result<std::string> ReadTextFile(const std::string& path);

// Creates and removes a probe file in `dir`: OK when the directory takes
// writes, else IOError naming the step (for GET /health).
engine::Status ProbeWritable(const std::string& dir);

}  // namespace snap::replicator::server

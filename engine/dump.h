// Reading dumps back: to a file descriptor (`snapctl dump SNAP NAME`), or
// piped into a restore command (`snapctl restore SNAP --dump NAME`).
#pragma once

#include <string>

#include "engine/repository.h"

namespace snap::engine {

// Writes the dump's bytes, in order, to `fd`. Every chunk is authenticated
// before it is written. EPIPE (the reader went away) is an IOError.
Status WriteDump(const Repository& repo, const snapshot::SourceRecord& source, int fd);

// Runs `command` (/bin/sh -c, in `cwd` when given) with the dump on its
// stdin. OK only when everything was written and the command exited 0.
Status RestoreDump(const Repository& repo, const snapshot::SourceRecord& source,
                   const std::string& command, const std::string& cwd = "");

}  // namespace snap::engine

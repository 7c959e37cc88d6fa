#include <signal.h>
#include <unistd.h>

#include "engine/dump.h"
#include "engine/exec/subprocess.h"
#include "engine/snapshot/stream_list.h"

namespace snap::engine {
namespace {

Status WriteAll(int fd, ByteSpan data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(what + ": write", errno);
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status WriteList(const Repository& repo, const ChunkId& list_id, int depth, int fd,
                 const std::string& what, ChunkScratch* scratch) {
  SNAP_ASSIGN_OR_RETURN(Buffer bytes, repo.ReadChunk(list_id));
  Result<snapshot::StreamList> list = snapshot::StreamList::Decode(bytes);
  if (!list.ok()) return list.status().WithContext(what);
  if (list->level > 0 && depth > 0) return Status::Corruption(what + ": stream lists nest too deep");
  for (const ChunkId& id : list->ids) {
    if (list->level == 1) {
      SNAP_RETURN_IF_ERROR(WriteList(repo, id, depth + 1, fd, what, scratch));
      continue;
    }
    Result<ByteSpan> chunk = repo.ReadChunk(id, scratch);
    if (!chunk.ok()) return chunk.status().WithContext(what);
    SNAP_RETURN_IF_ERROR(WriteAll(fd, *chunk, what));
  }
  return Status::OK();
}

}  // namespace

Status WriteDump(const Repository& repo, const snapshot::SourceRecord& source, int fd) {
  std::string what = "dump " + source.name;
  if (source.kind != snapshot::SourceKind::kDump)
    return Status::InvalidArgument(source.name + " is a directory source, not a dump");
  // A reader that goes away must give EPIPE, not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  ChunkScratch scratch;
  return WriteList(repo, source.root, 0, fd, what, &scratch);
}

Status RestoreDump(const Repository& repo, const snapshot::SourceRecord& source,
                   const std::string& command, const std::string& cwd) {
  if (command.empty())
    return Status::InvalidArgument("dump " + source.name +
                                   " has no restore command: declare one (restore = \"...\") or "
                                   "pipe `snapctl dump` into it");
  exec::SpawnOptions opts;
  opts.pipe_stdin = true;
  opts.cwd = cwd;
  opts.stderr_prefix = "[restore " + source.name + "] ";
  SNAP_ASSIGN_OR_RETURN(auto child, exec::Subprocess::Spawn(command, opts));
  Status written = WriteDump(repo, source, child->stdin_fd());
  child->CloseStdin();
  SNAP_ASSIGN_OR_RETURN(int status, child->Wait());
  if (status != 0)
    return Status::Aborted("restore of dump " + source.name + " through `" + command + "` " +
                           exec::DescribeExit(status, child->StderrTail()));
  return written;
}

}  // namespace snap::engine

#include "engine/capture/dump_capture.h"

#include <cstring>

#include "engine/exec/subprocess.h"
#include "engine/repository.h"
#include "engine/snapshot/stream_list.h"

namespace snap::engine::capture {
namespace {

struct Magic {
  const char* bytes;
  size_t len;
  const char* name;
};

// Streams that are already compressed defeat deduplication.
constexpr Magic kCompressed[] = {
    {"\x1f\x8b", 2, "gzip"},
    {"\x28\xb5\x2f\xfd", 4, "zstd"},
    {"\xfd\x37\x7a\x58\x5a\x00", 6, "xz"},
    {"BZh", 3, "bzip2"},
    {"\x04\x22\x4d\x18", 4, "lz4"},
    {"PK\x03\x04", 4, "zip"},
};

}  // namespace

DumpCapture::DumpCapture(Repository* repo, repo::PackSink* sink, EncodePool* pool,
                         const DumpSource& source, CaptureProgress* progress,
                         std::optional<ChunkId> parent, std::atomic<uint64_t>* stored)
    : repo_(repo),
      source_(source),
      parent_(parent),
      progress_(progress),
      stream_(repo, sink, pool, repo->config().dump_chunking) {
  stream_.count_stored_in(stored);
}

Result<ChunkId> DumpCapture::Run() {
  std::string what = "dump " + source_.name;
  if (parent_) {
    // Without the parent's stream (damaged, say) the dump is stored whole.
    Result<DeltaBases> b = DeltaBases::Load(*repo_, *parent_);
    if (b.ok()) {
      bases_ = std::move(*b);
      stream_.set_delta_bases(&*bases_);
    }
  }
  exec::SpawnOptions opts;
  opts.pipe_stdout = true;
  opts.stderr_prefix = "[" + what + "] ";
  SNAP_ASSIGN_OR_RETURN(auto child, exec::Subprocess::Spawn(source_.command, opts));
  std::vector<ChunkId> chunks;
  Status read = stream_.Consume(child->stdout_fd(), what, &chunks, &bytes_, [&](uint64_t n) {
    progress_->bytes_read += n;
    progress_->bytes_total_seen += n;
  });
  if (!read.ok()) child->Terminate();
  SNAP_ASSIGN_OR_RETURN(exit_status_, child->Wait());
  SNAP_RETURN_IF_ERROR(read);
  if (exit_status_ != 0)
    return Status::Aborted(what + ": the command (" + source_.command + ") " +
                           exec::DescribeExit(exit_status_, child->StderrTail()));
  SniffCompression();
  return StoreLists(chunks);
}

// Level-0 lists of at most kMaxStreamListIds chunks, under one level-1
// list when there is more than one.
Result<ChunkId> DumpCapture::StoreLists(const std::vector<ChunkId>& chunks) {
  std::vector<ChunkId> lists;
  size_t i = 0;
  do {
    snapshot::StreamList l;
    size_t n = std::min(snapshot::kMaxStreamListIds, chunks.size() - i);
    l.ids.assign(chunks.begin() + i, chunks.begin() + i + n);
    i += n;
    Buffer b;
    l.EncodeTo(&b);
    SNAP_ASSIGN_OR_RETURN(ChunkId id, stream_.StoreEntry(pack::EntryKind::kStream, b, l.ids));
    lists.push_back(id);
  } while (i < chunks.size());
  if (lists.size() == 1) return lists[0];
  snapshot::StreamList top;
  top.level = 1;
  top.ids = lists;
  Buffer b;
  top.EncodeTo(&b);
  return stream_.StoreEntry(pack::EntryKind::kStream, b, top.ids);
}

void DumpCapture::SniffCompression() {
  const Buffer& h = stream_.head();
  for (const Magic& m : kCompressed) {
    if (h.size() >= m.len && std::memcmp(h.data(), m.bytes, m.len) == 0) {
      warnings_.push_back("dump " + source_.name + ": the stream is " + m.name +
                          "-compressed, which defeats deduplication; dump uncompressed and let "
                          "snapctl compress");
      return;
    }
  }
}

snapshot::SourceStats DumpCapture::stats() const {
  snapshot::SourceStats s;
  s.files = 1;
  s.bytes = bytes_;
  s.new_chunks = stream_.new_chunks();
  s.new_bytes = stream_.new_bytes();
  return s;
}

}  // namespace snap::engine::capture

#include "engine/capture/chunk_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "engine/repository.h"

namespace snap::engine::capture {
namespace {
constexpr size_t kReadSize = 1u << 20;
constexpr size_t kHeadBytes = 16;

// For a file system that honours O_NONBLOCK on regular files.
bool ClearNonBlocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  return flags >= 0 && (flags & O_NONBLOCK) && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0;
}
}  // namespace

ChunkStream::ChunkStream(Repository* repo, repo::PackSink* sink, EncodePool* pool,
                         const chunk::ChunkerParams& params)
    : repo_(repo), sink_(sink), pool_(pool), chunker_(params, repo->gear()) {}

Status ChunkStream::Consume(int fd, const std::string& what, std::vector<ChunkId>* ids,
                            uint64_t* bytes, const std::function<void(uint64_t)>& on_read,
                            std::optional<uint64_t> size) {
  const size_t max = chunker_.params().max_size;
  // Uninitialised: zero-filling 9 MiB would touch every page of it, where a
  // stream of small files only ever touches the first few.
  if (buf_size_ < max + kReadSize) {
    buf_size_ = max + kReadSize;
    buf_ = std::make_unique_for_overwrite<std::byte[]>(buf_size_);
  }
  std::byte* buf = buf_.get();
  head_.clear();
  size_t have = 0;
  uint64_t stream_offset = 0;  // of buf_[0]
  uint64_t total = 0;
  bool eof = false;
  while (!eof || have > 0) {
    // Keep at least max bytes buffered so the chunker never rescans.
    while (!eof && have < max) {
      ssize_t n = ::read(fd, buf + have, buf_size_ - have);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN && ClearNonBlocking(fd)) continue;
      if (n < 0) return Status::FromErrno(what + ": read", errno);
      total += static_cast<uint64_t>(n);
      // An empty file is read to its end all the same: /proc and sysfs
      // report size 0 for files with content.
      if (n == 0 || (size > 0u && total >= *size)) eof = true;
      if (head_.size() < kHeadBytes) {
        size_t take = std::min<size_t>(kHeadBytes - head_.size(), static_cast<size_t>(n));
        head_.insert(head_.end(), buf + have, buf + have + take);
      }
      have += static_cast<size_t>(n);
      *bytes += static_cast<uint64_t>(n);
      if (on_read && n > 0) on_read(static_cast<uint64_t>(n));
    }
    size_t off = 0;
    while (off < have) {
      size_t len = chunker_.NextBoundary(ByteSpan(buf + off, have - off), eof);
      if (len == 0) break;
      ChunkId id;
      SNAP_RETURN_IF_ERROR(Store(ByteSpan(buf + off, len), &id, stream_offset + off));
      ids->push_back(id);
      off += len;
    }
    std::memmove(buf, buf + off, have - off);
    have -= off;
    stream_offset += off;
  }
  return Status::OK();
}

Status ChunkStream::Store(ByteSpan data, ChunkId* id, uint64_t offset) {
  *id = repo_->Hash(data);
  SNAP_ASSIGN_OR_RETURN(bool fresh, sink_->Claim(*id));
  if (!fresh) return Status::OK();
  new_chunks_++;
  new_bytes_ += data.size();
  pack::EntryHeader h;
  h.kind = pack::EntryKind::kData;
  h.id = *id;
  std::optional<Buffer> base;
  if (bases_) {
    if (std::optional<DeltaBases::Base> b = bases_->For(data, offset)) {
      h.refs = std::move(b->ids);
      base = std::move(b->plain);
      delta_chunks_++;
    }
  }
  return pool_->Submit(std::move(h), pool_->Copy(data), std::move(base), stored_);
}

Result<ChunkId> ChunkStream::StoreEntry(pack::EntryKind kind, ByteSpan plain,
                                        std::vector<ChunkId> refs) {
  ChunkId id = repo_->Hash(plain);
  SNAP_ASSIGN_OR_RETURN(bool fresh, sink_->Claim(id));
  if (!fresh) return id;
  pack::EntryHeader h;
  h.kind = kind;
  h.id = id;
  h.refs = std::move(refs);
  SNAP_RETURN_IF_ERROR(pool_->Submit(std::move(h), Buffer(plain.begin(), plain.end())));
  return id;
}

}  // namespace snap::engine::capture

// WriteAt: restoring content so that sparse files stay sparse.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "engine/fs/fs.h"
#include "engine/fs/fs_internal.h"

namespace snap::engine::fs {
namespace {

// Zero detection works on file-offset-aligned blocks of this size: a hole
// smaller than a file-system block would be allocated anyway.
constexpr size_t kBlock = 4096;
alignas(64) constexpr std::byte kZeros[kBlock] = {};

bool IsZero(ByteSpan b) { return std::memcmp(b.data(), kZeros, b.size()) == 0; }

// Length of the aligned block of `data` starting at data[pos] (file offset
// offset + pos).
size_t BlockAt(ByteSpan data, uint64_t offset, size_t pos) {
  size_t to_boundary = kBlock - static_cast<size_t>((offset + pos) % kBlock);
  return std::min(to_boundary, data.size() - pos);
}

// End of the run of blocks from `pos` on that are all zero (`zero`) or
// all contain a nonzero byte.
size_t RunEnd(ByteSpan data, uint64_t offset, size_t pos, bool zero) {
  while (pos < data.size()) {
    size_t len = BlockAt(data, offset, pos);
    if (IsZero(data.subspan(pos, len)) != zero) break;
    pos += len;
  }
  return pos;
}

Status WriteAll(int fd, uint64_t offset, ByteSpan data, std::string_view what) {
  while (!data.empty()) {
    ssize_t n = ::pwrite(fd, data.data(), data.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return internal::Errno(what, "write", errno);
    if (n == 0) return internal::Errno(what, "write", ENOSPC);  // no progress: treat as full
    data = data.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

// Makes [offset, offset+len) read as zeros. Past the current end of file
// the file is extended over it (a hole: a file that ends in zeros keeps its
// size); over existing data, as in a delta restore or a later chunk written
// first, the range is punched out, or overwritten where the file system
// cannot punch holes. *size caches the file's size from the first zero run
// of WriteAt on: runs are handled in offset order, so our own writes before
// this run never reach into it.
Status ZeroRange(int fd, uint64_t offset, uint64_t len, std::string_view what,
                 std::optional<uint64_t>* size) {
  if (!size->has_value()) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return internal::Errno(what, "fstat", errno);
    *size = static_cast<uint64_t>(st.st_size);
  }
  uint64_t end = offset + len;
  if (offset < **size) {
    uint64_t inside = std::min(end, **size) - offset;
    int mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
    if (::fallocate(fd, mode, static_cast<off_t>(offset), static_cast<off_t>(inside)) != 0) {
      if (errno != EOPNOTSUPP && errno != ENOSYS) return internal::Errno(what, "fallocate", errno);
      for (uint64_t done = 0; done < inside; done += kBlock) {
        ByteSpan zeros(kZeros, static_cast<size_t>(std::min<uint64_t>(kBlock, inside - done)));
        SNAP_RETURN_IF_ERROR(WriteAll(fd, offset + done, zeros, what));
      }
    }
  }
  if (end > **size) {
    if (::ftruncate(fd, static_cast<off_t>(end)) != 0) return internal::Errno(what, "ftruncate", errno);
    *size = end;
  }
  return Status::OK();
}

}  // namespace

Status WriteAt(int fd, uint64_t offset, ByteSpan data, std::string_view what) {
  std::optional<uint64_t> size;
  size_t pos = 0;
  while (pos < data.size()) {
    size_t first = BlockAt(data, offset, pos);
    bool zero = IsZero(data.subspan(pos, first));
    size_t end = RunEnd(data, offset, pos + first, zero);
    Status s = zero ? ZeroRange(fd, offset + pos, end - pos, what, &size)
                    : WriteAll(fd, offset + pos, data.subspan(pos, end - pos), what);
    if (!s.ok()) return s;
    pos = end;
  }
  return Status::OK();
}

}  // namespace snap::engine::fs

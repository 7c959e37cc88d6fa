// ApplyMetadata: owner, xattrs, mode and times of a restored entry.
//
// The order is forced by the kernel: chown clears setuid/setgid and
// security.capability, so it goes first; user.* xattrs need write
// permission on the file, which a restored read-only mode would deny a
// non-root owner, so they go before chmod; times go last.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "engine/fs/fs.h"
#include "engine/fs/fs_internal.h"

namespace snap::engine::fs {

using internal::Errno;
using snapshot::Node;

namespace {

struct timespec ToTimespec(int64_t ns) {
  constexpr int64_t kBillion = 1'000'000'000;
  int64_t sec = ns / kBillion, rem = ns % kBillion;
  if (rem < 0) {  // before 1970: tv_nsec must stay in [0, 1e9)
    rem += kBillion;
    sec -= 1;
  }
  return {static_cast<time_t>(sec), static_cast<long>(rem)};
}

Status SetTimes(int dirfd, std::string_view name, const Node& node) {
  struct timespec ts[2] = {ToTimespec(node.atime_ns), ToTimespec(node.mtime_ns)};
  if (::utimensat(dirfd, std::string(name).c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno(name, "utimensat", errno);
  }
  return Status::OK();
}

// chmod through the O_PATH fd's magic link reaches exactly the inode we
// opened with O_NOFOLLOW and type-checked; Linux has no lchmod to use
// instead, and a symlink's own mode means nothing.
Status SetMode(int path_fd, std::string_view name, uint32_t mode) {
  if (::chmod(internal::ProcPath(path_fd).c_str(), mode & 07777) != 0) {
    return Errno(name, "chmod", errno);
  }
  return Status::OK();
}

Status SetOwner(int path_fd, std::string_view name, const Node& node) {
  if (::fchownat(path_fd, "", node.uid, node.gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
    return Errno(name, "fchownat", errno);
  }
  return Status::OK();
}

}  // namespace

Status ApplyMetadata(int dirfd, std::string_view name, const Node& node, bool as_root,
                     int* xattr_failures) {
  SNAP_RETURN_IF_ERROR(internal::CheckName(name));
  Fd path(::openat(dirfd, std::string(name).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!path.valid()) return Errno(name, "openat", errno);
  struct stat st;
  if (::fstat(path.get(), &st) != 0) return Errno(name, "fstat", errno);
  if (as_root) SNAP_RETURN_IF_ERROR(SetOwner(path.get(), name, node));
  SNAP_RETURN_IF_ERROR(internal::WriteXattrs(dirfd, name, node.xattrs, xattr_failures));
  if (!S_ISLNK(st.st_mode)) SNAP_RETURN_IF_ERROR(SetMode(path.get(), name, node.mode));
  return SetTimes(dirfd, name, node);
}

// The same through the open fd of a regular file this process created or
// opened for writing: no path to resolve again, no O_PATH fd.
Status ApplyFileMetadata(int dirfd, int fd, std::string_view name, const Node& node, bool as_root,
                         int* xattr_failures) {
  if (as_root && ::fchown(fd, node.uid, node.gid) != 0) return Errno(name, "fchown", errno);
  if (!node.xattrs.empty())
    SNAP_RETURN_IF_ERROR(internal::WriteXattrs(dirfd, name, node.xattrs, xattr_failures));
  if (::fchmod(fd, node.mode & 07777) != 0) return Errno(name, "fchmod", errno);
  struct timespec ts[2] = {ToTimespec(node.atime_ns), ToTimespec(node.mtime_ns)};
  if (::futimens(fd, ts) != 0) return Errno(name, "futimens", errno);
  return Status::OK();
}

}  // namespace snap::engine::fs

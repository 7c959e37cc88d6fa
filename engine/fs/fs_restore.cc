// Restore side: creating, replacing and removing entries under a target
// directory without ever following a symlink that is already there.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "engine/fs/fs.h"
#include "engine/fs/fs_internal.h"

namespace snap::engine::fs {

using internal::CheckName;
using internal::Errno;
using snapshot::Node;
using snapshot::NodeType;

namespace {

constexpr int kOpenDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// `create` failed with `err`. When the name was taken and `replace`, removes
// whatever is there (a directory recursively) and tries once more.
template <typename Create>
Status RetryAfterRemoving(int dirfd, std::string_view name, bool replace, const char* step, int err,
                          Create create) {
  if (err != EEXIST || !replace) return Errno(name, step, err);
  SNAP_RETURN_IF_ERROR(RemoveAt(dirfd, name));
  if (create()) return Status::OK();
  return Errno(name, step, errno);
}

// Runs `create` (a *at() call wrapped to return success) with replacement.
template <typename Create>
Status CreateReplacing(int dirfd, std::string_view name, bool replace, const char* step,
                       Create create) {
  if (create()) return Status::OK();
  return RetryAfterRemoving(dirfd, name, replace, step, errno, create);
}

// Deleting entries needs write and search permission on their directory,
// which a restored read-only directory (0555) denies to its non-root owner.
void MakeOwnerWritable(int dirfd, const std::string& name) {
  Fd path(::openat(dirfd, name.c_str(), O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
  struct stat st;
  if (!path.valid() || ::fstat(path.get(), &st) != 0) return;
  if ((st.st_mode & 0700) == 0700) return;
  // Best effort: if this fails, the removal below reports why.
  (void)::chmod(internal::ProcPath(path.get()).c_str(), (st.st_mode & 07777) | 0700);
}

Status RemoveTree(int dirfd, std::string_view name) {
  std::string n(name);
  MakeOwnerWritable(dirfd, n);
  Fd dir(::openat(dirfd, n.c_str(), kOpenDirFlags));
  if (!dir.valid()) return Errno(name, "openat", errno);
  SNAP_ASSIGN_OR_RETURN(std::vector<std::string> children, ListDir(dir.get()));
  for (const std::string& child : children) {
    Status s = RemoveAt(dir.get(), child);
    if (!s.ok() && !s.IsNotFound()) return s.WithContext(name);
  }
  if (::unlinkat(dirfd, n.c_str(), AT_REMOVEDIR) != 0) return Errno(name, "rmdir", errno);
  return Status::OK();
}

bool SameInode(int dirfd_a, std::string_view a, int dirfd_b, std::string_view b) {
  Result<struct stat> sa = internal::LstatAt(dirfd_a, a);
  Result<struct stat> sb = internal::LstatAt(dirfd_b, b);
  return sa.ok() && sb.ok() && sa->st_dev == sb->st_dev && sa->st_ino == sb->st_ino;
}

// The syscall that creates a special node, -1 with errno on failure. The
// node starts owner-only; ApplyMetadata sets its mode.
int MakeNode(int dirfd, const char* name, const Node& node) {
  switch (node.type) {
    case NodeType::kSymlink:
      return ::symlinkat(node.link_target.c_str(), dirfd, name);
    case NodeType::kFifo:
      return ::mkfifoat(dirfd, name, 0600);
    case NodeType::kCharDevice:
      return ::mknodat(dirfd, name, S_IFCHR | 0600, node.rdev);
    case NodeType::kBlockDevice:
      return ::mknodat(dirfd, name, S_IFBLK | 0600, node.rdev);
    case NodeType::kSocket:
      return ::mknodat(dirfd, name, S_IFSOCK | 0600, 0);
    default:
      errno = EINVAL;
      return -1;
  }
}

const char* MakeNodeStep(NodeType type) {
  switch (type) {
    case NodeType::kSymlink:
      return "symlinkat";
    case NodeType::kFifo:
      return "mkfifoat";
    default:
      return "mknodat";
  }
}

Status CheckSpecial(std::string_view name, const Node& node) {
  if (node.type == NodeType::kFile || node.type == NodeType::kDir) {
    return Status::InvalidArgument(std::string(name) + ": not a special file");
  }
  bool bad_target = node.link_target.empty() || node.link_target.find('\0') != std::string::npos;
  if (node.type == NodeType::kSymlink && bad_target) {
    return Status::InvalidArgument(std::string(name) + ": symlink target empty or contains NUL");
  }
  return Status::OK();
}

}  // namespace

Result<Fd> MakeDirAt(int dirfd, std::string_view name, bool replace) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  std::string n(name);
  if (::mkdirat(dirfd, n.c_str(), 0700) != 0) {
    if (errno != EEXIST) return Errno(name, "mkdirat", errno);
    SNAP_ASSIGN_OR_RETURN(struct stat st, internal::LstatAt(dirfd, name));
    if (!S_ISDIR(st.st_mode)) {
      if (!replace) return Status::IOError(n + ": mkdirat: exists and is not a directory");
      SNAP_RETURN_IF_ERROR(RemoveAt(dirfd, name));
      if (::mkdirat(dirfd, n.c_str(), 0700) != 0) return Errno(name, "mkdirat", errno);
    }
  }
  Fd fd(::openat(dirfd, n.c_str(), kOpenDirFlags));
  if (!fd.valid()) return Errno(name, "openat", errno);
  return fd;
}

Result<Fd> CreateFileAt(int dirfd, std::string_view name, bool replace) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  std::string n(name);
  Fd fd;
  auto create = [&] {
    // O_EXCL never follows a symlink, dangling or not: it reports EEXIST.
    fd = Fd(::openat(dirfd, n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    return fd.valid();
  };
  SNAP_RETURN_IF_ERROR(CreateReplacing(dirfd, name, replace, "openat", create));
  return fd;
}

Result<Fd> OpenFileForUpdateAt(int dirfd, std::string_view name) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  // Checked before opening too, so a device in the target is never opened.
  SNAP_ASSIGN_OR_RETURN(struct stat st, internal::LstatAt(dirfd, name));
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(std::string(name) + ": not a regular file");
  }
  int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  Fd fd(::openat(dirfd, std::string(name).c_str(), flags));
  if (!fd.valid() && errno == ELOOP) {
    return Status::InvalidArgument(std::string(name) + ": not a regular file");
  }
  if (!fd.valid()) return Errno(name, "openat", errno);
  SNAP_RETURN_IF_ERROR(internal::RequireRegularFile(fd.get(), name));
  return fd;
}

Status MakeSpecialAt(int dirfd, std::string_view name, const Node& node, bool replace) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  SNAP_RETURN_IF_ERROR(CheckSpecial(name, node));
  std::string n(name);
  auto create = [&] { return MakeNode(dirfd, n.c_str(), node) == 0; };
  return CreateReplacing(dirfd, name, replace, MakeNodeStep(node.type), create);
}

Status LinkAt(int existing_dirfd, std::string_view existing, int dirfd, std::string_view name,
              bool replace) {
  SNAP_RETURN_IF_ERROR(CheckName(existing));
  SNAP_RETURN_IF_ERROR(CheckName(name));
  std::string e(existing), n(name);
  // Flags 0: a symlink `existing` is linked itself, never its target.
  auto link = [&] { return ::linkat(existing_dirfd, e.c_str(), dirfd, n.c_str(), 0) == 0; };
  if (link()) return Status::OK();
  int err = errno;
  // Already one inode (a delta restore over an earlier one): removing `name`
  // first could remove the only link when both name the same entry.
  if (err == EEXIST && SameInode(existing_dirfd, existing, dirfd, name)) return Status::OK();
  return RetryAfterRemoving(dirfd, name, replace, "linkat", err, link);
}

Status RemoveAt(int dirfd, std::string_view name) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  if (::unlinkat(dirfd, std::string(name).c_str(), 0) == 0) return Status::OK();
  int err = errno;
  // Linux answers EISDIR for a directory, POSIX allows EPERM.
  if (err != EISDIR && err != EPERM) return Errno(name, "unlinkat", err);
  Result<struct stat> st = internal::LstatAt(dirfd, name);
  if (!st.ok() || !S_ISDIR(st->st_mode)) return Errno(name, "unlinkat", err);
  return RemoveTree(dirfd, name);
}

}  // namespace snap::engine::fs

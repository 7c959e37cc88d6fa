// Capture side: opening sources and describing what is in them.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "engine/fs/fs.h"
#include "engine/fs/fs_internal.h"

namespace snap::engine::fs {

using internal::CheckName;
using internal::Errno;
using snapshot::Node;
using snapshot::NodeType;

namespace {

// Opened through OpenAtNoAtime like files: listing a directory would
// otherwise bump its atime, and a changed atime changes the parent's tree ID.
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

std::optional<NodeType> TypeFromMode(mode_t mode) {
  if (S_ISREG(mode)) return NodeType::kFile;
  if (S_ISDIR(mode)) return NodeType::kDir;
  if (S_ISLNK(mode)) return NodeType::kSymlink;
  if (S_ISFIFO(mode)) return NodeType::kFifo;
  if (S_ISCHR(mode)) return NodeType::kCharDevice;
  if (S_ISBLK(mode)) return NodeType::kBlockDevice;
  if (S_ISSOCK(mode)) return NodeType::kSocket;
  return std::nullopt;
}

int64_t Nanos(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// st_size of a symlink is only a hint (0 on /proc, say), so grow until the
// target fits with room to spare, which proves it was not truncated.
Result<std::string> ReadLinkAt(int dirfd, std::string_view name, size_t hint) {
  std::string n(name);
  for (size_t size = std::max<size_t>(hint + 1, 256); size <= (1u << 20); size *= 2) {
    std::string buf(size, '\0');
    ssize_t len = ::readlinkat(dirfd, n.c_str(), buf.data(), buf.size());
    if (len < 0) return Errno(name, "readlinkat", errno);
    if (static_cast<size_t>(len) < size) {
      buf.resize(static_cast<size_t>(len));
      return buf;
    }
  }
  return Status::IOError(n + ": readlinkat: target too long");
}

// Appends the entries but "." and ".."; returns 0 or the readdir errno.
int ReadNames(DIR* dir, std::vector<std::string>* names) {
  while (true) {
    errno = 0;
    struct dirent* e = ::readdir(dir);
    if (e == nullptr) return errno;
    std::string_view n(e->d_name);
    if (n != "." && n != "..") names->emplace_back(n);
  }
}

void FillFromStat(const struct stat& st, Node* node) {
  node->mode = st.st_mode & 07777;
  node->uid = st.st_uid;
  node->gid = st.st_gid;
  node->user = internal::UserName(st.st_uid);
  node->group = internal::GroupName(st.st_gid);
  node->mtime_ns = Nanos(st.st_mtim);
  node->atime_ns = Nanos(st.st_atim);
  node->inode = st.st_ino;
  node->links = st.st_nlink;
  // A directory's st_size depends on the file system and its history, not
  // on what it holds; recording it would change tree IDs for nothing.
  if (node->type == NodeType::kFile) node->size = static_cast<uint64_t>(st.st_size);
  bool device = node->type == NodeType::kCharDevice || node->type == NodeType::kBlockDevice;
  if (device) node->rdev = st.st_rdev;
}

}  // namespace

Result<Fd> OpenDirPath(const std::string& path) {
  if (path.empty() || path.find('\0') != std::string::npos) {
    return Status::InvalidArgument("directory path \"" + path + "\": empty or contains NUL");
  }
  SNAP_ASSIGN_OR_RETURN(int fd, internal::OpenAtNoAtime(AT_FDCWD, path, kDirFlags));
  return Fd(fd);
}

Result<Fd> OpenDirAt(int dirfd, std::string_view name) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  SNAP_ASSIGN_OR_RETURN(int fd, internal::OpenAtNoAtime(dirfd, name, kDirFlags | O_NOFOLLOW));
  return Fd(fd);
}

Result<Fd> OpenFileAt(int dirfd, std::string_view name) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  // O_NONBLOCK: a file swapped for a fifo since it was listed must fail the
  // type check below, not hang the capture in open().
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  SNAP_ASSIGN_OR_RETURN(int raw, internal::OpenAtNoAtime(dirfd, name, flags));
  Fd fd(raw);
  SNAP_RETURN_IF_ERROR(internal::RequireRegularFile(fd.get(), name));
  (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);  // only advice
  return fd;
}

Result<std::vector<std::string>> ListDir(int dirfd) {
  // A dup shares the file offset with dirfd, hence the rewind; closedir()
  // closes the dup, never the caller's fd.
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return Errno("directory", "dup", errno);
  DIR* dir = ::fdopendir(dup);
  if (dir == nullptr) {
    int err = errno;
    ::close(dup);
    return Errno("directory", "fdopendir", err);
  }
  ::rewinddir(dir);
  std::vector<std::string> names;
  int err = ReadNames(dir, &names);
  ::closedir(dir);
  if (err != 0) return Errno("directory", "readdir", err);
  std::sort(names.begin(), names.end());
  return names;
}

Result<struct stat> StatAt(int dirfd, std::string_view name) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  return internal::LstatAt(dirfd, name);
}

Result<Node> NodeFromStat(int dirfd, std::string_view name, const struct stat& st) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  std::optional<NodeType> type = TypeFromMode(st.st_mode);
  if (!type) return Status::NotSupported(std::string(name) + ": unsupported file type");
  Node node;
  node.name = std::string(name);
  node.type = *type;
  FillFromStat(st, &node);
  if (node.type == NodeType::kSymlink) {
    SNAP_ASSIGN_OR_RETURN(node.link_target,
                          ReadLinkAt(dirfd, name, static_cast<size_t>(st.st_size)));
    node.size = node.link_target.size();
  }
  SNAP_ASSIGN_OR_RETURN(node.xattrs, internal::ReadXattrs(dirfd, name));
  return node;
}

}  // namespace snap::engine::fs

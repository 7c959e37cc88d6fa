// Capture side: opening sources and describing what is in them.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "engine/codec/varint.h"
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
constexpr off_t kAdviseSequentialBytes = 1 << 20;

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

// Appends the entries of `dirfd` from its current offset on, but "." and
// "..": getdents64 straight on the fd, without the dup, fstat and fcntl
// calls an opendir() would add for every directory of a capture. Returns 0
// or the errno.
int ReadNames(int dirfd, std::vector<std::string>* names) {
  alignas(struct dirent64) char buf[32768];
  while (true) {
    ssize_t n = ::getdents64(dirfd, buf, sizeof buf);
    if (n < 0) return errno;
    if (n == 0) return 0;
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const struct dirent64*>(buf + off);
      std::string_view name(e->d_name);
      if (name != "." && name != "..") names->emplace_back(name);
      off += e->d_reclen;
    }
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

Result<Fd> OpenFileAt(int dirfd, std::string_view name, struct stat* st) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  // O_NONBLOCK: a file swapped for a fifo since it was listed must fail the
  // type check below, not hang the capture in open(). It stays set: reads
  // of a regular file ignore it (ChunkStream clears it on EAGAIN, for file
  // systems that do not).
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
  SNAP_ASSIGN_OR_RETURN(int raw, internal::OpenAtNoAtime(dirfd, name, flags));
  Fd fd(raw);
  struct stat own;
  if (st == nullptr) st = &own;
  if (::fstat(fd.get(), st) != 0) return Errno(name, "fstat", errno);
  if (!S_ISREG(st->st_mode)) return Status::InvalidArgument(std::string(name) + ": not a regular file");
  // Small files fit the kernel's default read-ahead; advice would only
  // cost a system call.
  if (st->st_size >= kAdviseSequentialBytes) (void)::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

Result<std::vector<std::string>> ListDir(int dirfd) {
  // From the start whatever the fd's offset; leaves it at the end.
  if (::lseek(dirfd, 0, SEEK_SET) < 0) return Errno("directory", "lseek", errno);
  std::vector<std::string> names;
  int err = ReadNames(dirfd, &names);
  if (err != 0) return Errno("directory", "getdents64", err);
  std::sort(names.begin(), names.end());
  return names;
}

Result<struct stat> StatAt(int dirfd, std::string_view name) {
  SNAP_RETURN_IF_ERROR(CheckName(name));
  return internal::LstatAt(dirfd, name);
}

void AppendStatKey(std::string_view name, const struct stat& st, Buffer* out) {
  codec::Encoder enc(out);
  enc.PutString(name);
  enc.PutVarint(st.st_mode);  // the type, too
  enc.PutVarint(st.st_uid);
  enc.PutVarint(st.st_gid);
  enc.PutString(internal::UserName(st.st_uid));
  enc.PutString(internal::GroupName(st.st_gid));
  enc.PutSignedVarint(Nanos(st.st_mtim));
  enc.PutSignedVarint(Nanos(st.st_ctim));
  enc.PutVarint(static_cast<uint64_t>(st.st_size));
  enc.PutVarint(st.st_rdev);
  enc.PutVarint(st.st_ino);
  enc.PutVarint(st.st_nlink);
  enc.PutVarint(st.st_dev);
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

// Dirfd-relative file-system primitives for capture and restore. Every
// call takes a directory fd and one path component, never a path: restore
// cannot be steered outside its target by a hostile name or a symlink
// planted on the way (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW throughout).
//
// Errors are IOError/NotFound whose message names the component and the
// syscall. Functions are thread-safe (no shared state but the name caches).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/bytes.h"
#include "engine/result.h"
#include "engine/snapshot/tree.h"

namespace snap::engine::fs {

// An owned file descriptor; closes on destruction. Move-only.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd();
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { int f = fd_; fd_ = -1; return f; }

 private:
  int fd_ = -1;
};

// ---- capture side ----

// Opens a directory given by an ordinary path (a source root, a restore
// target). O_DIRECTORY; follows symlinks in `path` (the user named it).
Result<Fd> OpenDirPath(const std::string& path);
// Opens the subdirectory `name` of `dirfd` (O_DIRECTORY|O_NOFOLLOW).
Result<Fd> OpenDirAt(int dirfd, std::string_view name);
// Opens the regular file `name` read-only (O_NOFOLLOW|O_NOATIME when
// permitted, O_NONBLOCK left set) and advises sequential access if it is
// large. With `st`, stores the opened file's fstat there.
Result<Fd> OpenFileAt(int dirfd, std::string_view name, struct stat* st = nullptr);

// The names in a directory, excluding "." and "..", sorted bytewise.
Result<std::vector<std::string>> ListDir(int dirfd);

// The full lstat of `name` (fstatat with AT_SYMLINK_NOFOLLOW).
Result<struct stat> StatAt(int dirfd, std::string_view name);

// Appends to `out` a canonical encoding of what NodeFromStat takes from
// `st` alone (type, mode, owner ids and their names, mtime, size, rdev,
// inode, links) and of what moves whenever anything else it reads of the
// entry changes: st_ctime (xattrs and ACLs; a symlink's target never
// changes in place) and st_dev. Equal keys of one entry mean NodeFromStat
// would describe it alike. No system calls.
void AppendStatKey(std::string_view name, const struct stat& st, Buffer* out);

// Fills a Node's metadata from a stat of `name`: type, mode, uid/gid and
// their names (cached getpwuid_r/getgrgid_r), mtime/atime in ns, size, rdev,
// inode, links, symlink target (readlinkat), xattrs (listxattrat/getxattrat
// on Linux 6.13 and later, else llistxattr/lgetxattr via
// /proc/self/fd/<dirfd>/<name>; sorted; unsupported file systems give
// none). Content and subtree are left empty.
// NotSupported for a type Node cannot hold.
Result<snapshot::Node> NodeFromStat(int dirfd, std::string_view name, const struct stat& st);

// ---- restore side ----

// Creates directory `name` (mode 0700 until metadata is applied) unless it
// exists as a directory; returns it opened with O_NOFOLLOW. An existing
// non-directory (including a symlink) is removed first when `replace`.
Result<Fd> MakeDirAt(int dirfd, std::string_view name, bool replace);

// Creates (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600) regular file `name` for
// writing, first removing whatever non-directory is there when `replace`.
Result<Fd> CreateFileAt(int dirfd, std::string_view name, bool replace);
// Opens an existing regular file for in-place update (O_RDWR|O_NOFOLLOW);
// NotFound when absent, InvalidArgument when not a regular file.
Result<Fd> OpenFileForUpdateAt(int dirfd, std::string_view name);

// Creates a symlink, fifo, device or socket node as `node` describes,
// removing whatever non-directory is at `name` first when `replace`.
Status MakeSpecialAt(int dirfd, std::string_view name, const snapshot::Node& node, bool replace);
// Hard-links `name` to the already restored `existing` (both in their dirfds).
Status LinkAt(int existing_dirfd, std::string_view existing, int dirfd, std::string_view name,
              bool replace);
// Removes a file or, recursively, a directory tree (never following links).
Status RemoveAt(int dirfd, std::string_view name);

// Writes `data` at `offset`; all-zero runs become holes (skipped past the
// end of file, punched over existing data), so sparse files stay sparse and
// an in-place update leaves no stale bytes. The caller ftruncates to the
// final size so trailing holes exist.
Status WriteAt(int fd, uint64_t offset, ByteSpan data, std::string_view what);

// Applies metadata to `name` in `dirfd`: owner first (lchown; only when
// `as_root`: chown drops security.capability and setuid bits), then xattrs
// (before chmod: a read-only mode would refuse them), then mode (not for
// symlinks), then atime/mtime in ns (utimensat, AT_SYMLINK_NOFOLLOW).
// Xattrs the file system refuses are skipped and counted in
// *xattr_failures when given.
Status ApplyMetadata(int dirfd, std::string_view name, const snapshot::Node& node, bool as_root,
                     int* xattr_failures = nullptr);
// The same for the regular file `name` in `dirfd` through `fd`, open on it
// for writing (fchown, fchmod, futimens; xattrs by name).
Status ApplyFileMetadata(int dirfd, int fd, std::string_view name, const snapshot::Node& node,
                         bool as_root, int* xattr_failures = nullptr);

}  // namespace snap::engine::fs

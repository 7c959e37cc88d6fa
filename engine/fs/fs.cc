// Fd and the helpers every fs/*.cc file shares.
#include "engine/fs/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "engine/fs/fs_internal.h"

namespace snap::engine::fs {

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

namespace internal {

Status CheckName(std::string_view name) {
  // A plain loop: find_first_of would call memchr once per byte of `name`,
  // and this runs for every entry a capture lists.
  bool bad = name.empty() || name == "." || name == "..";
  for (char c : name) bad = bad || c == '/' || c == '\0';
  if (!bad) return Status::OK();
  std::string shown(name);
  for (char& c : shown) {
    if (c == '\0') c = '?';  // keep the message printable
  }
  return Status::InvalidArgument(shown + ": refusing unsafe name");
}

Status Errno(std::string_view name, std::string_view step, int err) {
  std::string what(name);
  what += ": ";
  what += step;
  return Status::FromErrno(what, err);
}

std::string ProcPath(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::string ProcPathAt(int dirfd, std::string_view name) {
  std::string p = ProcPath(dirfd);
  p += '/';
  p += name;
  return p;
}

Result<int> OpenAtNoAtime(int dirfd, std::string_view name, int flags) {
  std::string n(name);
  int fd = ::openat(dirfd, n.c_str(), flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = ::openat(dirfd, n.c_str(), flags);
  if (fd < 0) return Errno(name, "openat", errno);
  return fd;
}

Result<struct stat> LstatAt(int dirfd, std::string_view name) {
  // Called for every entry of a capture: terminate the name on the stack
  // (a component has at most NAME_MAX bytes) rather than in a new string.
  char buf[NAME_MAX + 1];
  std::string copy;
  const char* path = buf;
  if (name.size() < sizeof buf) {
    std::memcpy(buf, name.data(), name.size());
    buf[name.size()] = '\0';
  } else {
    copy = std::string(name);  // too long to exist: fstatat says so
    path = copy.c_str();
  }
  struct stat st;
  if (::fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) return Errno(name, "fstatat", errno);
  return st;
}

Status RequireRegularFile(int fd, std::string_view name) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Errno(name, "fstat", errno);
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(std::string(name) + ": not a regular file");
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return Errno(name, "fcntl", errno);
  }
  return Status::OK();
}

}  // namespace internal
}  // namespace snap::engine::fs

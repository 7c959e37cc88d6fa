// Extended attributes of `name` in `dirfd`, never following a final
// symlink: read with listxattrat/getxattrat (Linux 6.13) where the kernel
// has them, else, like every write, through /proc/self/fd/<dirfd>/<name>
// with the l*xattr() calls: they do not follow the final component, and
// the magic link pins the directory we hold open instead of resolving a
// path anyone could swap. The at-calls cost half as much: no walk through
// procfs for every entry a capture describes.
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>

#include "engine/fs/fs_internal.h"

namespace snap::engine::fs::internal {
namespace {

using snapshot::Xattr;

bool Unsupported(int err) { return err == ENOTSUP || err == EOPNOTSUPP; }

// The numbers of the unified syscall table (asm-generic and x86 alike);
// headers older than Linux 6.13 do not name them.
#if defined(SYS_listxattrat) && defined(SYS_getxattrat)
constexpr long kListXattrAt = SYS_listxattrat, kGetXattrAt = SYS_getxattrat;
#elif defined(__x86_64__) || defined(__aarch64__)
constexpr long kListXattrAt = 465, kGetXattrAt = 464;
#else
constexpr long kListXattrAt = -1, kGetXattrAt = -1;
#endif

// Set once the kernel (or a seccomp filter, which may answer EPERM) has
// refused an at-call: every later read takes the /proc path.
std::atomic<bool> at_calls_off{kListXattrAt < 0};

bool AtCallRefused(int err) { return err == ENOSYS || err == EPERM; }

struct XattrArgs {  // struct xattr_args of <linux/xattr.h>
  uint64_t value;
  uint32_t size;
  uint32_t flags;
};

// The reads of one entry's xattrs, through whichever route the kernel has.
class XattrReader {
 public:
  XattrReader(int dirfd, std::string_view name) : dirfd_(dirfd), name_(name) {}

  ssize_t List(char* buf, size_t size) {
    if (!at_calls_off.load(std::memory_order_relaxed)) {
      ssize_t n = ::syscall(kListXattrAt, dirfd_, name_.c_str(), AT_SYMLINK_NOFOLLOW, buf, size);
      if (n >= 0 || !AtCallRefused(errno)) return n;
      at_calls_off = true;
    }
    return ::llistxattr(ProcPath().c_str(), buf, size);
  }

  ssize_t Get(const char* attr, char* buf, size_t size) {
    if (!at_calls_off.load(std::memory_order_relaxed)) {
      XattrArgs args{reinterpret_cast<uintptr_t>(buf), static_cast<uint32_t>(size), 0};
      ssize_t n = ::syscall(kGetXattrAt, dirfd_, name_.c_str(), AT_SYMLINK_NOFOLLOW, attr, &args,
                            sizeof args);
      if (n >= 0 || !AtCallRefused(errno)) return n;
      at_calls_off = true;
    }
    return ::lgetxattr(ProcPath().c_str(), attr, buf, size);
  }

 private:
  const std::string& ProcPath() {
    if (proc_path_.empty()) proc_path_ = ProcPathAt(dirfd_, name_);
    return proc_path_;
  }

  const int dirfd_;
  const std::string name_;
  std::string proc_path_;
};

// Errors meaning "this file system or our privileges do not take this
// attribute" (a namespace we may not write, a value too large for the inode,
// a security.* value the kernel rejects): restore goes on without it.
bool Refused(int err) {
  return Unsupported(err) || err == EPERM || err == EACCES || err == E2BIG || err == ERANGE ||
         err == ENOSPC || err == EINVAL;
}

// Runs `call(buf, size)` (llistxattr/lgetxattr): first into a buffer on
// the stack, which holds what most entries have (nothing, or a few short
// names) in one system call; when that is too small, with a buffer sized by
// asking first, asking again when the value grew in between (ERANGE).
// Returns false with errno set on failure.
template <typename Call>
bool ReadSized(Call call, std::string* out) {
  char guess[512];
  ssize_t got = call(guess, sizeof guess);
  if (got >= 0) {
    out->assign(guess, static_cast<size_t>(got));
    return true;
  }
  if (errno != ERANGE) return false;
  for (int attempt = 0; attempt < 8; ++attempt) {
    ssize_t n = call(nullptr, 0);
    if (n < 0) return false;
    out->resize(static_cast<size_t>(n));
    n = call(out->data(), out->size());
    if (n >= 0) {
      out->resize(static_cast<size_t>(n));
      return true;
    }
    if (errno != ERANGE) return false;
  }
  errno = ERANGE;
  return false;
}

std::vector<std::string> SplitNames(const std::string& list) {
  std::vector<std::string> names;
  for (size_t pos = 0; pos < list.size();) {
    size_t end = std::min(list.find('\0', pos), list.size());
    if (end > pos) names.push_back(list.substr(pos, end - pos));
    pos = end + 1;
  }
  return names;
}

// Fills x->value; false when the attribute vanished since it was listed.
Result<bool> ReadValue(XattrReader* reader, std::string_view name, Xattr* x) {
  const char* attr = x->name.c_str();
  auto get = [&](char* b, size_t n) { return reader->Get(attr, b, n); };
  if (ReadSized(get, &x->value)) return true;
  if (errno == ENODATA) return false;
  return Errno(name, "lgetxattr " + x->name, errno);
}

}  // namespace

void UseProcPathForXattrReads(bool on) { at_calls_off = on || kListXattrAt < 0; }

Result<std::vector<Xattr>> ReadXattrs(int dirfd, std::string_view name) {
  XattrReader reader(dirfd, name);
  std::string list;
  auto ls = [&](char* b, size_t n) { return reader.List(b, n); };
  if (!ReadSized(ls, &list)) {
    if (Unsupported(errno)) return std::vector<Xattr>{};
    return Errno(name, "llistxattr", errno);
  }
  std::vector<Xattr> out;
  for (std::string& attr : SplitNames(list)) {
    Xattr x{std::move(attr), {}};
    SNAP_ASSIGN_OR_RETURN(bool present, ReadValue(&reader, name, &x));
    if (present) out.push_back(std::move(x));
  }
  std::sort(out.begin(), out.end(), [](const Xattr& a, const Xattr& b) { return a.name < b.name; });
  return out;
}

Status WriteXattrs(int dirfd, std::string_view name, const std::vector<Xattr>& xattrs,
                   int* failures) {
  std::string path = ProcPathAt(dirfd, name);
  for (const Xattr& x : xattrs) {
    // A name with a NUL cannot be passed to the kernel intact: setting its
    // prefix instead would write an attribute the snapshot never had.
    bool nameable = !x.name.empty() && x.name.find('\0') == std::string::npos;
    if (nameable &&
        ::lsetxattr(path.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0) == 0) {
      continue;
    }
    if (nameable && !Refused(errno)) return Errno(name, "lsetxattr " + x.name, errno);
    if (failures != nullptr) ++*failures;
  }
  return Status::OK();
}

}  // namespace snap::engine::fs::internal

// Extended attributes, read and written through /proc/self/fd/<dirfd>/<name>:
// Linux has no *at() xattr calls before 6.13, the l*xattr() calls do not
// follow the final component, and the magic link pins the directory we hold
// open instead of resolving a path anyone could swap.
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>

#include "engine/fs/fs_internal.h"

namespace snap::engine::fs::internal {
namespace {

using snapshot::Xattr;

bool Unsupported(int err) { return err == ENOTSUP || err == EOPNOTSUPP; }

// Errors meaning "this file system or our privileges do not take this
// attribute" (a namespace we may not write, a value too large for the inode,
// a security.* value the kernel rejects): restore goes on without it.
bool Refused(int err) {
  return Unsupported(err) || err == EPERM || err == EACCES || err == E2BIG || err == ERANGE ||
         err == ENOSPC || err == EINVAL;
}

// Runs `call(buf, size)` (llistxattr/lgetxattr) with a buffer sized by asking
// first, and asks again when the value grew in between (ERANGE). Returns
// false with errno set on failure.
template <typename Call>
bool ReadSized(Call call, std::string* out) {
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
Result<bool> ReadValue(const std::string& path, std::string_view name, Xattr* x) {
  const char* attr = x->name.c_str();
  auto get = [&](char* b, size_t n) { return ::lgetxattr(path.c_str(), attr, b, n); };
  if (ReadSized(get, &x->value)) return true;
  if (errno == ENODATA) return false;
  return Errno(name, "lgetxattr " + x->name, errno);
}

}  // namespace

Result<std::vector<Xattr>> ReadXattrs(int dirfd, std::string_view name) {
  std::string path = ProcPathAt(dirfd, name);
  std::string list;
  auto ls = [&](char* b, size_t n) { return ::llistxattr(path.c_str(), b, n); };
  if (!ReadSized(ls, &list)) {
    if (Unsupported(errno)) return std::vector<Xattr>{};
    return Errno(name, "llistxattr", errno);
  }
  std::vector<Xattr> out;
  for (std::string& attr : SplitNames(list)) {
    Xattr x{std::move(attr), {}};
    SNAP_ASSIGN_OR_RETURN(bool present, ReadValue(path, name, &x));
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

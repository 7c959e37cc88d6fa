// Helpers shared by the fs/*.cc files. Not part of the module's API.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/snapshot/tree.h"

namespace snap::engine::fs::internal {

// OK when `name` is one path component: not empty, not "." or "..", no '/'
// and no NUL. Else InvalidArgument("<name>: refusing unsafe name").
Status CheckName(std::string_view name);

// "<name>: <step>: <strerror(err)>"; NotFound for ENOENT, else IOError.
Status Errno(std::string_view name, std::string_view step, int err);

// "/proc/self/fd/<fd>", and "/proc/self/fd/<dirfd>/<name>": the only way to
// reach xattrs and chmod without following a symlink in the last component.
std::string ProcPath(int fd);
std::string ProcPathAt(int dirfd, std::string_view name);

// openat() that retries without O_NOATIME when the kernel refuses it (EPERM:
// we neither own the file nor hold CAP_FOWNER).
Result<int> OpenAtNoAtime(int dirfd, std::string_view name, int flags);

// fstatat(AT_SYMLINK_NOFOLLOW); errors name `name` and "fstatat".
Result<struct stat> LstatAt(int dirfd, std::string_view name);

// For an fd opened with O_NONBLOCK (so that a fifo or device swapped in for
// the file cannot block open()): InvalidArgument unless it is a regular
// file, else clears O_NONBLOCK.
Status RequireRegularFile(int fd, std::string_view name);

// Names of uid/gid from the system's databases, cached for the process's
// lifetime; empty when unknown. Thread-safe.
std::string UserName(uid_t uid);
std::string GroupName(gid_t gid);

// The extended attributes of `name` (not following a final symlink), sorted
// by name; none when the file system does not support them.
Result<std::vector<snapshot::Xattr>> ReadXattrs(int dirfd, std::string_view name);

// Tests: makes ReadXattrs take the /proc path (as on kernels before 6.13)
// when `on`; else the at-calls where the kernel has them.
void UseProcPathForXattrReads(bool on);

// Sets each of `xattrs` on `name` (not following a final symlink). Those the
// file system or our privileges refuse are counted in *failures and skipped.
Status WriteXattrs(int dirfd, std::string_view name, const std::vector<snapshot::Xattr>& xattrs,
                   int* failures);

}  // namespace snap::engine::fs::internal

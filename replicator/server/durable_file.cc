#include "replicator/server/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace snap::replicator::server {
namespace {

using engine::Status;

std::string RandomSuffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(rng());
}

Status WriteAll(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno("write", errno);
    text.remove_prefix(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(dir + ": open directory", errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? Status::OK() : Status::FromErrno(dir + ": fsync directory", err);
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view text, mode_t mode) {
  std::string tmp = path + ".tmp-" + RandomSuffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Status::FromErrno(tmp + ": create", errno);
  Status s = WriteAll(fd, text);
  if (s.ok() && ::fsync(fd) != 0) s = Status::FromErrno("fsync", errno);
  if (::close(fd) != 0 && s.ok()) s = Status::FromErrno("close", errno);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = Status::FromErrno("rename", errno);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s.WithContext(path);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDir(dir.empty() ? "." : dir);
}

engine::Result<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": cannot read");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  return ss.str();
}

Status ProbeWritable(const std::string& dir) {
  std::string probe = dir + "/.health-probe-" + RandomSuffix();
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(dir + ": cannot create a file", errno);
  Status s = WriteAll(fd, "ok\n");
  ::close(fd);
  if (::unlink(probe.c_str()) != 0 && s.ok()) s = Status::FromErrno("remove probe", errno);
  return s.ok() ? s : s.WithContext(dir);
}

}  // namespace snap::replicator::server

#include "replicator/server/repo_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace snap::replicator::server {
namespace {

using engine::Result;
using engine::Status;

std::string LockPath(const std::string& repo_dir) { return repo_dir + "/lock"; }

// "gc 1234" -> "gc (pid 1234)"
std::string Describe(const std::string& text) {
  size_t space = text.find(' ');
  if (text.empty() || space == std::string::npos) return text;
  return text.substr(0, space) + " (pid " + text.substr(space + 1) + ")";
}

std::string HolderText(const std::string& holder) {
  return holder + " " + std::to_string(::getpid());
}

std::string FirstLine(const std::string& repo_dir) {
  std::ifstream in(LockPath(repo_dir));
  std::string line;
  std::getline(in, line);
  return line;
}

void WriteHolder(int fd, const std::string& holder) {
  std::string text = HolderText(holder) + "\n";
  // Informational only: a failure here takes nothing away from the flock.
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, text.data(), text.size(), 0);
}

}  // namespace

std::string RepoLock::HeldBy(const std::string& repo_dir) { return Describe(FirstLine(repo_dir)); }

bool RepoLock::LastTakenByUs(const std::string& repo_dir, const std::string& holder) {
  return FirstLine(repo_dir) == HolderText(holder);
}

Result<std::unique_ptr<RepoLock>> RepoLock::Acquire(
    const std::string& repo_dir, const std::string& holder, bool wait,
    const std::function<void(const std::string& held_by)>& on_wait) {
  const std::string path = LockPath(repo_dir);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Status::FromErrno(path + ": open", errno);
  std::unique_ptr<RepoLock> lock(new RepoLock(fd));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Status::FromErrno(path + ": flock", errno);
    std::string held_by = HeldBy(repo_dir);
    if (!wait)
      return Status::Unavailable(repo_dir + ": in use by " +
                                 (held_by.empty() ? std::string("another process") : held_by));
    if (on_wait) on_wait(held_by);
    int rc;
    do {
      rc = ::flock(fd, LOCK_EX);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) return Status::FromErrno(path + ": flock", errno);
  }
  WriteHolder(fd, holder);
  return lock;
}

RepoLock::~RepoLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor releases the flock
}

}  // namespace snap::replicator::server

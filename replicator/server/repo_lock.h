// RepoLock: exclusive use of one repository of a replica directory
// (FORMAT.md "Replica retention and gc", "Who holds a repository"). An
// flock(2) on DIR/repos/<id>/lock: `replicad serve` holds it while any
// session uses the repository, an admin command (forget, gc, check) for its
// whole run, so the two never work on one repository at once. The kernel
// drops it when its holder dies, so a crash leaves nothing to clean up.
//
// The file's text ("<holder> <pid>\n") only names the holder for messages;
// the flock is what counts. The file is never deleted (deleting a lock file
// races with a process that has it open and is about to lock it).
//
// Thread-compatible. Within one process two RepoLocks of one repository
// exclude each other too (each has its own open file description).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "engine/result.h"

namespace snap::replicator::server {

class RepoLock {
 public:
  // Locks `repo_dir`/lock (created 0600 when absent; `repo_dir` must
  // exist) on behalf of `holder` ("serve", "gc", ...). Without `wait`,
  // Unavailable "<repo_dir>: in use by <holder> (pid N)" when another
  // holds it. With `wait`, blocks until it is free, calling `on_wait` once
  // with the holder's text first when it has to wait.
  static engine::Result<std::unique_ptr<RepoLock>> Acquire(
      const std::string& repo_dir, const std::string& holder, bool wait,
      const std::function<void(const std::string& held_by)>& on_wait = {});
  ~RepoLock();  // releases it
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;

  // The holder's text of a lock file ("gc (pid 12)"), "" when unknown.
  static std::string HeldBy(const std::string& repo_dir);
  // Whether this process, as `holder`, was the last to take the lock: when
  // not, another process has had the repository since.
  static bool LastTakenByUs(const std::string& repo_dir, const std::string& holder);

 private:
  explicit RepoLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace snap::replicator::server

// Subprocess: runs a shell command (/bin/sh -c) for dumps, hooks and
// restore commands, with its stdout and/or stdin piped to us and its
// stderr forwarded to ours while the last lines are kept for messages.
// Not thread-safe; one object per child.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <thread>

#include "engine/result.h"

namespace snap::engine::exec {

struct SpawnOptions {
  bool pipe_stdout = false;  // else inherited
  bool pipe_stdin = false;   // else /dev/null
  std::string stderr_prefix;  // forwarded stderr lines start with this
  std::string cwd;            // empty: ours
};

class Subprocess {
 public:
  static Result<std::unique_ptr<Subprocess>> Spawn(const std::string& command,
                                                   const SpawnOptions& opts);
  ~Subprocess();  // kills (SIGTERM) and reaps a child still running

  int stdout_fd() const { return stdout_fd_; }  // -1 unless piped
  int stdin_fd() const { return stdin_fd_; }    // -1 unless piped
  void CloseStdin();
  // Waits for the child; returns its exit status, or 128 + signal number.
  Result<int> Wait();
  // Sends SIGTERM (e.g. when we stop reading a dump halfway).
  void Terminate();
  // The last lines the child wrote to stderr (at most ~4 KiB).
  std::string StderrTail() const;

 private:
  Subprocess() = default;
  void ForwardStderr(int fd);

  pid_t pid_ = -1;
  int stdout_fd_ = -1, stdin_fd_ = -1;
  std::string prefix_;
  std::thread stderr_thread_;
  mutable std::mutex mu_;
  std::string tail_;  // guarded by mu_
};

// Runs a command to completion with inherited stdout; OK only when it exits
// 0. The error names `what`, the status and the command's last stderr lines.
Status RunCommand(const std::string& command, const std::string& what,
                  const std::string& cwd = "");

// "exited with status 2: <last stderr lines>" for messages.
std::string DescribeExit(int status, const std::string& tail);

}  // namespace snap::engine::exec

// Helpers for end-to-end tests that drive the real snapctl binary.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace snap::test {

struct CmdResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs `cmd` with /bin/sh, capturing stdout and stderr.
CmdResult Sh(const std::string& cmd);

// Single-quotes `s` for the shell.
std::string Quote(const std::string& s);

// A repository in a fresh temp dir plus a snapctl command prefix for it.
// The key directory lives inside too, so tests never touch $HOME.
class Repo {
 public:
  explicit Repo(const std::string& dir, bool encrypted = true);
  // Runs `snapctl --repo DIR <args>`.
  CmdResult Run(const std::string& args) const;
  // Runs with --json and parses stdout; fails the test when it exits non-zero.
  nlohmann::json Json(const std::string& args) const;
  const std::string& dir() const { return dir_; }
  std::string env() const;

 private:
  std::string dir_, keys_;
};

// Builds a tree under `root` holding every kind of entry snapctl keeps:
// regular files (empty, small, large random, sparse), nested directories,
// symlinks (relative, absolute, dangling), hardlinks, a fifo, a socket, a
// device node (when root), xattrs (when the fs takes them), odd modes
// (setuid, sticky), nanosecond mtimes, names with spaces, newlines and
// invalid UTF-8, and files owned by another user (when root).
void MakeEveryKindTree(const std::string& root);

// Writes `size` bytes of deterministic pseudo-random data seeded by `seed`.
void WriteRandomFile(const std::string& path, size_t size, uint32_t seed);

// rsync -aHAXn --itemize-changes src/ dst/ (plus --delete, so extra files
// show); returns its output (empty when identical).
std::string RsyncDiff(const std::string& src, const std::string& dst);

// Total bytes of all files below `dir`.
uint64_t DirBytes(const std::string& dir);

std::string Bin();  // path of the snapctl binary under test

// `s` without trailing newlines and spaces (a command's one-line output).
std::string Trim(std::string s);

// ---- fault injection ----

// Trials of a fault test: $SNAPCTL_FAULT_TRIALS when set (a long run sets
// hundreds), else `fallback`.
int FaultTrials(int fallback);

// Starts `cmd`, "[VAR=value ...] program [args]" as the shell reads it, in
// the background, its stdout to /dev/null and its stderr to `err_path`
// (/dev/null when empty). The program replaces the shell, so the pid is its
// own: a SIGKILL hits it, not a shell around it.
pid_t SpawnShell(const std::string& cmd, const std::string& err_path = "");
// Waits for `pid`; its exit code, or 128+signal when a signal ended it.
int WaitExit(pid_t pid);

// Flips bit `bit` (0-7) of the byte at `offset` of `path`.
void FlipBit(const std::string& path, uint64_t offset, int bit);
std::string ReadBytes(const std::string& path);

// Regular files below `dir` (recursively), sorted.
std::vector<std::string> FilesUnder(const std::string& dir);

// Files in `out` that look restored (same size and mtime as their
// counterpart in `src`) yet hold other bytes: data written silently wrong.
// A file a failed restore left half written keeps another mtime, so it is
// not listed. Relative paths.
std::vector<std::string> SilentlyWrongFiles(const std::string& src, const std::string& out);

}  // namespace snap::test

#include "engine/exec/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace snap::engine::exec {
namespace {

constexpr size_t kTailBytes = 4096;

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

[[noreturn]] void ExecChild(const std::string& command, const SpawnOptions& opts, int out_w,
                            int in_r, int err_w) {
  if (in_r < 0) in_r = ::open("/dev/null", O_RDONLY);
  ::dup2(in_r, STDIN_FILENO);
  if (out_w >= 0) ::dup2(out_w, STDOUT_FILENO);
  ::dup2(err_w, STDERR_FILENO);
  if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) _exit(126);
  ::signal(SIGPIPE, SIG_DFL);
  ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
  _exit(127);
}

}  // namespace

Result<std::unique_ptr<Subprocess>> Subprocess::Spawn(const std::string& command,
                                                      const SpawnOptions& opts) {
  int out[2] = {-1, -1}, in[2] = {-1, -1}, err[2] = {-1, -1};
  if ((opts.pipe_stdout && ::pipe2(out, O_CLOEXEC) != 0) ||
      (opts.pipe_stdin && ::pipe2(in, O_CLOEXEC) != 0) || ::pipe2(err, O_CLOEXEC) != 0)
    return Status::FromErrno("pipe", errno);
  pid_t pid = ::fork();
  if (pid < 0) return Status::FromErrno("fork", errno);
  if (pid == 0) ExecChild(command, opts, out[1], in[0], err[1]);
  std::unique_ptr<Subprocess> p(new Subprocess());
  p->pid_ = pid;
  p->prefix_ = opts.stderr_prefix;
  CloseFd(&out[1]);
  CloseFd(&in[0]);
  CloseFd(&err[1]);
  p->stdout_fd_ = out[0];
  p->stdin_fd_ = in[1];
  int err_r = err[0];
  Subprocess* raw = p.get();
  p->stderr_thread_ = std::thread([raw, err_r] { raw->ForwardStderr(err_r); });
  return p;
}

Subprocess::~Subprocess() {
  if (pid_ > 0) {
    Terminate();
    (void)Wait();
  }
  CloseFd(&stdout_fd_);
  CloseFd(&stdin_fd_);
  if (stderr_thread_.joinable()) stderr_thread_.join();
}

void Subprocess::CloseStdin() { CloseFd(&stdin_fd_); }

void Subprocess::Terminate() {
  if (pid_ > 0) ::kill(pid_, SIGTERM);
}

Result<int> Subprocess::Wait() {
  CloseStdin();
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return Status::FromErrno("waitpid", errno);
  pid_ = -1;
  if (stderr_thread_.joinable()) stderr_thread_.join();
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

void Subprocess::ForwardStderr(int fd) {
  char buf[4096];
  std::string line;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mu_);
    tail_.append(buf, static_cast<size_t>(n));
    if (tail_.size() > 2 * kTailBytes) tail_.erase(0, tail_.size() - kTailBytes);
    for (ssize_t i = 0; i < n; ++i) {
      line.push_back(buf[i]);
      if (buf[i] == '\n') {
        std::string out = prefix_ + line;
        (void)!::write(STDERR_FILENO, out.data(), out.size());
        line.clear();
      }
    }
  }
  if (!line.empty()) {
    std::string out = prefix_ + line + "\n";
    (void)!::write(STDERR_FILENO, out.data(), out.size());
  }
  ::close(fd);
}

std::string Subprocess::StderrTail() const {
  std::string t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t = tail_.size() > kTailBytes ? tail_.substr(tail_.size() - kTailBytes) : tail_;
  }
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  // The last six lines are what explains a failure.
  size_t pos = t.size();
  for (int lines = 0; lines < 6 && pos != std::string::npos && pos > 0; ++lines)
    pos = t.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? t : t.substr(pos + 1);
}

std::string DescribeExit(int status, const std::string& tail) {
  std::string s = status > 128 ? "was killed by signal " + std::to_string(status - 128)
                               : "exited with status " + std::to_string(status);
  if (!tail.empty()) s += "; its last output:\n  " + tail;
  return s;
}

Status RunCommand(const std::string& command, const std::string& what, const std::string& cwd) {
  SpawnOptions opts;
  opts.cwd = cwd;
  opts.stderr_prefix = "[" + what + "] ";
  SNAP_ASSIGN_OR_RETURN(auto p, Subprocess::Spawn(command, opts));
  SNAP_ASSIGN_OR_RETURN(int status, p->Wait());
  if (status != 0)
    return Status::Aborted(what + " (" + command + ") " + DescribeExit(status, p->StderrTail()));
  return Status::OK();
}

}  // namespace snap::engine::exec

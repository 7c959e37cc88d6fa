#include "tests/support/e2e_util.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

namespace snap::test {
namespace fsys = std::filesystem;

#ifndef SNAPCTL_BIN
#define SNAPCTL_BIN "snapctl"
#endif

std::string Bin() { return SNAPCTL_BIN; }

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CmdResult Sh(const std::string& cmd) {
  char err_path[] = "/tmp/snapctl-stderr-XXXXXX";
  int efd = mkstemp(err_path);
  std::string full = "(" + cmd + ") 2>" + err_path;
  CmdResult r;
  FILE* p = popen(full.c_str(), "r");
  std::array<char, 65536> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream in(err_path);
  r.err.assign(std::istreambuf_iterator<char>(in), {});
  close(efd);
  unlink(err_path);
  return r;
}

Repo::Repo(const std::string& dir, bool encrypted) : dir_(dir + "/repo"), keys_(dir + "/keys") {
  CmdResult r = Run(std::string("init") + (encrypted ? "" : " --no-encryption"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

std::string Repo::env() const {
  std::string base = keys_.substr(0, keys_.size() - 5);  // the test's dir
  return "SNAPCTL_KEY_DIR=" + Quote(keys_) + " SNAPCTL_IDENTITY_DIR=" + Quote(base + "/identity") +
         " SNAPCTL_CACHE_DIR=" + Quote(base + "/cache") + " ";
}

CmdResult Repo::Run(const std::string& args) const {
  return Sh(env() + Quote(Bin()) + " --repo " + Quote(dir_) + " " + args);
}

nlohmann::json Repo::Json(const std::string& args) const {
  CmdResult r = Run("--json " + args);
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
  try {
    return nlohmann::json::parse(r.out);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "bad json from " << args << ": " << e.what() << "\n" << r.out;
    return {};
  }
}

void WriteRandomFile(const std::string& path, size_t size, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::string data(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, std::min<size_t>(8, size - i));
  }
  std::ofstream(path, std::ios::binary) << data;
}

namespace {

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

void SetMtime(const std::string& path, int64_t sec, long nsec) {
  struct timespec ts[2] = {{sec, nsec}, {sec, nsec}};
  utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW);
}

void MakeSocket(const std::string& path) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  if (path.size() < sizeof addr.sun_path)
    (void)bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  close(fd);
}

}  // namespace

void MakeEveryKindTree(const std::string& root) {
  fsys::create_directories(root + "/docs/deep/er/still");
  fsys::create_directories(root + "/media");
  fsys::create_directories(root + "/empty dir");
  WriteText(root + "/docs/readme.txt", "hello, snapshot\n");
  WriteText(root + "/docs/empty", "");
  WriteText(root + "/docs/deep/er/still/leaf.txt", std::string(10000, 'x'));
  WriteRandomFile(root + "/media/photo.jpg", 3 << 20, 1);
  WriteRandomFile(root + "/media/clip.bin", 700000, 2);
  // Sparse: 8 MiB with data only at both ends.
  {
    int fd = open((root + "/media/sparse.img").c_str(), O_CREAT | O_WRONLY, 0644);
    (void)pwrite(fd, "head", 4, 0);
    (void)pwrite(fd, "tail", 4, (8 << 20) - 4);
    close(fd);
  }
  WriteText(root + "/name with space", "s");
  WriteText(root + "/new\nline", "n");
  WriteText(root + "/bad-utf8-\xff\xfe", "u");
  WriteText(root + "/setuid-prog", "#!/bin/sh\n");
  chmod((root + "/setuid-prog").c_str(), 04755);
  fsys::create_directories(root + "/sticky");
  chmod((root + "/sticky").c_str(), 01777);
  symlink("docs/readme.txt", (root + "/rel-link").c_str());
  symlink("/etc/hostname", (root + "/abs-link").c_str());
  symlink("does/not/exist", (root + "/dangling-link").c_str());
  link((root + "/docs/readme.txt").c_str(), (root + "/hard-1").c_str());
  link((root + "/docs/readme.txt").c_str(), (root + "/media/hard-2").c_str());
  mkfifo((root + "/fifo").c_str(), 0640);
  MakeSocket(root + "/sock");
  if (geteuid() == 0) {
    mknod((root + "/null-dev").c_str(), S_IFCHR | 0666, makedev(1, 3));
    WriteText(root + "/owned-by-nobody", "o");
    lchown((root + "/owned-by-nobody").c_str(), 65534, 65534);
    lchown((root + "/rel-link").c_str(), 65534, 65534);
  }
  const char* v = "value";
  setxattr((root + "/docs/readme.txt").c_str(), "user.origin", v, 5, 0);
  setxattr((root + "/media").c_str(), "user.kind", "dir", 3, 0);
  SetMtime(root + "/docs/readme.txt", 1700000000, 123456789);
  SetMtime(root + "/media/photo.jpg", 1600000000, 1);
  SetMtime(root + "/rel-link", 1650000000, 999);
  SetMtime(root + "/docs", 1690000000, 42);
}

std::string RsyncDiff(const std::string& src, const std::string& dst) {
  CmdResult r = Sh("rsync -aHAXn --delete --itemize-changes " + Quote(src + "/") + " " +
                   Quote(dst + "/"));
  if (r.exit_code != 0) return "rsync failed: " + r.err;
  return r.out;
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fsys::recursive_directory_iterator(dir))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}

int FaultTrials(int fallback) {
  const char* v = std::getenv("SNAPCTL_FAULT_TRIALS");
  return v && *v ? std::max(1, std::atoi(v)) : fallback;
}

pid_t SpawnShell(const std::string& cmd, const std::string& err_path) {
  // Built before fork: the child of a threaded test must not allocate.
  // `exec VAR=value cmd` is "VAR=value: not found" to dash; env(1) takes
  // the assignments and execs the command in the same process.
  std::string line = "exec env " + cmd + " >/dev/null 2>" +
                     Quote(err_path.empty() ? "/dev/null" : err_path);
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", line.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int WaitExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void FlipBit(const std::string& path, uint64_t offset, int bit) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ (1 << bit)));
  EXPECT_TRUE(f.good()) << "flipping a bit of " << path << " at " << offset;
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fsys::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file() && !e.is_symlink()) out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> SilentlyWrongFiles(const std::string& src, const std::string& out) {
  std::vector<std::string> wrong;
  for (const std::string& got : FilesUnder(out)) {
    std::string rel = got.substr(out.size() + 1);
    struct stat a, b;
    if (lstat((src + "/" + rel).c_str(), &a) != 0 || lstat(got.c_str(), &b) != 0) continue;
    bool looks_done = a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
                      a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
    if (looks_done && ReadBytes(src + "/" + rel) != ReadBytes(got)) wrong.push_back(rel);
  }
  return wrong;
}

}  // namespace snap::test

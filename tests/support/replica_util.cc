#include "tests/support/replica_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#ifndef REPLICAD_BIN
#define REPLICAD_BIN "replicad"
#endif

namespace snap::test {
namespace {

int ListenLoopback(uint16_t* port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

int ConnectLoopback(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

std::string ReplicadBin() { return REPLICAD_BIN; }

Replicad::Replicad(const std::string& dir) : dir_(dir), log_path_(dir + ".log") {
  CmdResult r = Sh(Quote(ReplicadBin()) + " init --dir " + Quote(dir_));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  CmdResult f = Run("fingerprint");
  EXPECT_EQ(f.exit_code, 0) << f.err;
  fingerprint_ = Trim(f.out);
}

Replicad::~Replicad() {
  if (pid_ > 0) Stop();
}

CmdResult Replicad::Run(const std::string& args) const {
  return Sh(Quote(ReplicadBin()) + " " + args + " --dir " + Quote(dir_));
}

void Replicad::AllowPush(const std::string& key) const {
  CmdResult r = Run("allow " + Quote(key));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

void Replicad::AllowRead(const std::string& key, const std::string& repo_id) const {
  CmdResult r = Run("allow " + Quote(key) + " --read-only --repo " + repo_id);
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

std::string Replicad::log() const {
  std::ifstream in(log_path_);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Replicad::Start(const std::vector<std::string>& extra_args) {
  ASSERT_LT(pid_, 0) << "already started";
  int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  ASSERT_GE(log_fd, 0);
  off_t start = ::lseek(log_fd, 0, SEEK_END);
  // Built before fork: the child of a threaded test must not allocate.
  std::string bin = ReplicadBin();
  std::vector<const char*> argv = {bin.c_str(), "serve",       "--dir",  dir_.c_str(),
                                   "--listen",  "127.0.0.1:0", "--http", "127.0.0.1:0"};
  for (const std::string& a : extra_args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(log_fd, 2);
    execv(bin.c_str(), const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  ::close(log_fd);
  static const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  static const std::regex http("http on 127\\.0\\.0\\.1:([0-9]+)");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = log().substr(static_cast<size_t>(start));
    std::smatch m, h;
    if (std::regex_search(text, m, listening) && std::regex_search(text, h, http)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1]));
      http_port_ = static_cast<uint16_t>(std::stoi(h[1]));
      return;
    }
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL() << "replicad serve exited early:\n" << text;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL() << "replicad serve did not report its port within 20 s:\n" << log();
}

int Replicad::Stop() {
  if (pid_ <= 0) return -1;
  ::kill(pid_, SIGTERM);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Replicad::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

CutProxy::CutProxy(uint16_t target_port) : target_port_(target_port) {
  listen_fd_ = ListenLoopback(&port_);
  EXPECT_GE(listen_fd_, 0);
  thread_ = std::thread([this] { Loop(); });
}

CutProxy::~CutProxy() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

// One connection at a time is all a replicate run opens.
void CutProxy::Loop() {
  while (!stop_) {
    pollfd lp{listen_fd_, POLLIN, 0};
    if (::poll(&lp, 1, 50) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    int server = ConnectLoopback(target_port_);
    if (server < 0) {
      ::close(client);
      continue;
    }
    uint64_t forwarded = 0, limit = cut_after_;
    std::vector<char> buf(16384);
    bool open = true;
    while (open && !stop_) {
      pollfd fds[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(fds, 2, 50) <= 0) continue;
      for (int i = 0; i < 2 && open; i++) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
        if (n <= 0) {
          open = false;
          break;
        }
        size_t len = static_cast<size_t>(n);
        if (i == 0 && limit && forwarded + len >= limit) {
          len = limit - forwarded;  // pass up to the cut, then drop the line
          open = false;
          cuts_++;
        }
        if (len && ::write(fds[1 - i].fd, buf.data(), len) != static_cast<ssize_t>(len)) open = false;
        if (i == 0) forwarded += len;
      }
    }
    ::close(client);
    ::close(server);
  }
}

std::string HttpGet(uint16_t port, const std::string& path) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return "connect failed";
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) return "write failed";
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<size_t>(n));
  ::close(fd);
  size_t sp = resp.find(' ');
  size_t body = resp.find("\r\n\r\n");
  if (sp == std::string::npos || body == std::string::npos) return "bad response: " + resp;
  return resp.substr(sp + 1, 3) + "\n" + resp.substr(body + 4);
}

}  // namespace snap::test

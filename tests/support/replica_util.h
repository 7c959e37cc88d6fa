// Helpers for end-to-end tests with a real replicad on loopback.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/e2e_util.h"

namespace snap::test {

std::string ReplicadBin();

// A replicad directory plus, once started, its `serve` process on
// 127.0.0.1 with ephemeral ports. Stopped (SIGTERM, then waited for) by
// Stop() or the destructor.
class Replicad {
 public:
  explicit Replicad(const std::string& dir);  // runs `replicad init`
  ~Replicad();
  CmdResult Run(const std::string& args) const;  // replicad <args> --dir DIR
  const std::string& fingerprint() const { return fingerprint_; }
  const std::string& dir() const { return dir_; }
  // Admits `client_key` ("push", or read-only for one repository).
  void AllowPush(const std::string& client_key) const;
  void AllowRead(const std::string& client_key, const std::string& repo_id) const;

  // Starts serving; waits (bounded) for the "listening on" line.
  // `extra_args` go to `serve` after the defaults (e.g. "--handshake-timeout", "1").
  void Start(const std::vector<std::string>& extra_args = {});
  // SIGTERM and wait; returns the exit status (as from waitpid's WEXITSTATUS,
  // 128+signal when killed).
  int Stop();
  void Kill();  // SIGKILL and wait
  uint16_t port() const { return port_; }
  uint16_t http_port() const { return http_port_; }
  std::string url() const { return "replica://127.0.0.1:" + std::to_string(port_); }
  std::string log() const;  // what it wrote to stderr so far

 private:
  std::string dir_, log_path_, fingerprint_;
  pid_t pid_ = -1;
  uint16_t port_ = 0, http_port_ = 0;
};

// A TCP proxy on 127.0.0.1 in front of `target_port` that cuts each
// connection once it forwarded `cut_after` bytes from the client (0: never).
// Counts the bytes each way. One thread, poll()-driven.
class CutProxy {
 public:
  explicit CutProxy(uint16_t target_port);
  ~CutProxy();
  uint16_t port() const { return port_; }
  std::string url() const { return "replica://127.0.0.1:" + std::to_string(port_); }
  void set_cut_after(uint64_t bytes) { cut_after_ = bytes; }
  uint64_t cuts() const { return cuts_; }

 private:
  void Loop();
  int listen_fd_ = -1;
  uint16_t port_ = 0, target_port_;
  std::atomic<uint64_t> cut_after_{0}, cuts_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// GET http://127.0.0.1:port/path with a raw socket: "<status>\n<body>".
std::string HttpGet(uint16_t port, const std::string& path);

}  // namespace snap::test

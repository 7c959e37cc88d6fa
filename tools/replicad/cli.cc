#include "tools/replicad/cli.h"

#include <cstdio>
#include <ctime>
#include <iostream>

#include "replicator/server/replica_store.h"

namespace snap::replicad {

int RunCli(int argc, char** argv) {
  CLI::App app{"replicad: the replica daemon of snapctl (append-only, TLS 1.3, mutual keys)"};
  app.require_subcommand(1);
  Globals g;
  RegisterInit(app, g);
  RegisterAllow(app, g);
  RegisterServe(app, g);
  RegisterList(app, g);
  RegisterForget(app, g);
  RegisterGc(app, g);
  RegisterCheck(app, g);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  try {
    if (!g.run) return kExitUsage;
    return g.run();
  } catch (const std::exception& e) {
    std::cerr << "replicad: " << e.what() << "\n";
    return kExitFailure;
  }
}

int Fail(const engine::Status& s) {
  std::cerr << "replicad: " << s.message() << "\n";
  return s.IsNotFound() ? kExitNotFound : kExitFailure;
}

int UsageError(const std::string& message) {
  std::cerr << "replicad: " << message << "\n";
  return kExitUsage;
}

engine::Result<HostPort> ParseHostPort(const std::string& text) {
  auto bad = [&] {
    return engine::Status::InvalidArgument(
        "'" + text + "': expected HOST:PORT, e.g. 0.0.0.0:7411 or [::1]:7411");
  };
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return bad();
  HostPort hp;
  hp.host = text.substr(0, colon);
  if (hp.host.front() == '[') {
    if (hp.host.size() < 3 || hp.host.back() != ']') return bad();
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  } else if (hp.host.find(':') != std::string::npos) {
    return bad();  // a bare IPv6 address needs brackets
  }
  std::string port = text.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return bad();
  unsigned long n = std::stoul(port);
  if (n > 65535) return bad();
  hp.port = static_cast<uint16_t>(n);
  return hp;
}

std::string FormatHostPort(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

engine::Result<std::unique_ptr<replicator::server::ReplicaRepo>> ReplicaForAdmin(
    const std::string& dir, const std::string& repo, const std::string& verb, bool dry_run) {
  replicator::server::RepoOptions opts;
  opts.read_only = dry_run;
  opts.lock_holder = verb;
  opts.wait_for_lock = true;
  opts.on_lock_wait = [repo](const std::string& held_by) {
    std::cerr << "replicad: repository " << repo << " is in use by "
              << (held_by.empty() ? "another process" : held_by)
              << "; waiting until its sessions end\n";
  };
  return replicator::server::ReplicaStore::OpenForAdmin(dir, repo, opts);
}

std::string FormatTime(int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace snap::replicad

// ReplicaStore: a replica directory (FORMAT.md "Replica directory"):
//
//   DIR/identity/cert.pem, key.pem   the replica's TLS identity
//   DIR/clients                      the admission list (clients_file.h)
//   DIR/repos/<repository id>/       one ReplicaRepo each
//
// Opens every repository at start (so /metrics shows each from the first
// scrape) and caches them, creates new ones, grants at most one push lease
// per repository, and answers the health probe.
//
// Thread-safe: sessions on pool threads share one ReplicaStore.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "replicator/net/tls_identity.h"
#include "replicator/server/clients_file.h"
#include "replicator/server/metrics.h"
#include "replicator/server/replica_repo.h"

namespace snap::replicator::server {

class ReplicaStore;

struct StoreOptions {
  // Opens each repository's index without its lock, for `replicad list`
  // beside a running `replicad serve`. Creating repositories then fails.
  bool read_only = false;
  // The replica's clock, ns since the Unix epoch; the system clock when empty.
  std::function<int64_t()> now_ns;
};

// The right to push to one repository, held by one session at a time.
// Move-only; released when destroyed. REQUIRES: the store outlives it.
class PushLease {
 public:
  PushLease(PushLease&& other) noexcept;
  PushLease& operator=(PushLease&& other) noexcept;
  PushLease(const PushLease&) = delete;
  PushLease& operator=(const PushLease&) = delete;
  ~PushLease();
  const RepoId& id() const { return id_; }

 private:
  friend class ReplicaStore;
  PushLease(ReplicaStore* store, const RepoId& id) : store_(store), id_(id) {}
  void Release();

  ReplicaStore* store_ = nullptr;
  RepoId id_{};
};

class ReplicaStore {
 public:
  // Creates a replica directory at `dir`, which must be absent or empty: a
  // new identity, an empty admission list and repos/. Returns the
  // identity's fingerprint. InvalidArgument when `dir` is not empty.
  static Result<std::string> Init(const std::string& dir);
  // Opens a replica directory and every repository in it. NotFound "DIR:
  // not a replica directory (run replicad init --dir DIR)" when it is not
  // one; a repository that fails to open fails the whole open, naming it.
  static Result<std::unique_ptr<ReplicaStore>> Open(const std::string& dir,
                                                    const StoreOptions& opts = {});
  // DIR/clients, without opening anything (for `replicad allow` beside a
  // running replica). NotFound as Open's when `dir` is no replica directory.
  static Result<std::string> ClientsFilePath(const std::string& dir);
  ~ReplicaStore();

  const std::string& dir() const { return dir_; }
  Result<net::TlsIdentity> LoadIdentity() const;
  // The admission list as of now (re-read when the file changed).
  Result<std::shared_ptr<const ClientList>> Clients() { return clients_.Current(); }
  Metrics& metrics() { return metrics_; }
  int64_t NowNs() const;

  // The repository, or nullptr when the replica does not hold it.
  Result<std::shared_ptr<ReplicaRepo>> Find(const RepoId& id);
  // Creates the lease's repository from a client's config object with
  // `owner` as its owner (ReplicaRepo::Create).
  Result<std::shared_ptr<ReplicaRepo>> Create(const PushLease& lease, ByteSpan config_bytes,
                                              const std::string& owner);
  // The push lease of `id`. Unavailable "repository <id> is busy with
  // another push; retry later" while another session holds it.
  Result<PushLease> AcquirePush(const RepoId& id);
  // Every repository held, by ID.
  std::vector<std::shared_ptr<ReplicaRepo>> Repos() const;

  // OK when the directory takes writes (a probe file is created and
  // removed in DIR and DIR/repos); else the reason.
  Status CheckHealth() const;
  // The Prometheus text of metrics() and every repository's gauges.
  std::string MetricsText() const;

 private:
  friend class PushLease;
  ReplicaStore(std::string dir, const StoreOptions& opts);
  std::string RepoDir(const RepoId& id) const;
  Status OpenAll();
  void ReleasePush(const RepoId& id);

  const std::string dir_;
  const StoreOptions opts_;
  ClientsFile clients_;
  Metrics metrics_;

  mutable std::mutex mu_;
  std::map<RepoId, std::shared_ptr<ReplicaRepo>> repos_;  // guarded by mu_
  std::set<RepoId> pushing_;                              // guarded by mu_
};

}  // namespace snap::replicator::server

// ReplicaStore: a replica directory (FORMAT.md "Replica directory"):
//
//   DIR/identity/cert.pem, key.pem   the replica's TLS identity
//   DIR/clients                      the admission list (clients_file.h)
//   DIR/repos/<repository id>/       one ReplicaRepo each
//
// Opens a repository only while sessions use it: Find and Create hand out
// handles, and the last handle dropped closes the repository's index and
// releases its lock (repo_lock.h), so the admin's forget, gc and check
// (OpenForAdmin) can take it between sessions. While an admin command holds
// a repository, Find answers Unavailable ("retry later"). Checks every
// repository at open (opens and closes each, rebuilding a lost index) and
// keeps each one's gauges from when it was last open, so /metrics shows
// every repository from the first scrape. Creates new repositories, grants
// at most one push lease per repository, and answers the health probe.
//
// Thread-safe: sessions on pool threads share one ReplicaStore.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
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
  // Opens each repository's index without its lock, and without the
  // repository's lock, for `replicad list` beside a running `replicad
  // serve`. Creating repositories then fails.
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
  // Opens repository `repo_id` (32 hex digits) of the replica directory
  // `dir` for an admin command (forget, gc, check), alone: it holds the
  // repository's lock as opts.lock_holder until closed, so `replicad serve`
  // refuses the repository's sessions meanwhile ("retry later"). With
  // opts.wait_for_lock it waits while sessions or another admin command use
  // it. NotFound when `dir` is no replica directory or holds no such
  // repository; InvalidArgument for a malformed ID.
  static Result<std::unique_ptr<ReplicaRepo>> OpenForAdmin(const std::string& dir,
                                                           const std::string& repo_id,
                                                           RepoOptions opts);
  ~ReplicaStore();

  const std::string& dir() const { return dir_; }
  Result<net::TlsIdentity> LoadIdentity() const;
  // The admission list as of now (re-read when the file changed).
  Result<std::shared_ptr<const ClientList>> Clients() { return clients_.Current(); }
  Metrics& metrics() { return metrics_; }
  int64_t NowNs() const;

  // A handle on the repository, or nullptr when the replica does not hold
  // it. The repository stays open while any handle lives. Unavailable
  // "repository <id> is in use by <holder> on the replica (...); retry
  // later" while an admin command holds it.
  Result<std::shared_ptr<ReplicaRepo>> Find(const RepoId& id);
  // Creates the lease's repository from a client's config object with
  // `owner` as its owner (ReplicaRepo::Create); a handle as Find's.
  Result<std::shared_ptr<ReplicaRepo>> Create(const PushLease& lease, ByteSpan config_bytes,
                                              const std::string& owner);
  // The push lease of `id`. Unavailable "repository <id> is busy with
  // another push; retry later" while another session holds it.
  Result<PushLease> AcquirePush(const RepoId& id);
  // The IDs of every repository held (a directory with a config), sorted.
  Result<std::vector<RepoId>> RepoIds() const;
  // Handles on every repository held, by ID; one in use by an admin command
  // (or failing to open) is left out and logged.
  std::vector<std::shared_ptr<ReplicaRepo>> Repos();

  // OK when the directory takes writes (a probe file is created and
  // removed in DIR and DIR/repos); else the reason.
  Status CheckHealth() const;
  // The Prometheus text of metrics() and every repository's gauges: live
  // when open, else as when last open (reopened briefly to refresh them
  // when another process, an admin's forget say, has held it since).
  std::string MetricsText();

 private:
  friend class PushLease;
  // One repository the store knows: open while handles live.
  struct Slot {
    std::unique_ptr<ReplicaRepo> repo;  // open while users > 0
    size_t users = 0;
    std::optional<ReplicaRepo::Stats> stats;  // as when last closed
  };
  // Shared with the handles' deleters, so a handle may outlive the store.
  struct Registry {
    std::mutex mu;
    std::map<RepoId, Slot> slots;  // guarded by mu
  };

  ReplicaStore(std::string dir, const StoreOptions& opts);
  std::string RepoDir(const RepoId& id) const;
  RepoOptions OptionsForRepo() const;
  Status OpenAll();
  void ReleasePush(const RepoId& id);
  // A new handle on slot `id`'s open repository. REQUIRES: reg_->mu held.
  std::shared_ptr<ReplicaRepo> Handle(const RepoId& id, Slot& slot);
  static void Release(Registry& reg, const RepoId& id);

  const std::string dir_;
  const StoreOptions opts_;
  ClientsFile clients_;
  Metrics metrics_;
  const std::shared_ptr<Registry> reg_ = std::make_shared<Registry>();

  mutable std::mutex mu_;
  std::set<RepoId> pushing_;  // guarded by mu_
};

}  // namespace snap::replicator::server

#include "replicator/server/replica_store.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>

#include "replicator/server/durable_file.h"

namespace snap::replicator::server {
namespace {

namespace fs = std::filesystem;

// The lock holder name of the repositories a store opens (repo_lock.h).
constexpr char kServeHolder[] = "serve";

std::string IdentityDir(const std::string& dir) { return dir + "/identity"; }
std::string ClientsPath(const std::string& dir) { return dir + "/clients"; }
std::string ReposDir(const std::string& dir) { return dir + "/repos"; }

// Who holds a repository's lock, for the message a refused client sees.
std::string Holder(const std::string& repo_dir) {
  std::string who = RepoLock::HeldBy(repo_dir);
  return who.empty() ? std::string("another process") : who;
}

Status MakeDir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return Status::FromErrno(path + ": mkdir", errno);
  return Status::OK();
}

}  // namespace

// ---- PushLease ----

PushLease::PushLease(PushLease&& other) noexcept : store_(other.store_), id_(other.id_) {
  other.store_ = nullptr;
}

PushLease& PushLease::operator=(PushLease&& other) noexcept {
  if (this != &other) {
    Release();
    store_ = other.store_;
    id_ = other.id_;
    other.store_ = nullptr;
  }
  return *this;
}

PushLease::~PushLease() { Release(); }

void PushLease::Release() {
  if (store_) store_->ReleasePush(id_);
  store_ = nullptr;
}

// ---- ReplicaStore ----

ReplicaStore::ReplicaStore(std::string dir, const StoreOptions& opts)
    : dir_(std::move(dir)), opts_(opts), clients_(ClientsPath(dir_)) {}

ReplicaStore::~ReplicaStore() = default;

Result<std::string> ReplicaStore::Init(const std::string& dir) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return Status::InvalidArgument(dir +
                                   ": not empty; a replica is created in a new or empty "
                                   "directory");
  SNAP_RETURN_IF_ERROR(MakeDir(dir, 0700));
  SNAP_ASSIGN_OR_RETURN(net::TlsIdentity id, net::GenerateIdentity("replicad"));
  SNAP_RETURN_IF_ERROR(net::SaveIdentity(IdentityDir(dir), id));
  SNAP_RETURN_IF_ERROR(WriteFileAtomic(ClientsPath(dir), EmptyClientsText(), 0644));
  SNAP_RETURN_IF_ERROR(MakeDir(ReposDir(dir), 0700));
  return net::Fingerprint(id);
}

Result<std::string> ReplicaStore::ClientsFilePath(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(ReposDir(dir), ec) || !fs::is_directory(IdentityDir(dir), ec))
    return Status::NotFound(dir + ": not a replica directory (run replicad init --dir " + dir +
                            ")");
  return ClientsPath(dir);
}

Result<std::unique_ptr<ReplicaStore>> ReplicaStore::Open(const std::string& dir,
                                                         const StoreOptions& opts) {
  SNAP_RETURN_IF_ERROR(ClientsFilePath(dir).status());
  std::unique_ptr<ReplicaStore> s(new ReplicaStore(dir, opts));
  SNAP_RETURN_IF_ERROR(s->OpenAll());
  return s;
}

Result<std::unique_ptr<ReplicaRepo>> ReplicaStore::OpenForAdmin(const std::string& dir,
                                                                const std::string& repo_id,
                                                                RepoOptions opts) {
  SNAP_RETURN_IF_ERROR(ClientsFilePath(dir).status());
  Result<RepoId> id = ParseRepoId(repo_id);
  if (!id.ok())
    return Status::InvalidArgument("--repo " + repo_id +
                                   ": expected a repository ID of 32 hex digits (`replicad list "
                                   "--dir " +
                                   dir + "` shows them)");
  std::string repo_dir = ReposDir(dir) + "/" + RepoIdHex(*id);
  std::error_code ec;
  if (!fs::exists(repo_dir + "/config", ec))
    return Status::NotFound(dir + ": holds no repository " + RepoIdHex(*id) +
                            " (`replicad list --dir " + dir + "` shows those it holds)");
  Result<std::unique_ptr<ReplicaRepo>> r = ReplicaRepo::Open(repo_dir, opts);
  if (!r.ok()) return r.status().WithContext("repository " + RepoIdHex(*id));
  return r;
}

Result<std::vector<RepoId>> ReplicaStore::RepoIds() const {
  std::vector<RepoId> out;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(ReposDir(dir_), ec)) {
    Result<RepoId> id = ParseRepoId(e.path().filename().string());
    if (!id.ok() || !e.is_directory()) continue;  // not a repository (a temp file, ...)
    // A directory without config (an interrupted create) is no repository yet.
    std::error_code ec2;
    if (fs::exists(e.path() / "config", ec2)) out.push_back(*id);
  }
  if (ec) return Status::IOError(ReposDir(dir_) + ": " + ec.message());
  std::sort(out.begin(), out.end());
  return out;
}

// Opens and closes each repository once: a lost index is rebuilt now, not
// in the first session, a broken repository fails the start, and the
// gauges are known from the first scrape.
Status ReplicaStore::OpenAll() {
  SNAP_ASSIGN_OR_RETURN(std::vector<RepoId> ids, RepoIds());
  for (const RepoId& id : ids) {
    Result<std::shared_ptr<ReplicaRepo>> r = Find(id);
    if (r.ok()) continue;
    if (r.status().code() != Status::Code::kUnavailable) return r.status();
    spdlog::info("{}", r.status().message());  // an admin command has it; opened later
    std::lock_guard<std::mutex> lock(reg_->mu);
    reg_->slots[id];  // known, gauges unknown until it opens
  }
  return Status::OK();
}

Result<net::TlsIdentity> ReplicaStore::LoadIdentity() const {
  return net::LoadIdentity(IdentityDir(dir_));
}

int64_t ReplicaStore::NowNs() const {
  if (opts_.now_ns) return opts_.now_ns();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReplicaStore::RepoDir(const RepoId& id) const {
  return ReposDir(dir_) + "/" + RepoIdHex(id);
}

RepoOptions ReplicaStore::OptionsForRepo() const {
  RepoOptions o;
  o.read_only = opts_.read_only;
  o.now_ns = opts_.now_ns;
  o.lock_holder = kServeHolder;
  o.wait_for_lock = false;  // a session never waits for an admin command
  return o;
}

std::shared_ptr<ReplicaRepo> ReplicaStore::Handle(const RepoId& id, Slot& slot) {
  slot.users++;
  std::shared_ptr<Registry> reg = reg_;
  return std::shared_ptr<ReplicaRepo>(slot.repo.get(),
                                      [reg, id](ReplicaRepo*) { Release(*reg, id); });
}

// Closes the repository with its last handle, under the registry's mutex:
// a Find racing with the close waits and then opens it anew, rather than
// find the lock still held by the closing instance.
void ReplicaStore::Release(Registry& reg, const RepoId& id) {
  std::lock_guard<std::mutex> lock(reg.mu);
  auto it = reg.slots.find(id);
  if (it == reg.slots.end() || it->second.users == 0) return;  // cannot happen
  Slot& slot = it->second;
  if (--slot.users > 0) return;
  slot.stats = slot.repo->stats();
  slot.repo.reset();
}

Result<std::shared_ptr<ReplicaRepo>> ReplicaStore::Find(const RepoId& id) {
  std::lock_guard<std::mutex> lock(reg_->mu);
  auto it = reg_->slots.find(id);
  if (it != reg_->slots.end() && it->second.repo) return Handle(id, it->second);
  std::error_code ec;
  std::string dir = RepoDir(id);
  if (!fs::exists(dir + "/config", ec)) return std::shared_ptr<ReplicaRepo>();
  Result<std::unique_ptr<ReplicaRepo>> r = ReplicaRepo::Open(dir, OptionsForRepo());
  if (!r.ok()) {
    if (r.status().code() == Status::Code::kUnavailable)
      return Status::Unavailable("repository " + RepoIdHex(id) + " is in use by " + Holder(dir) +
                                 " on the replica (the replica admin's forget, gc or check); "
                                 "retry later");
    return r.status().WithContext("repository " + RepoIdHex(id));
  }
  Slot& slot = reg_->slots[id];
  slot.repo = std::move(*r);
  return Handle(id, slot);
}

Result<std::shared_ptr<ReplicaRepo>> ReplicaStore::Create(const PushLease& lease,
                                                          ByteSpan config_bytes,
                                                          const std::string& owner) {
  if (opts_.read_only) return Status::NotSupported("replica opened read-only");
  std::lock_guard<std::mutex> lock(reg_->mu);
  auto it = reg_->slots.find(lease.id());
  if (it != reg_->slots.end() && (it->second.repo || it->second.stats))
    return Status::InvalidArgument("repository " + RepoIdHex(lease.id()) + " exists already");
  Result<std::unique_ptr<ReplicaRepo>> r =
      ReplicaRepo::Create(RepoDir(lease.id()), lease.id(), config_bytes, owner, OptionsForRepo());
  if (!r.ok()) return r.status();
  Slot& slot = reg_->slots[lease.id()];
  slot.repo = std::move(*r);
  return Handle(lease.id(), slot);
}

Result<PushLease> ReplicaStore::AcquirePush(const RepoId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!pushing_.insert(id).second)
    return Status::Unavailable("repository " + RepoIdHex(id) +
                               " is busy with another push; retry later");
  return PushLease(this, id);
}

void ReplicaStore::ReleasePush(const RepoId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  pushing_.erase(id);
}

std::vector<std::shared_ptr<ReplicaRepo>> ReplicaStore::Repos() {
  std::vector<std::shared_ptr<ReplicaRepo>> out;
  Result<std::vector<RepoId>> ids = RepoIds();
  if (!ids.ok()) {
    spdlog::warn("{}", ids.status().message());
    return out;
  }
  for (const RepoId& id : *ids) {
    Result<std::shared_ptr<ReplicaRepo>> r = Find(id);
    if (r.ok() && *r)
      out.push_back(std::move(*r));
    else if (!r.ok())
      spdlog::log(r.status().code() == Status::Code::kUnavailable ? spdlog::level::info
                                                                  : spdlog::level::warn,
                  "{}", r.status().message());
  }
  return out;
}

Status ReplicaStore::CheckHealth() const {
  SNAP_RETURN_IF_ERROR(ProbeWritable(dir_));
  return ProbeWritable(ReposDir(dir_));
}

std::string ReplicaStore::MetricsText() {
  // A closed repository another process has held since (an admin's
  // forget) is opened once to refresh its gauges; one in use keeps the old.
  std::vector<RepoId> stale;
  {
    std::lock_guard<std::mutex> lock(reg_->mu);
    for (const auto& [id, slot] : reg_->slots)
      if (!slot.repo && !opts_.read_only &&
          (!slot.stats || !RepoLock::LastTakenByUs(RepoDir(id), kServeHolder)))
        stale.push_back(id);
  }
  for (const RepoId& id : stale) (void)Find(id);  // the handle closes at once
  std::vector<RepoGauge> gauges;
  {
    std::lock_guard<std::mutex> lock(reg_->mu);
    for (const auto& [id, slot] : reg_->slots) {
      std::optional<ReplicaRepo::Stats> st = slot.repo ? slot.repo->stats() : slot.stats;
      if (st) gauges.push_back({RepoIdHex(id), st->snapshots, st->newest_received_ns});
    }
  }
  return RenderMetrics(metrics_, gauges, NowNs());
}

}  // namespace snap::replicator::server

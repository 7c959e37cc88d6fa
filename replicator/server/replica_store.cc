#include "replicator/server/replica_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <filesystem>

#include "replicator/server/durable_file.h"

namespace snap::replicator::server {
namespace {

namespace fs = std::filesystem;

std::string IdentityDir(const std::string& dir) { return dir + "/identity"; }
std::string ClientsPath(const std::string& dir) { return dir + "/clients"; }
std::string ReposDir(const std::string& dir) { return dir + "/repos"; }

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

Status ReplicaStore::OpenAll() {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(ReposDir(dir_), ec)) {
    Result<RepoId> id = ParseRepoId(e.path().filename().string());
    if (!id.ok() || !e.is_directory()) continue;  // not a repository (a temp file, ...)
    // Find opens it; a directory without config (an interrupted create) is
    // not a repository yet and stays closed.
    SNAP_RETURN_IF_ERROR(Find(*id).status());
  }
  if (ec) return Status::IOError(ReposDir(dir_) + ": " + ec.message());
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

Result<std::shared_ptr<ReplicaRepo>> ReplicaStore::Find(const RepoId& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = repos_.find(id);
  if (it != repos_.end()) return it->second;
  std::error_code ec;
  std::string dir = RepoDir(id);
  if (!fs::exists(dir + "/config", ec)) return std::shared_ptr<ReplicaRepo>();
  Result<std::unique_ptr<ReplicaRepo>> r = ReplicaRepo::Open(dir, {opts_.read_only, opts_.now_ns});
  if (!r.ok()) return r.status().WithContext("repository " + RepoIdHex(id));
  std::shared_ptr<ReplicaRepo> repo = std::move(*r);
  repos_[id] = repo;
  return repo;
}

Result<std::shared_ptr<ReplicaRepo>> ReplicaStore::Create(const PushLease& lease,
                                                          ByteSpan config_bytes,
                                                          const std::string& owner) {
  if (opts_.read_only) return Status::NotSupported("replica opened read-only");
  std::lock_guard<std::mutex> lock(mu_);
  if (repos_.count(lease.id()))
    return Status::InvalidArgument("repository " + RepoIdHex(lease.id()) + " exists already");
  Result<std::unique_ptr<ReplicaRepo>> r = ReplicaRepo::Create(
      RepoDir(lease.id()), lease.id(), config_bytes, owner, {opts_.read_only, opts_.now_ns});
  if (!r.ok()) return r.status();
  std::shared_ptr<ReplicaRepo> repo = std::move(*r);
  repos_[lease.id()] = repo;
  return repo;
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

std::vector<std::shared_ptr<ReplicaRepo>> ReplicaStore::Repos() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<ReplicaRepo>> out;
  for (const auto& [id, repo] : repos_) out.push_back(repo);
  return out;
}

Status ReplicaStore::CheckHealth() const {
  SNAP_RETURN_IF_ERROR(ProbeWritable(dir_));
  return ProbeWritable(ReposDir(dir_));
}

std::string ReplicaStore::MetricsText() const {
  std::vector<RepoGauge> gauges;
  for (const std::shared_ptr<ReplicaRepo>& r : Repos()) {
    ReplicaRepo::Stats st = r->stats();
    gauges.push_back({r->id_hex(), st.snapshots, st.newest_received_ns});
  }
  return RenderMetrics(metrics_, gauges, NowNs());
}

}  // namespace snap::replicator::server

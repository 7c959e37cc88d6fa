#include "replicator/server/replica_repo.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>

#include "engine/codec/crypto.h"
#include "engine/repository.h"

namespace snap::replicator::server {
namespace {

constexpr std::string_view kConfigKey = "config";
constexpr std::string_view kOwnerKey = "owner";
constexpr char kReceiptPrefix = 'r';      // On disk: never change.
constexpr size_t kReceiptValueSize = 12;  // received_ns u64 LE | size u32 LE
// Present once the index covers every pack and snapshot (written at create
// and after a rebuild), so a rebuild cut short runs again. On disk.
constexpr std::string_view kCompleteKey = "mcomplete";
// Per repository: a replica may hold many, each with its own RocksDB.
constexpr size_t kBlockCacheBytes = 8u << 20;

std::string ReceiptKey(const ChunkId& id) {
  std::string key(1, kReceiptPrefix);
  key.append(engine::AsChars(id.span()));
  return key;
}

std::string EncodeReceipt(int64_t received_ns, uint32_t size) {
  std::string v(kReceiptValueSize, '\0');
  uint64_t ns = static_cast<uint64_t>(received_ns);
  for (int i = 0; i < 8; ++i) v[i] = static_cast<char>(ns >> (8 * i));
  for (int i = 0; i < 4; ++i) v[8 + i] = static_cast<char>(size >> (8 * i));
  return v;
}

Result<protocol::SnapshotList::Entry> DecodeReceipt(std::string_view key, std::string_view value) {
  if (key.size() != 1 + ChunkId::kSize || value.size() != kReceiptValueSize)
    return Status::Corruption("index: bad snapshot receipt record");
  protocol::SnapshotList::Entry e;
  e.id = ChunkId::FromSpan(engine::AsBytes(key.substr(1)));
  uint64_t ns = 0;
  uint32_t size = 0;
  for (int i = 0; i < 8; ++i) ns |= uint64_t{static_cast<uint8_t>(value[i])} << (8 * i);
  for (int i = 0; i < 4; ++i) size |= uint32_t{static_cast<uint8_t>(value[8 + i])} << (8 * i);
  e.received_ns = static_cast<int64_t>(ns);
  e.size = size;
  return e;
}

int64_t SystemNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Equal(ByteSpan a, ByteSpan b) { return std::equal(a.begin(), a.end(), b.begin(), b.end()); }

}  // namespace

ReplicaRepo::~ReplicaRepo() = default;

int64_t ReplicaRepo::NowNs() const { return now_ns_ ? now_ns_() : SystemNowNs(); }

Result<std::unique_ptr<ReplicaRepo>> ReplicaRepo::Create(const std::string& dir, const RepoId& id,
                                                         ByteSpan config_bytes,
                                                         const std::string& owner,
                                                         const RepoOptions& opts) {
  Result<engine::repo::Config> config = engine::repo::Config::Decode(config_bytes);
  if (!config.ok()) return config.status().WithContext("config sent by the client");
  if (config->repo_id != id)
    return Status::InvalidArgument("config names repository " + config->RepoIdHex() +
                                   ", the session is for " + engine::ToHex(id));
  std::unique_ptr<ReplicaRepo> r(new ReplicaRepo());
  r->dir_ = dir;
  r->config_ = *config;
  r->config_bytes_.assign(config_bytes.begin(), config_bytes.end());
  r->owner_ = owner;
  SNAP_ASSIGN_OR_RETURN(r->store_, engine::store::OpenLocalStore(dir));
  if (r->store_->Head(kConfigKey).ok())
    return Status::InvalidArgument(dir + ": repository exists already");
  // The index first, then owner, then config: a directory with a config is
  // a complete repository. An owner left by an interrupted create names a
  // client that never got its repository, so it is replaced.
  SNAP_ASSIGN_OR_RETURN(r, OpenIndexAndLoad(std::move(r), opts, /*rebuild=*/false));
  SNAP_RETURN_IF_ERROR(r->MarkIndexComplete());
  SNAP_RETURN_IF_ERROR(r->store_->Delete(kOwnerKey));
  SNAP_RETURN_IF_ERROR(r->store_->PutIfAbsent(kOwnerKey, engine::AsBytes(owner + "\n")).status());
  SNAP_ASSIGN_OR_RETURN(bool put, r->store_->PutIfAbsent(kConfigKey, config_bytes));
  if (!put) return Status::InvalidArgument(dir + ": repository exists already");
  return r;
}

Result<std::unique_ptr<ReplicaRepo>> ReplicaRepo::Open(const std::string& dir,
                                                       const RepoOptions& opts) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return Status::NotFound(dir + ": no repository");
  std::unique_ptr<ReplicaRepo> r(new ReplicaRepo());
  r->dir_ = dir;
  SNAP_ASSIGN_OR_RETURN(r->store_, engine::store::OpenLocalStore(dir));
  Result<Buffer> config = r->store_->Get(kConfigKey);
  if (!config.ok()) {
    if (config.status().IsNotFound()) return Status::NotFound(dir + ": no repository (no config)");
    return config.status();
  }
  Result<engine::repo::Config> decoded = engine::repo::Config::Decode(*config);
  if (!decoded.ok()) return decoded.status().WithContext(dir + "/config");
  r->config_ = *decoded;
  r->config_bytes_ = std::move(*config);
  SNAP_ASSIGN_OR_RETURN(Buffer owner, r->store_->Get(kOwnerKey));
  r->owner_ = std::string(engine::AsChars(owner));
  while (!r->owner_.empty() && (r->owner_.back() == '\n' || r->owner_.back() == '\r'))
    r->owner_.pop_back();
  return OpenIndexAndLoad(std::move(r), opts, /*rebuild=*/true);
}

Result<std::unique_ptr<ReplicaRepo>> ReplicaRepo::OpenIndexAndLoad(std::unique_ptr<ReplicaRepo> r,
                                                                   const RepoOptions& opts,
                                                                   bool rebuild) {
  r->now_ns_ = opts.now_ns;
  engine::index::RocksOptions ro;
  ro.block_cache_bytes = kBlockCacheBytes;
  ro.read_only = opts.read_only;
  ro.create_if_missing = !opts.read_only;
  SNAP_ASSIGN_OR_RETURN(r->kv_, engine::index::OpenRocksKv(r->dir_ + "/index", ro));
  r->chunks_ = std::make_unique<engine::index::ChunkIndex>(r->kv_.get());
  if (rebuild && !opts.read_only) {
    SNAP_ASSIGN_OR_RETURN(std::optional<std::string> complete, r->kv_->Get(kCompleteKey));
    if (!complete) {
      SNAP_RETURN_IF_ERROR(r->chunks_->Clear());
      SNAP_RETURN_IF_ERROR(r->kv_->DeletePrefix(std::string(1, kReceiptPrefix)));
      SNAP_RETURN_IF_ERROR(r->RebuildIndex());
      SNAP_RETURN_IF_ERROR(r->MarkIndexComplete());
    }
  }
  SNAP_RETURN_IF_ERROR(r->LoadStats());
  return r;
}

Status ReplicaRepo::MarkIndexComplete() {
  engine::index::WriteBatch batch;
  batch.Put(kCompleteKey, "1");
  return kv_->Write(batch, /*sync=*/true);
}

Status ReplicaRepo::LoadStats() {
  SNAP_ASSIGN_OR_RETURN(std::vector<protocol::SnapshotList::Entry> all, ListSnapshots());
  Stats stats;
  stats.snapshots = all.size();
  if (!all.empty()) stats.newest_received_ns = all.back().received_ns;  // in receive order
  std::lock_guard<std::mutex> lock(mu_);
  stats_ = stats;
  return Status::OK();
}

Status ReplicaRepo::Held(std::span<const ChunkId> ids, std::vector<bool>* held) const {
  std::vector<std::optional<engine::index::ChunkLocation>> locs;
  SNAP_RETURN_IF_ERROR(chunks_->MultiGet(ids, &locs));
  held->assign(ids.size(), false);
  for (size_t i = 0; i < ids.size(); ++i) (*held)[i] = locs[i].has_value();
  return Status::OK();
}

Result<uint64_t> ReplicaRepo::WritePack(engine::pack::PackWriter* writer) {
  std::vector<engine::pack::PackEntry> entries = writer->entries();
  Buffer bytes = writer->Finish();
  engine::index::PackId pack = engine::codec::Sha256(bytes);
  std::string key = engine::Repository::PackKey(pack);
  // Durable before indexed: the index never points at a pack a crash lost.
  SNAP_RETURN_IF_ERROR(store_->PutIfAbsent(key, bytes).status());
  SNAP_RETURN_IF_ERROR(chunks_->AddPack(pack, entries).WithContext(key));
  return static_cast<uint64_t>(bytes.size());
}

Result<std::optional<Buffer>> ReplicaRepo::ReadFrame(const ChunkId& id) const {
  SNAP_ASSIGN_OR_RETURN(std::optional<engine::index::ChunkLocation> loc, chunks_->Get(id));
  if (!loc) return std::optional<Buffer>();
  std::string key = engine::Repository::PackKey(loc->pack);
  Result<Buffer> frame = store_->Get(key, loc->entry.offset, loc->entry.length);
  if (!frame.ok()) return frame.status().WithContext(key);
  Result<engine::pack::DecodedFrame> f = engine::pack::DecodeFrame(*frame);
  if (!f.ok()) return f.status().WithContext(key + " @" + std::to_string(loc->entry.offset));
  if (f->header.id != id)
    return Status::Corruption(key + ": frame at " + std::to_string(loc->entry.offset) +
                              " holds another chunk than the index says");
  return std::optional<Buffer>(std::move(*frame));
}

Result<bool> ReplicaRepo::PutSnapshot(const ChunkId& id, ByteSpan object) {
  if (object.size() > std::numeric_limits<uint32_t>::max())
    return Status::InvalidArgument("snapshot " + id.ShortHex() + ": object too large");
  std::string key = engine::Repository::SnapshotKey(id);
  SNAP_ASSIGN_OR_RETURN(bool put, store_->PutIfAbsent(key, object));
  if (!put) {
    SNAP_ASSIGN_OR_RETURN(Buffer held, store_->Get(key));
    if (!Equal(held, object))
      return Status::InvalidArgument("snapshot " + id.ShortHex() +
                                     ": already held with other content; the replica is "
                                     "append-only");
  }
  // A crash between the object and its receipt leaves the object unlisted;
  // the client's retry records it now.
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> receipt, kv_->Get(ReceiptKey(id)));
  if (receipt) return false;
  SNAP_RETURN_IF_ERROR(RecordReceipt(id, static_cast<uint32_t>(object.size()), NowNs()));
  return true;
}

Status ReplicaRepo::RecordReceipt(const ChunkId& id, uint32_t size, int64_t now) {
  engine::index::WriteBatch batch;
  batch.Put(ReceiptKey(id), EncodeReceipt(now, size));
  SNAP_RETURN_IF_ERROR(kv_->Write(batch, /*sync=*/true));
  std::lock_guard<std::mutex> lock(mu_);
  stats_.snapshots++;
  if (!stats_.newest_received_ns || now > *stats_.newest_received_ns)
    stats_.newest_received_ns = now;
  return Status::OK();
}

Result<std::optional<Buffer>> ReplicaRepo::GetSnapshot(const ChunkId& id) const {
  Result<Buffer> object = store_->Get(engine::Repository::SnapshotKey(id));
  if (object.ok()) return std::optional<Buffer>(std::move(*object));
  if (object.status().IsNotFound()) return std::optional<Buffer>();
  return object.status();
}

Result<std::vector<protocol::SnapshotList::Entry>> ReplicaRepo::ListSnapshots() const {
  std::vector<protocol::SnapshotList::Entry> out;
  Status bad;
  SNAP_RETURN_IF_ERROR(
      kv_->Scan(std::string(1, kReceiptPrefix), [&](std::string_view key, std::string_view value) {
        Result<protocol::SnapshotList::Entry> e = DecodeReceipt(key, value);
        if (!e.ok())
          bad = e.status();
        else
          out.push_back(*e);
        return e.ok();
      }));
  SNAP_RETURN_IF_ERROR(bad.WithContext(dir_));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.received_ns != b.received_ns ? a.received_ns < b.received_ns : a.id < b.id;
  });
  return out;
}

ReplicaRepo::Stats ReplicaRepo::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Result<uint64_t> ReplicaRepo::PackBytes() const {
  uint64_t total = 0;
  SNAP_RETURN_IF_ERROR(store_->List("packs/", [&](std::string_view, uint64_t size) {
    total += size;
    return Status::OK();
  }));
  return total;
}

}  // namespace snap::replicator::server

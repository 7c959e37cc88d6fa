#include "replicator/server/replica_repo.h"

#include <spdlog/spdlog.h>

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
// 'mresend' | snapshot ID[32]: the snapshot awaits re-send after a repair
// (`replicad check --repair`). On disk: never change.
constexpr std::string_view kResendPrefix = "mresend";
// Per repository: a replica may hold many, each with its own RocksDB.
constexpr size_t kBlockCacheBytes = 8u << 20;

std::string ReceiptKey(const ChunkId& id) {
  std::string key(1, kReceiptPrefix);
  key.append(engine::AsChars(id.span()));
  return key;
}

std::string ResendKey(const ChunkId& id) {
  std::string key(kResendPrefix);
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
  SNAP_ASSIGN_OR_RETURN(r->store_, engine::store::OpenLocalStore(dir));  // creates `dir`
  SNAP_RETURN_IF_ERROR(r->TakeLock(opts));
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
  SNAP_RETURN_IF_ERROR(r->TakeLock(opts));
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

Status ReplicaRepo::TakeLock(const RepoOptions& opts) {
  if (opts.read_only) return Status::OK();
  SNAP_ASSIGN_OR_RETURN(
      lock_, RepoLock::Acquire(dir_, opts.lock_holder, opts.wait_for_lock, opts.on_lock_wait));
  return Status::OK();
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
  SNAP_ASSIGN_OR_RETURN(bool written, store_->PutIfAbsent(key, bytes));
  if (!written) SNAP_RETURN_IF_ERROR(ReplaceIfDamaged(key, pack, bytes));
  SNAP_RETURN_IF_ERROR(chunks_->AddPack(pack, entries).WithContext(key));
  return static_cast<uint64_t>(bytes.size());
}

// A pack of this name exists: the same frames in the same order again (a
// push cut before its index batch, or chunks a repair made the client send
// again). Its name is the hash of its bytes, so bytes that no longer hash
// to it are damaged (`replicad check --repair` forgot their chunks): the
// good ones replace them atomically.
Status ReplicaRepo::ReplaceIfDamaged(const std::string& key, const engine::index::PackId& pack,
                                     ByteSpan bytes) {
  Result<Buffer> held = store_->Get(key);
  if (held.ok() && engine::codec::Sha256(*held) == pack) return Status::OK();
  spdlog::warn("{}: {} was damaged; replaced by the frames sent again", dir_, key);
  return store_->Replace(key, bytes);
}

Result<std::optional<Buffer>> ReplicaRepo::ReadFrame(const ChunkId& id) const {
  SNAP_ASSIGN_OR_RETURN(std::optional<engine::index::ChunkLocation> loc, chunks_->Get(id));
  if (!loc) return std::optional<Buffer>();
  SNAP_ASSIGN_OR_RETURN(Buffer frame, ReadFrameAt(*loc));
  return std::optional<Buffer>(std::move(frame));
}

Result<Buffer> ReplicaRepo::ReadFrameAt(const engine::index::ChunkLocation& loc) const {
  std::string key = engine::Repository::PackKey(loc.pack);
  Result<Buffer> frame = store_->Get(key, loc.entry.offset, loc.entry.length);
  if (!frame.ok()) return frame.status().WithContext(key);
  Result<engine::pack::DecodedFrame> f = engine::pack::DecodeFrame(*frame);
  if (!f.ok()) return f.status().WithContext(key + " @" + std::to_string(loc.entry.offset));
  if (f->header.id != loc.entry.id)
    return Status::Corruption(key + ": frame at " + std::to_string(loc.entry.offset) +
                              " holds another chunk than the index says");
  return std::move(*frame);
}

Status ReplicaRepo::ForEachChunk(
    const std::function<bool(const ChunkId&, const engine::index::ChunkLocation&)>& fn) const {
  return chunks_->ForEach(fn).WithContext(dir_);
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
  if (!receipt)
    SNAP_RETURN_IF_ERROR(RecordReceipt(id, static_cast<uint32_t>(object.size()), NowNs()));
  // Sent again after a repair: whole once more, listed again.
  SNAP_RETURN_IF_ERROR(ClearResendMark(id));
  return !receipt;
}

Status ReplicaRepo::ClearResendMark(const ChunkId& id) {
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> mark, kv_->Get(ResendKey(id)));
  if (!mark) return Status::OK();
  engine::index::WriteBatch batch;
  batch.Delete(ResendKey(id));
  return kv_->Write(batch, /*sync=*/true);
}

Status ReplicaRepo::MarkForResend(std::span<const ChunkId> objects,
                                  std::span<const ChunkId> snapshots,
                                  std::span<const ChunkId> damaged_objects) {
  // Unindexed first: a marked snapshot's damaged chunks never answer HAVE
  // yes. A crash between the steps leaves what the next repair completes.
  SNAP_RETURN_IF_ERROR(chunks_->Remove(objects).WithContext(dir_));
  for (const ChunkId& id : damaged_objects)
    SNAP_RETURN_IF_ERROR(store_->Delete(engine::Repository::SnapshotKey(id)));
  if (snapshots.empty()) return Status::OK();
  engine::index::WriteBatch batch;
  for (const ChunkId& id : snapshots) batch.Put(ResendKey(id), "");
  return kv_->Write(batch, /*sync=*/true);
}

Result<std::vector<ChunkId>> ReplicaRepo::AwaitingResend() const {
  std::vector<ChunkId> out;
  SNAP_RETURN_IF_ERROR(kv_->Scan(kResendPrefix, [&](std::string_view key, std::string_view) {
    if (key.size() == kResendPrefix.size() + ChunkId::kSize)
      out.push_back(ChunkId::FromSpan(engine::AsBytes(key.substr(kResendPrefix.size()))));
    return true;
  }));
  return out;
}

Result<std::vector<protocol::SnapshotList::Entry>> ReplicaRepo::ListCompleteSnapshots() const {
  SNAP_ASSIGN_OR_RETURN(std::vector<protocol::SnapshotList::Entry> all, ListSnapshots());
  SNAP_ASSIGN_OR_RETURN(std::vector<ChunkId> awaiting, AwaitingResend());
  if (awaiting.empty()) return all;
  std::erase_if(all, [&](const protocol::SnapshotList::Entry& e) {
    return std::binary_search(awaiting.begin(), awaiting.end(), e.id);
  });
  return all;
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

// ---- Administration ----

Status ReplicaRepo::ForgetSnapshot(const ChunkId& id) {
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> receipt, kv_->Get(ReceiptKey(id)));
  // The record (and a re-send mark) first: once they are gone (synced) the
  // snapshot is no longer listed, whatever happens to the object after.
  engine::index::WriteBatch batch;
  batch.Delete(ReceiptKey(id));
  batch.Delete(ResendKey(id));
  SNAP_RETURN_IF_ERROR(kv_->Write(batch, /*sync=*/true));
  SNAP_RETURN_IF_ERROR(store_->Delete(engine::Repository::SnapshotKey(id)));
  if (!receipt) return Status::OK();
  Result<protocol::SnapshotList::Entry> e = DecodeReceipt(ReceiptKey(id), *receipt);
  std::lock_guard<std::mutex> lock(mu_);
  if (stats_.snapshots > 0) stats_.snapshots--;
  if (!e.ok() || e->received_ns != stats_.newest_received_ns) return Status::OK();
  // The newest went (only a policy keeping nothing recent does that).
  stats_.newest_received_ns.reset();
  return kv_->Scan(std::string(1, kReceiptPrefix), [&](std::string_view k, std::string_view v) {
    Result<protocol::SnapshotList::Entry> other = DecodeReceipt(k, v);
    if (other.ok() &&
        (!stats_.newest_received_ns || other->received_ns > *stats_.newest_received_ns))
      stats_.newest_received_ns = other->received_ns;
    return true;
  });
}

Result<std::vector<ChunkId>> ReplicaRepo::UnlistedSnapshots() const {
  std::vector<ChunkId> objects, out;
  SNAP_RETURN_IF_ERROR(store_->List("snapshots/", [&](std::string_view key, uint64_t) {
    std::optional<ChunkId> id = ChunkId::FromHex(key.substr(key.rfind('/') + 1));
    if (id) objects.push_back(*id);
    return Status::OK();
  }));
  for (const ChunkId& id : objects) {
    SNAP_ASSIGN_OR_RETURN(std::optional<std::string> receipt, kv_->Get(ReceiptKey(id)));
    if (!receipt) out.push_back(id);
  }
  return out;
}

Status ReplicaRepo::Locate(std::span<const ChunkId> ids,
                           std::vector<std::optional<engine::index::ChunkLocation>>* out) const {
  return chunks_->MultiGet(ids, out);  // the replica hides no packs: Get is Locate here
}

Status ReplicaRepo::IndexPack(const engine::index::PackId& pack,
                              std::span<const engine::pack::PackEntry> entries) {
  return chunks_->AddPack(pack, entries).WithContext(engine::Repository::PackKey(pack));
}

Status ReplicaRepo::DropPacks(const engine::index::PackSet& packs) {
  return chunks_->DropPacks(packs).WithContext(dir_ + "/index");
}

Status ReplicaRepo::DeletePack(const engine::index::PackId& pack) {
  return store_->Delete(engine::Repository::PackKey(pack));
}

}  // namespace snap::replicator::server

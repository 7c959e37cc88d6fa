// ReplicaRepo::RebuildIndex: the replica's index is a cache of its packs'
// footers and of snapshots/, so a lost index/ costs one pass over them
// instead of the client sending everything again.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "replicator/server/replica_repo.h"

namespace snap::replicator::server {
namespace {

namespace pack = engine::pack;

Result<engine::index::PackId> PackIdFromKey(const std::string& key) {
  Buffer b;
  std::string hex = key.substr(key.rfind('/') + 1);
  engine::index::PackId id{};
  if (hex.size() != id.size() * 2 || !engine::FromHex(hex, &b))
    return Status::Corruption(key + ": bad pack name");
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

Result<std::vector<pack::PackEntry>> FooterEntries(const engine::store::ObjectStore& store,
                                                   const std::string& key, uint64_t size) {
  if (size < pack::kPackHeaderSize + pack::kTrailerSize)
    return Status::Corruption(key + ": shorter than a pack");
  SNAP_ASSIGN_OR_RETURN(Buffer trailer,
                        store.Get(key, size - pack::kTrailerSize, pack::kTrailerSize));
  SNAP_ASSIGN_OR_RETURN(uint32_t footer_length, pack::DecodeTrailer(trailer));
  if (footer_length + pack::kTrailerSize > size)
    return Status::Corruption(key + ": footer longer than the pack");
  SNAP_ASSIGN_OR_RETURN(Buffer tail, store.Get(key, size - footer_length - pack::kTrailerSize));
  return pack::DecodeFooter(tail, size);
}

// The object's mtime: when the replica wrote it, so receive order survives.
int64_t WrittenNs(const std::string& path) {
  std::error_code ec;
  auto t = std::filesystem::last_write_time(path, ec);
  if (ec) return 0;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::file_clock::to_sys(t).time_since_epoch())
      .count();
}

}  // namespace

Status ReplicaRepo::RebuildIndex() {
  std::vector<std::pair<std::string, uint64_t>> packs, snapshots;
  auto collect = [](auto* out) {
    return [out](std::string_view key, uint64_t size) {
      out->emplace_back(std::string(key), size);
      return Status::OK();
    };
  };
  SNAP_RETURN_IF_ERROR(store_->List("packs/", collect(&packs)));
  SNAP_RETURN_IF_ERROR(store_->List("snapshots/", collect(&snapshots)));
  for (const auto& [key, size] : packs) {
    Result<engine::index::PackId> id = PackIdFromKey(key);
    Result<std::vector<pack::PackEntry>> entries =
        id.ok() ? FooterEntries(*store_, key, size)
                : Result<std::vector<pack::PackEntry>>(id.status());
    if (!entries.ok()) {
      // Its chunks count as missing; a client's next push sends them again.
      spdlog::warn("{}: index rebuild skips {}: {}", dir_, key, entries.status().ToString());
      continue;
    }
    SNAP_RETURN_IF_ERROR(chunks_->AddPack(*id, *entries).WithContext(key));
  }
  for (const auto& [key, size] : snapshots) {
    std::optional<ChunkId> id = ChunkId::FromHex(key.substr(key.rfind('/') + 1));
    if (!id) continue;
    SNAP_RETURN_IF_ERROR(
        RecordReceipt(*id, static_cast<uint32_t>(size), WrittenNs(dir_ + "/" + key)));
  }
  spdlog::info("{}: index rebuilt from {} packs and {} snapshots", dir_, packs.size(),
               snapshots.size());
  return Status::OK();
}

}  // namespace snap::replicator::server

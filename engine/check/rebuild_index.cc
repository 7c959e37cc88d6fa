// RebuildIndex: the index is a cache of what packs and snapshots/ say.
#include "engine/check.h"
#include "engine/codec/crypto.h"
#include "engine/index/dir_cache.h"

namespace snap::engine {
namespace {

// Reads a pack's footer; falls back to scanning its frames when the footer
// is damaged.
Result<std::vector<pack::PackEntry>> PackEntries(const Repository& repo, const std::string& key,
                                                 uint64_t size) {
  if (size >= pack::kPackHeaderSize + pack::kTrailerSize) {
    Result<Buffer> trailer = repo.store().Get(key, size - pack::kTrailerSize, pack::kTrailerSize);
    if (trailer.ok()) {
      Result<uint32_t> flen = pack::DecodeTrailer(*trailer);
      if (flen.ok() && *flen + pack::kTrailerSize <= size) {
        Result<Buffer> tail = repo.store().Get(key, size - *flen - pack::kTrailerSize);
        if (tail.ok()) {
          Result<std::vector<pack::PackEntry>> entries = pack::DecodeFooter(*tail, size);
          if (entries.ok()) return entries;
        }
      }
    }
  }
  SNAP_ASSIGN_OR_RETURN(Buffer whole, repo.store().Get(key));
  std::vector<pack::PackEntry> entries;
  Status s = pack::ScanFrames(whole, [&](const pack::PackEntry& e, const pack::DecodedFrame&) {
    entries.push_back(e);
  });
  if (entries.empty() && !s.ok()) return s;
  return entries;
}

Result<index::PackId> PackIdFromKey(const std::string& key) {
  Buffer b;
  std::string hex = key.substr(key.rfind('/') + 1);
  if (hex.size() != 64 || !FromHex(hex, &b)) return Status::Corruption(key + ": bad pack name");
  index::PackId id;
  std::copy(b.begin(), b.end(), id.begin());
  return id;
}

}  // namespace

Result<RebuildReport> RebuildIndex(Repository& repo) {
  RebuildReport report;
  SNAP_RETURN_IF_ERROR(repo.chunk_index().Clear());
  SNAP_RETURN_IF_ERROR(repo.catalog().Clear());
  // A cached tree may name chunks the rebuilt index no longer holds.
  SNAP_RETURN_IF_ERROR(index::DirCache(&repo.kv()).Clear());
  std::vector<std::pair<std::string, uint64_t>> packs;
  SNAP_RETURN_IF_ERROR(repo.store().List("packs/", [&](std::string_view key, uint64_t size) {
    packs.emplace_back(std::string(key), size);
    return Status::OK();
  }));
  for (const auto& [key, size] : packs) {
    Result<index::PackId> id = PackIdFromKey(key);
    Result<std::vector<pack::PackEntry>> entries =
        id.ok() ? PackEntries(repo, key, size) : Result<std::vector<pack::PackEntry>>(id.status());
    if (!entries.ok()) {
      report.errors.push_back(key + ": " + entries.status().ToString());
      continue;
    }
    SNAP_RETURN_IF_ERROR(repo.chunk_index().AddPack(*id, *entries));
    report.packs++;
    report.chunks += entries->size();
  }
  SNAP_RETURN_IF_ERROR(repo.SyncCatalog());
  SNAP_ASSIGN_OR_RETURN(auto snaps, repo.ListSnapshots());
  report.snapshots = snaps.size();
  return report;
}

}  // namespace snap::engine

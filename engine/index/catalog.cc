// Keyspace 's': snapshot catalog ordered by time. Layout: FORMAT.md "Index keys".
#include "engine/index/catalog.h"

namespace snap::engine::index {
namespace {

constexpr char kCatalogPrefix = 's';  // On disk: never change.
constexpr size_t kTimeSize = 8;
constexpr size_t kKeySize = 1 + kTimeSize + ChunkId::kSize;
// Flipping the sign bit maps int64 order onto unsigned big-endian byte
// order, so a snapshot from before 1970 still sorts first.
constexpr uint64_t kSignBit = uint64_t{1} << 63;

std::string CatalogKey(int64_t time_ns, const ChunkId& id) {
  std::string key(1, kCatalogPrefix);
  const uint64_t t = static_cast<uint64_t>(time_ns) ^ kSignBit;
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(t >> shift));
  key.append(AsChars(id.span()));
  return key;
}

int64_t DecodeTime(std::string_view be) {
  uint64_t t = 0;
  for (char c : be) t = (t << 8) | static_cast<unsigned char>(c);
  return static_cast<int64_t>(t ^ kSignBit);
}

Result<CatalogEntry> DecodeEntry(std::string_view key, std::string_view value) {
  if (key.size() != kKeySize) {
    return Status::Corruption("catalog: key of " + std::to_string(key.size()) +
                              " bytes, want " + std::to_string(kKeySize));
  }
  CatalogEntry e;
  e.time_ns = DecodeTime(key.substr(1, kTimeSize));
  e.id = ChunkId::FromSpan(AsBytes(key.substr(1 + kTimeSize)));
  e.record.assign(value);
  return e;
}

}  // namespace

// Synced: a snapshot is committed once its sealed object exists; the
// catalog entry must not silently vanish after a crash that follows.
Status Catalog::Put(const CatalogEntry& e) {
  WriteBatch batch;
  batch.Put(CatalogKey(e.time_ns, e.id), e.record);
  return kv_->Write(batch, /*sync=*/true);
}

Status Catalog::Delete(int64_t time_ns, const ChunkId& id) {
  WriteBatch batch;
  batch.Delete(CatalogKey(time_ns, id));
  return kv_->Write(batch, /*sync=*/true);
}

Status Catalog::ForEach(const std::function<bool(const CatalogEntry&)>& fn) const {
  Status bad;
  SNAP_RETURN_IF_ERROR(kv_->Scan(std::string(1, kCatalogPrefix),
                                 [&](std::string_view key, std::string_view value) {
    Result<CatalogEntry> e = DecodeEntry(key, value);
    if (!e.ok()) {
      bad = e.status();
      return false;
    }
    return fn(*e);
  }));
  return bad;
}

Status Catalog::Clear() { return kv_->DeletePrefix(std::string(1, kCatalogPrefix)); }

}  // namespace snap::engine::index

// Keyspace 'c': chunk ID -> location record. Layout: FORMAT.md "Index keys".
#include "engine/index/chunk_index.h"

#include <algorithm>

#include "engine/codec/varint.h"
#include "engine/index/gc_state.h"

namespace snap::engine::index {
namespace {

constexpr char kChunkPrefix = 'c';          // On disk: never change.
constexpr uint8_t kLocationVersion = 1;     // On disk: bump on any layout change.
constexpr size_t kKeySize = 1 + ChunkId::kSize;

std::string ChunkKey(const ChunkId& id) {
  std::string key(1, kChunkPrefix);
  key.append(AsChars(id.span()));
  return key;
}

std::string EncodeLocation(const PackId& pack, const pack::PackEntry& e) {
  Buffer buf;
  codec::Encoder enc(&buf);
  enc.PutU8(kLocationVersion);
  enc.PutRaw(pack);
  enc.PutU8(static_cast<uint8_t>(e.kind));
  enc.PutU8(e.flags);
  enc.PutVarint(e.offset);
  enc.PutVarint(e.length);
  enc.PutVarint(e.raw_length);
  return std::string(AsChars(buf));
}

bool IsKnownKind(uint8_t kind) {
  return kind >= static_cast<uint8_t>(pack::EntryKind::kData) &&
         kind <= static_cast<uint8_t>(pack::EntryKind::kStream);
}

bool DecodeFields(codec::Decoder* dec, ChunkLocation* loc) {
  uint8_t version = 0, kind = 0;
  ByteSpan pack;
  pack::PackEntry& e = loc->entry;
  if (!dec->GetU8(&version) || version != kLocationVersion) return false;
  if (!dec->GetRaw(loc->pack.size(), &pack)) return false;
  if (!dec->GetU8(&kind) || !IsKnownKind(kind)) return false;
  if (!dec->GetU8(&e.flags) || !dec->GetVarint(&e.offset)) return false;
  if (!dec->GetVarint32(&e.length) || !dec->GetVarint32(&e.raw_length)) return false;
  std::copy(pack.begin(), pack.end(), loc->pack.begin());
  e.kind = static_cast<pack::EntryKind>(kind);
  return dec->done();
}

Result<ChunkLocation> DecodeLocation(const ChunkId& id, std::string_view value) {
  ChunkLocation loc;
  loc.entry.id = id;
  codec::Decoder dec(AsBytes(value));
  if (!DecodeFields(&dec, &loc)) {
    return Status::Corruption("index: chunk " + id.ShortHex() + ": bad location record");
  }
  return loc;
}

Status BadKey(std::string_view key) {
  return Status::Corruption("index: chunk key of " + std::to_string(key.size()) +
                            " bytes, want " + std::to_string(kKeySize));
}

Result<ChunkLocation> DecodeEntry(std::string_view key, std::string_view value) {
  if (key.size() != kKeySize) return BadKey(key);
  return DecodeLocation(ChunkId::FromSpan(AsBytes(key.substr(1))), value);
}

}  // namespace

Result<std::optional<ChunkLocation>> ChunkIndex::Get(const ChunkId& id) const {
  SNAP_ASSIGN_OR_RETURN(std::optional<ChunkLocation> loc, Locate(id));
  if (loc && Hidden(*loc)) return std::optional<ChunkLocation>();
  return loc;
}

Result<std::optional<ChunkLocation>> ChunkIndex::Locate(const ChunkId& id) const {
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> value, kv_->Get(ChunkKey(id)));
  if (!value) return std::optional<ChunkLocation>();
  SNAP_ASSIGN_OR_RETURN(ChunkLocation loc, DecodeLocation(id, *value));
  return std::optional<ChunkLocation>(std::move(loc));
}

Status ChunkIndex::MultiGet(std::span<const ChunkId> ids,
                            std::vector<std::optional<ChunkLocation>>* out) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const ChunkId& id : ids) keys.push_back(ChunkKey(id));
  std::vector<std::optional<std::string>> values;
  SNAP_RETURN_IF_ERROR(kv_->MultiGet(keys, &values));
  out->assign(ids.size(), std::nullopt);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!values[i]) continue;
    SNAP_ASSIGN_OR_RETURN(ChunkLocation loc, DecodeLocation(ids[i], *values[i]));
    if (!Hidden(loc)) (*out)[i] = std::move(loc);
  }
  return Status::OK();
}

Status ChunkIndex::AddPack(const PackId& pack, std::span<const pack::PackEntry> entries) {
  if (entries.empty()) return Status::OK();
  WriteBatch batch;
  for (const pack::PackEntry& e : entries) batch.Put(ChunkKey(e.id), EncodeLocation(pack, e));
  // Synced: the pack is already durable, and the snapshot written after
  // this must never reference chunks a crash could drop from the index.
  return kv_->Write(batch, /*sync=*/true);
}

Status ChunkIndex::Remove(std::span<const ChunkId> ids) {
  if (ids.empty()) return Status::OK();
  WriteBatch batch;
  for (const ChunkId& id : ids) batch.Delete(ChunkKey(id));
  return kv_->Write(batch, /*sync=*/true);
}

Status ChunkIndex::ForEach(
    const std::function<bool(const ChunkId&, const ChunkLocation&)>& fn) const {
  Status bad;
  SNAP_RETURN_IF_ERROR(kv_->Scan(std::string(1, kChunkPrefix),
                                 [&](std::string_view key, std::string_view value) {
    Result<ChunkLocation> loc = DecodeEntry(key, value);
    if (!loc.ok()) {
      bad = loc.status();
      return false;
    }
    return fn(loc->entry.id, *loc);
  }));
  return bad;
}

Status ChunkIndex::DropPacks(const PackSet& packs) {
  constexpr size_t kBatch = 4096;
  if (packs.empty()) return Status::OK();
  WriteBatch batch;
  Status written;
  // Deleting behind the scan is safe: the iterator reads a snapshot.
  SNAP_RETURN_IF_ERROR(ForEach([&](const ChunkId& id, const ChunkLocation& loc) {
    if (!packs.count(loc.pack)) return true;
    batch.Delete(ChunkKey(id));
    if (batch.size() < kBatch) return true;
    written = kv_->Write(batch, true);
    batch = WriteBatch();
    return written.ok();
  }));
  SNAP_RETURN_IF_ERROR(written);
  return batch.empty() ? Status::OK() : kv_->Write(batch, true);
}

Status ChunkIndex::Clear() {
  SNAP_RETURN_IF_ERROR(GcState(kv_).Clear());
  return kv_->DeletePrefix(std::string(1, kChunkPrefix));
}

}  // namespace snap::engine::index

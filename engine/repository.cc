// Repository: payload encoding, chunk reads and snapshot records.
#include "engine/repository.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "engine/codec/compress.h"
#include "engine/pack/bundle_table.h"
#include "engine/repo/snapshot_object.h"

namespace snap::engine {
namespace {

// The AEAD's associated data binds a payload to its ID and kind, so that a
// replica cannot swap one stored payload for another.
Buffer PayloadAad(const ChunkId& id, pack::EntryKind kind) {
  Buffer aad(id.bytes.begin(), id.bytes.end());
  aad.push_back(static_cast<std::byte>(kind));
  return aad;
}

Buffer SnapshotAad(const ChunkId& id) {
  Buffer aad = ToBuffer("snapctl-snapshot-v1:");
  Append(&aad, id.span());
  return aad;
}

// How many delta bases this thread is decoding at once.
thread_local int tl_delta_level = 0;
class DeltaLevel {
 public:
  DeltaLevel() { ++tl_delta_level; }
  ~DeltaLevel() { --tl_delta_level; }
  int depth() const { return tl_delta_level; }
};

}  // namespace

std::string Repository::PackKey(const index::PackId& pack) {
  std::string hex = ToHex(pack);
  return "packs/" + hex.substr(0, 2) + "/" + hex;
}

std::string Repository::SnapshotKey(const ChunkId& id) { return "snapshots/" + id.ToHex(); }

namespace {

// The zstd prefix of an entry stored with kFlagRefsPrefix.
Buffer RefsPrefix(const std::vector<ChunkId>& refs) {
  Buffer prefix;
  prefix.reserve(refs.size() * ChunkId::kSize);
  for (const ChunkId& id : refs) prefix.insert(prefix.end(), id.span().begin(), id.span().end());
  return prefix;
}

}  // namespace

ByteSpan Repository::EncodePayload(ByteSpan plain, pack::EntryHeader* header, Buffer* scratch,
                                   const Buffer* delta_base, std::optional<int> zstd_level) const {
  const int level = zstd_level.value_or(config_.zstd_level);
  header->raw_length = static_cast<uint32_t>(plain.size());
  header->flags = 0;
  // Per thread, its size kept: a fresh buffer of a chunk's size per call
  // fragments the heap of a many-threaded capture, and a shrunk one is
  // zero-filled again when it grows.
  thread_local Buffer packed;
  std::optional<ByteSpan> shrunk;
  uint8_t prefix_flag = 0;
  if (delta_base) {
    shrunk = codec::CompressDeltaInto(plain, *delta_base, level, &packed);
    prefix_flag = pack::kFlagDelta;
  } else if (!header->refs.empty()) {
    shrunk = codec::CompressDeltaInto(plain, RefsPrefix(header->refs), level, &packed);
    prefix_flag = pack::kFlagRefsPrefix;
  } else {
    shrunk = codec::CompressInto(plain, level, &packed);
  }
  ByteSpan body = plain;
  if (shrunk) {
    header->flags |= pack::kFlagCompressed | prefix_flag;
    body = *shrunk;
  }
  if (!sealer_) {
    if (shrunk) {
      MutableByteSpan out = Grow(scratch, body.size());
      std::copy(body.begin(), body.end(), out.begin());
      return out;
    }
    return plain;
  }
  header->flags |= pack::kFlagSealed;
  MutableByteSpan out = Grow(scratch, body.size() + codec::Sealer::kOverhead);
  sealer_->SealInto(body, PayloadAad(header->id, header->kind), out);
  return out;
}

namespace {

// An owned copy of `bytes`, which a ChunkScratch read returned: taken over
// without a copy when they are the head of scratch->plain.
Buffer TakeOwned(ChunkScratch* scratch, ByteSpan bytes) {
  if (bytes.data() == scratch->plain.data()) {
    scratch->plain.resize(bytes.size());
    return std::move(scratch->plain);
  }
  return Buffer(bytes.begin(), bytes.end());
}

}  // namespace

Result<Buffer> Repository::DecodePayload(const pack::DecodedFrame& frame, int* delta_depth) const {
  ChunkScratch scratch;
  SNAP_ASSIGN_OR_RETURN(ByteSpan plain, DecodePayload(frame, &scratch, delta_depth));
  return TakeOwned(&scratch, plain);
}

Result<ByteSpan> Repository::DecodePayload(const pack::DecodedFrame& frame, ChunkScratch* scratch,
                                           int* delta_depth) const {
  const pack::EntryHeader& h = frame.header;
  // Named only when something fails: most chunks decode.
  auto what = [&h] { return "chunk " + h.id.ShortHex(); };
  if (h.flags & pack::kFlagSlice) {
    // In clear even when encrypted: an offset, and what it cuts is checked
    // against the ID below.
    if (h.refs.size() != 1) return Status::Corruption(what() + ": slice without its one bundle");
    Result<uint32_t> offset = pack::DecodeSlicePayload(frame.payload);
    if (!offset.ok()) return offset.status().WithContext(what());
    Result<std::shared_ptr<const Buffer>> bundle = ReadBundle(h.refs[0]);
    if (!bundle.ok()) return bundle.status().WithContext(what() + ": its bundle");
    const Buffer& b = **bundle;
    if (*offset > b.size() || h.raw_length > b.size() - *offset)
      return Status::Corruption(what() + ": slice [" + std::to_string(*offset) + ", +" +
                                std::to_string(h.raw_length) + ") beyond its bundle's " +
                                std::to_string(b.size()) + " bytes");
    scratch->plain.assign(b.begin() + *offset, b.begin() + *offset + h.raw_length);
    if (delta_depth) *delta_depth = 0;
    if (Hash(scratch->plain) != h.id) return Status::Corruption(what() + ": content does not match its ID");
    return ByteSpan(scratch->plain);
  }
  SNAP_ASSIGN_OR_RETURN(ByteSpan plain, DecodeBody(frame, scratch, delta_depth));
  if (h.flags & pack::kFlagBundle) {
    SNAP_RETURN_IF_ERROR(CheckBundle(plain, h.id).WithContext(what()));
    return plain;
  }
  if (Hash(plain) != h.id) return Status::Corruption(what() + ": content does not match its ID");
  return plain;
}

ChunkId Repository::BundleId(std::span<const ChunkId> members) const {
  static_assert(sizeof(ChunkId) == ChunkId::kSize, "IDs are hashed back to back");
  return bundle_hasher_.Hash(std::as_bytes(members));
}

Status Repository::CheckBundle(ByteSpan plain, const ChunkId& id) const {
  SNAP_ASSIGN_OR_RETURN(pack::BundleLayout layout, pack::ParseBundleTable(plain));
  std::vector<ChunkId> members;
  members.reserve(layout.lengths.size());
  size_t offset = 0;
  for (uint32_t n : layout.lengths) {
    members.push_back(Hash(plain.subspan(offset, n)));
    offset += n;
  }
  if (BundleId(members) != id) return Status::Corruption("content does not match its ID");
  return Status::OK();
}

Result<ByteSpan> Repository::DecodeBody(const pack::DecodedFrame& frame, ChunkScratch* scratch,
                                        int* delta_depth) const {
  const pack::EntryHeader& h = frame.header;
  // Named only when something fails: most chunks decode.
  auto what = [&h] { return "chunk " + h.id.ShortHex(); };
  ByteSpan body = frame.payload;
  if (h.flags & pack::kFlagSealed) {
    if (!sealer_) return Status::Corruption(what() + ": sealed, but the repository is unencrypted");
    Result<ByteSpan> o = sealer_->OpenInto(frame.payload, PayloadAad(h.id, h.kind), &scratch->opened);
    if (!o.ok()) return o.status().WithContext(what());
    body = *o;
  } else if (sealer_) {
    return Status::Corruption(what() + ": not sealed in an encrypted repository");
  }
  ByteSpan plain;
  if (h.flags & pack::kFlagDelta) {
    if (h.refs.empty() || h.refs.size() > kMaxDeltaBases)
      return Status::Corruption(what() + ": delta with " + std::to_string(h.refs.size()) + " bases");
    // Bounds the recursion before it happens: a hostile chain may loop.
    DeltaLevel level;
    if (level.depth() > kMaxDeltaDepth)
      return Status::Corruption(what() + ": delta chain longer than " +
                                std::to_string(kMaxDeltaDepth) + " (or a loop)");
    // The base is the concatenation of every ref (at most a few chunks).
    Buffer base;
    int base_depth = 0;
    for (const ChunkId& ref : h.refs) {
      int depth = 0;
      Result<Buffer> part = ReadChunk(ref, &depth);
      if (!part.ok()) return part.status().WithContext(what() + ": delta base");
      base.insert(base.end(), part->begin(), part->end());
      base_depth = std::max(base_depth, depth);
      if (base.size() > pack::kMaxRawLength) return Status::Corruption(what() + ": delta base too large");
    }
    if (base_depth + 1 > kMaxDeltaDepth)
      return Status::Corruption(what() + ": delta chain longer than " +
                                std::to_string(kMaxDeltaDepth));
    if (delta_depth) *delta_depth = base_depth + 1;
    Result<Buffer> d = codec::DecompressDelta(body, base, h.raw_length);
    if (!d.ok()) return d.status().WithContext(what());
    scratch->plain = std::move(*d);
    plain = scratch->plain;
  } else if (h.flags & pack::kFlagRefsPrefix) {
    Result<Buffer> d = codec::DecompressDelta(body, RefsPrefix(h.refs), h.raw_length);
    if (!d.ok()) return d.status().WithContext(what());
    scratch->plain = std::move(*d);
    plain = scratch->plain;
  } else if (h.flags & pack::kFlagCompressed) {
    Result<ByteSpan> d = codec::DecompressInto(body, h.raw_length, &scratch->plain);
    if (!d.ok()) return d.status().WithContext(what());
    plain = *d;
  } else {
    if (body.size() != h.raw_length) return Status::Corruption(what() + ": length mismatch");
    plain = body;
  }
  return plain;
}

Result<Buffer> Repository::ReadFrame(const ChunkId& id) const {
  Buffer frame;
  SNAP_ASSIGN_OR_RETURN(ByteSpan got, ReadFrame(id, &frame));
  frame.resize(got.size());
  return frame;
}

Result<std::shared_ptr<const Buffer>> Repository::ReadBundle(const ChunkId& id) const {
  if (std::shared_ptr<const Buffer> hit = bundles_.Get(id)) return hit;
  ChunkScratch scratch;
  SNAP_ASSIGN_OR_RETURN(ByteSpan frame, ReadFrame(id, &scratch.frame));
  SNAP_ASSIGN_OR_RETURN(pack::DecodedFrame f, pack::DecodeFrame(frame));
  // Never a slice itself, so a chain of slices cannot loop; a delta is
  // bounded as any (a dump chunk of the same bytes may be the indexed copy).
  if (f.header.kind != pack::EntryKind::kData || (f.header.flags & pack::kFlagSlice))
    return Status::Corruption("chunk " + id.ShortHex() + " is not a bundle (a slice itself)");
  if (f.header.raw_length > pack::kMaxBundleLength)
    return Status::Corruption("chunk " + id.ShortHex() + " is too large for a bundle (" +
                              std::to_string(f.header.raw_length) + " bytes)");
  // Not hashed against its ID as a whole: a bundle is only ever read here to
  // cut slices from, each of which is hashed against its own ID, so a bundle
  // changed in any byte a slice uses fails that slice (hashing the whole
  // bundle too cost a restore of small files a second pass over them).
  // Sealed, it was authenticated before it was decompressed.
  SNAP_ASSIGN_OR_RETURN(ByteSpan plain, DecodeBody(f, &scratch, nullptr));
  if (f.header.flags & pack::kFlagBundle) {
    // Its members only: a slice cut from the table is beyond the bundle.
    Result<pack::BundleLayout> layout = pack::ParseBundleTable(plain);
    if (!layout.ok()) return layout.status().WithContext("chunk " + id.ShortHex());
    plain = plain.first(layout->members_bytes);
  }
  return bundles_.Put(id, TakeOwned(&scratch, plain));
}

Result<ByteSpan> Repository::ReadFrame(const ChunkId& id, Buffer* scratch) const {
  SNAP_ASSIGN_OR_RETURN(std::optional<index::ChunkLocation> loc, chunk_index_->Locate(id));
  if (!loc && fetcher_) {
    SNAP_RETURN_IF_ERROR(fetcher_->Fetch(std::span<const ChunkId>(&id, 1)));
    SNAP_ASSIGN_OR_RETURN(loc, chunk_index_->Locate(id));
  }
  if (!loc)
    return Status::NotFound("chunk " + id.ShortHex() +
                            ": not in the index (when a pack holds it, `snapctl check "
                            "--rebuild-index` indexes it again)");
  Result<ByteSpan> frame = ReadFrameAt(id, *loc, scratch);
  if (frame.status().IsNotFound()) {
    // The pack is gone: a gc run repacked it after this index was last
    // brought up to date, and a gc record names the pack the chunk went to.
    SNAP_ASSIGN_OR_RETURN(std::optional<index::ChunkLocation> moved, FindMovedChunk(id));
    if (moved) return ReadFrameAt(id, *moved, scratch);
  }
  return frame;
}

Result<ByteSpan> Repository::ReadFrameAt(const ChunkId& id, const index::ChunkLocation& loc,
                                         Buffer* scratch) const {
  std::string key = PackKey(loc.pack);
  Result<ByteSpan> frame = store_->GetInto(key, loc.entry.offset, loc.entry.length, scratch);
  if (!frame.ok()) return frame.status().WithContext(key);
  Result<pack::DecodedFrame> f = pack::DecodeFrame(*frame);
  if (!f.ok()) return f.status().WithContext(key + " @" + std::to_string(loc.entry.offset));
  if (f->header.id != id)
    return Status::Corruption(key + ": frame at " + std::to_string(loc.entry.offset) +
                              " holds another chunk than the index says");
  return frame;
}

Result<Buffer> Repository::ReadChunk(const ChunkId& id, int* delta_depth) const {
  ChunkScratch scratch;
  SNAP_ASSIGN_OR_RETURN(ByteSpan plain, ReadChunk(id, &scratch, delta_depth));
  return TakeOwned(&scratch, plain);
}

Result<ByteSpan> Repository::ReadChunk(const ChunkId& id, ChunkScratch* scratch,
                                       int* delta_depth) const {
  if (delta_depth) *delta_depth = 0;
  SNAP_ASSIGN_OR_RETURN(ByteSpan frame, ReadFrame(id, &scratch->frame));
  SNAP_ASSIGN_OR_RETURN(pack::DecodedFrame f, pack::DecodeFrame(frame));
  return DecodePayload(f, scratch, delta_depth);
}

Result<snapshot::Tree> Repository::ReadTree(const ChunkId& id) const {
  SNAP_ASSIGN_OR_RETURN(Buffer bytes, ReadChunk(id));
  Result<snapshot::Tree> t = snapshot::Tree::Decode(bytes);
  if (!t.ok()) return t.status().WithContext("tree " + id.ShortHex());
  return t;
}

Result<ChunkId> Repository::CommitSnapshot(const snapshot::SnapshotRecord& record) {
  Buffer plain;
  record.EncodeTo(&plain);
  ChunkId id = Hash(plain);
  repo::SnapshotObject obj;
  obj.refs = record.Refs();
  if (sealer_) {
    obj.flags = repo::kSnapshotObjectSealed;
    sealer_->Seal(plain, SnapshotAad(id), &obj.payload);
  } else {
    obj.payload = plain;
  }
  Buffer bytes;
  obj.EncodeTo(&bytes);
  SNAP_RETURN_IF_ERROR(store_->PutIfAbsent(SnapshotKey(id), bytes).status());
  SNAP_RETURN_IF_ERROR(catalog_->Put({record.time_ns, id, std::string(AsChars(plain))}));
  return id;
}

Result<snapshot::SnapshotRecord> Repository::LoadSnapshot(const ChunkId& id) const {
  SNAP_ASSIGN_OR_RETURN(Buffer bytes, store_->Get(SnapshotKey(id)));
  Buffer plain;
  return DecodeSnapshotObject(id, bytes, &plain);
}

Result<snapshot::SnapshotRecord> Repository::DecodeSnapshotObject(const ChunkId& id, ByteSpan bytes,
                                                                  Buffer* plain) const {
  std::string key = SnapshotKey(id);
  Result<repo::SnapshotObject> obj = repo::SnapshotObject::Decode(bytes);
  if (!obj.ok()) return obj.status().WithContext(key);
  *plain = obj->payload;
  if (obj->flags & repo::kSnapshotObjectSealed) {
    if (!sealer_) return Status::Corruption(key + ": sealed in an unencrypted repository");
    Result<Buffer> o = sealer_->Open(obj->payload, SnapshotAad(id));
    if (!o.ok()) return o.status().WithContext(key);
    *plain = std::move(*o);
  } else if (sealer_) {
    return Status::Corruption(key + ": not sealed in an encrypted repository");
  }
  if (Hash(*plain) != id) return Status::Corruption(key + ": record does not match its ID");
  Result<snapshot::SnapshotRecord> r = snapshot::SnapshotRecord::Decode(*plain);
  if (!r.ok()) return r.status().WithContext(key);
  if (r->Refs() != obj->refs)
    return Status::Corruption(key + ": clear refs differ from the record's source roots");
  return r;
}

Status Repository::ImportSnapshot(const ChunkId& id, ByteSpan object) {
  Buffer plain;
  SNAP_ASSIGN_OR_RETURN(snapshot::SnapshotRecord record, DecodeSnapshotObject(id, object, &plain));
  SNAP_RETURN_IF_ERROR(store_->PutIfAbsent(SnapshotKey(id), object).status());
  return catalog_->Put({record.time_ns, id, std::string(AsChars(plain))});
}

Result<Buffer> Repository::ReadSnapshotObject(const ChunkId& id) const {
  return store_->Get(SnapshotKey(id));
}

Result<std::vector<Repository::SnapshotInfo>> Repository::ListSnapshots() const {
  // The objects are what counts: another process may have forgotten some
  // while this one holds an index it cannot bring up to date.
  std::unordered_set<ChunkId, ChunkIdHash> present;
  SNAP_RETURN_IF_ERROR(store_->List("snapshots/", [&](std::string_view key, uint64_t) {
    std::optional<ChunkId> id = ChunkId::FromHex(key.substr(key.rfind('/') + 1));
    if (id) present.insert(*id);
    return Status::OK();
  }));
  std::vector<SnapshotInfo> out;
  Status decode_error;
  SNAP_RETURN_IF_ERROR(catalog_->ForEach([&](const index::CatalogEntry& e) {
    if (!present.count(e.id)) return true;
    Result<snapshot::SnapshotRecord> r = snapshot::SnapshotRecord::Decode(AsBytes(e.record));
    if (!r.ok()) {
      decode_error = r.status().WithContext("catalog entry " + e.id.ShortHex());
      return false;
    }
    out.push_back({e.id, std::move(*r)});
    return true;
  }));
  SNAP_RETURN_IF_ERROR(decode_error);
  return out;
}

Result<Repository::SnapshotInfo> Repository::ResolveSnapshot(std::string_view spec,
                                                             std::optional<int64_t> at_ns) const {
  SNAP_ASSIGN_OR_RETURN(std::vector<SnapshotInfo> all, ListSnapshots());
  if (all.empty()) return Status::NotFound("the repository holds no snapshot yet");
  if (spec.empty() || spec == "latest") {
    if (!at_ns) return all.back();
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      if (it->record.time_ns <= *at_ns) return *it;
    return Status::NotFound("no snapshot at or before the given time");
  }
  std::vector<const SnapshotInfo*> hits;
  for (const SnapshotInfo& s : all)
    if (s.id.ToHex().starts_with(spec)) hits.push_back(&s);
  if (hits.empty()) return Status::NotFound("no snapshot with ID " + std::string(spec));
  if (hits.size() > 1)
    return Status::InvalidArgument("snapshot ID prefix " + std::string(spec) +
                                   " is ambiguous: give more digits");
  return *hits[0];
}

Status Repository::ForgetSnapshot(const SnapshotInfo& s) {
  SNAP_RETURN_IF_ERROR(store_->Delete(SnapshotKey(s.id)));
  if (index_read_only_) return Status::OK();
  return catalog_->Delete(s.record.time_ns, s.id);
}

Status Repository::SyncCatalog() {
  std::map<ChunkId, bool> in_store;  // id -> seen in catalog
  SNAP_RETURN_IF_ERROR(store_->List("snapshots/", [&](std::string_view key, uint64_t) {
    std::optional<ChunkId> id = ChunkId::FromHex(key.substr(key.rfind('/') + 1));
    if (id) in_store[*id] = false;
    return Status::OK();
  }));
  std::vector<index::CatalogEntry> stale;
  SNAP_RETURN_IF_ERROR(catalog_->ForEach([&](const index::CatalogEntry& e) {
    auto it = in_store.find(e.id);
    if (it == in_store.end()) stale.push_back(e);
    else it->second = true;
    return true;
  }));
  for (const index::CatalogEntry& e : stale) SNAP_RETURN_IF_ERROR(catalog_->Delete(e.time_ns, e.id));
  for (const auto& [id, cataloged] : in_store) {
    if (cataloged) continue;
    Result<snapshot::SnapshotRecord> r = LoadSnapshot(id);
    if (!r.ok()) continue;  // `check` reports unreadable records
    Buffer plain;
    r->EncodeTo(&plain);
    SNAP_RETURN_IF_ERROR(catalog_->Put({r->time_ns, id, std::string(AsChars(plain))}));
  }
  return Status::OK();
}

}  // namespace snap::engine

#include "engine/gc/scratch.h"

#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "engine/codec/varint.h"

namespace snap::engine::gc {
namespace {

// Bounds what a scratch index caches: the run's memory must not grow with
// the repository.
constexpr size_t kScratchCacheBytes = 8u << 20;

std::string Key(char tag, ByteSpan a, ByteSpan b = {}) {
  std::string k(1, tag);
  k.append(AsChars(a));
  k.append(AsChars(b));
  return k;
}

std::string EntryKey(const PackId& pack, uint64_t offset) {
  std::string k = Key('e', pack);
  for (int shift = 56; shift >= 0; shift -= 8) k.push_back(static_cast<char>(offset >> shift));
  return k;
}

PackId PackFrom(std::string_view bytes) {
  PackId p;
  std::memcpy(p.data(), bytes.data(), p.size());
  return p;
}

Result<bool> PutIfNew(index::KvStore& kv, const std::string& key) {
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> v, kv.Get(key));
  if (v) return false;
  index::WriteBatch b;
  b.Put(key, "");
  SNAP_RETURN_IF_ERROR(kv.Write(b));
  return true;
}

Status Bad(std::string_view what) { return Status::Corruption("gc scratch index: bad " + std::string(what)); }

}  // namespace

Status ScratchIndex::AddPack(const PackId& pack, uint64_t size, bool complete,
                             const std::vector<pack::PackEntry>& entries) {
  index::WriteBatch b;
  for (const pack::PackEntry& e : entries) {
    Buffer by_pack, by_chunk;
    codec::Encoder ep(&by_pack), ec(&by_chunk);
    ep.PutId(e.id);
    ep.PutU8(static_cast<uint8_t>(e.kind));
    ep.PutU8(e.flags);
    ep.PutVarint(e.length);
    ep.PutVarint(e.raw_length);
    b.Put(EntryKey(pack, e.offset), AsChars(by_pack));
    ec.PutVarint(e.offset);
    ec.PutVarint(e.length);
    ec.PutVarint(e.raw_length);
    ec.PutU8(static_cast<uint8_t>(e.kind));
    ec.PutU8(e.flags);
    b.Put(Key('l', e.id.span(), pack), AsChars(by_chunk));
  }
  Buffer summary;
  codec::Encoder es(&summary);
  es.PutVarint(size);
  es.PutU8(complete ? 1 : 0);
  b.Put(Key('p', pack), AsChars(summary));
  return kv_->Write(b);
}

Status ScratchIndex::ForEachPack(const std::function<bool(const PackSummary&)>& fn) const {
  Status bad;
  SNAP_RETURN_IF_ERROR(kv_->Scan("p", [&](std::string_view key, std::string_view value) {
    PackSummary s;
    uint8_t complete = 0;
    codec::Decoder d(AsBytes(value));
    if (key.size() != 33 || !d.GetVarint(&s.size) || !d.GetU8(&complete)) {
      bad = Bad("pack summary");
      return false;
    }
    s.pack = PackFrom(key.substr(1));
    s.complete = complete != 0;
    return fn(s);
  }));
  return bad;
}

Result<std::vector<pack::PackEntry>> ScratchIndex::EntriesOf(const PackId& pack) const {
  std::vector<pack::PackEntry> out;
  Status bad;
  SNAP_RETURN_IF_ERROR(kv_->Scan(Key('e', pack), [&](std::string_view key, std::string_view value) {
    pack::PackEntry e;
    uint8_t kind = 0;
    codec::Decoder d(AsBytes(value));
    if (key.size() != 41 || !d.GetId(&e.id) || !d.GetU8(&kind) || !d.GetU8(&e.flags) ||
        !d.GetVarint32(&e.length) || !d.GetVarint32(&e.raw_length)) {
      bad = Bad("pack entry");
      return false;
    }
    e.kind = static_cast<pack::EntryKind>(kind);
    for (char c : key.substr(33)) e.offset = (e.offset << 8) | static_cast<unsigned char>(c);
    out.push_back(e);
    return true;
  }));
  SNAP_RETURN_IF_ERROR(bad);
  return out;
}

Result<std::vector<ChunkCopy>> ScratchIndex::CopiesOf(const ChunkId& id) const {
  std::vector<ChunkCopy> out;
  Status bad;
  SNAP_RETURN_IF_ERROR(kv_->Scan(Key('l', id.span()), [&](std::string_view key, std::string_view value) {
    ChunkCopy c;
    uint8_t kind = 0;
    codec::Decoder d(AsBytes(value));
    if (key.size() != 65 || !d.GetVarint(&c.entry.offset) || !d.GetVarint32(&c.entry.length) ||
        !d.GetVarint32(&c.entry.raw_length) || !d.GetU8(&kind) || !d.GetU8(&c.entry.flags)) {
      bad = Bad("chunk copy");
      return false;
    }
    c.pack = PackFrom(key.substr(33));
    c.entry.id = id;
    c.entry.kind = static_cast<pack::EntryKind>(kind);
    out.push_back(c);
    return true;
  }));
  SNAP_RETURN_IF_ERROR(bad);
  return out;
}

Result<bool> ScratchIndex::HasPack(const PackId& pack) const {
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_->Get(Key('p', pack)));
  return v.has_value();
}

Result<bool> ScratchIndex::Mark(const ChunkId& id) { return PutIfNew(*kv_, Key('m', id.span())); }

Result<bool> ScratchIndex::IsMarked(const ChunkId& id) const {
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_->Get(Key('m', id.span())));
  return v.has_value();
}

Result<bool> ScratchIndex::MarkCopied(const ChunkId& id) {
  return PutIfNew(*kv_, Key('n', id.span()));
}

Result<std::unique_ptr<ScratchDir>> ScratchDir::Create(const std::string& parent) {
  std::error_code ec;
  std::string base = parent.empty() ? std::filesystem::temp_directory_path(ec).string() : parent;
  if (base.empty()) base = "/tmp";
  std::string tmpl = base + "/snapctl-gc-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr)
    return Status::FromErrno("gc scratch directory " + tmpl, errno);
  return std::unique_ptr<ScratchDir>(new ScratchDir(tmpl));
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

Result<std::unique_ptr<index::KvStore>> ScratchDir::OpenKv() const {
  index::RocksOptions opts;
  opts.block_cache_bytes = kScratchCacheBytes;
  return index::OpenRocksKv(path_ + "/db", opts);
}

}  // namespace snap::engine::gc

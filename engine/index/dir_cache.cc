// Keyspace 'd': (source, directory path) -> gc state, digest, tree ID.
// Layout: FORMAT.md "Index keys".
#include "engine/index/dir_cache.h"

#include <optional>

#include "engine/codec/varint.h"

namespace snap::engine::index {
namespace {

constexpr char kDirPrefix = 'd';    // On disk: never change.
constexpr uint8_t kDirVersion = 1;  // On disk: bump on any layout change.
constexpr size_t kMaxGcKey = 255;   // as a lock's `seen` (FORMAT.md "Locks")
constexpr size_t kUpdateBatch = 4096;
constexpr size_t kMaxKey = size_t{1} << 20;

// Source names never contain NUL, so one source's keys never run into
// another's whose name it prefixes ("www" vs "www2").
std::string SourcePrefix(std::string_view source) {
  std::string key;
  key.reserve(2 + source.size());
  key.push_back(kDirPrefix);
  key.append(source);
  key.push_back('\0');
  return key;
}

std::string EncodeDir(const CachedDir& d) {
  Buffer buf;
  codec::Encoder enc(&buf);
  enc.PutU8(kDirVersion);
  enc.PutString(d.gc);
  enc.PutId(d.digest);
  enc.PutId(d.tree);
  return std::string(AsChars(buf));
}

std::optional<CachedDir> DecodeDir(std::string_view value) {
  codec::Decoder dec(AsBytes(value));
  CachedDir d;
  uint8_t version = 0;
  bool ok = dec.GetU8(&version) && version == kDirVersion && dec.GetString(&d.gc, kMaxGcKey) &&
            dec.GetId(&d.digest) && dec.GetId(&d.tree);
  if (!ok || !dec.done()) return std::nullopt;
  return d;
}

}  // namespace

Status DirCache::Load(std::string_view source, CachedDirs* out) const {
  out->clear();
  const std::string prefix = SourcePrefix(source);
  return kv_->Scan(prefix, [&](std::string_view key, std::string_view value) {
    std::optional<CachedDir> d = DecodeDir(value);
    if (d) out->emplace(std::string(key.substr(prefix.size())), std::move(*d));
    return true;
  });
}

Status DirCache::Clear() { return kv_->DeletePrefix(std::string(1, kDirPrefix)); }

Buffer& DirCacheUpdate::Log() {
  if (logs_.empty()) logs_.emplace_back();
  return logs_.back();
}

void DirCacheUpdate::Put(std::string_view source, std::string_view path, const CachedDir& dir) {
  codec::Encoder enc(&Log());
  enc.PutU8(1);
  enc.PutString(SourcePrefix(source) + std::string(path));
  enc.PutString(EncodeDir(dir));
  changes_++;
}

void DirCacheUpdate::Delete(std::string_view source, std::string_view path) {
  codec::Encoder enc(&Log());
  enc.PutU8(0);
  enc.PutString(SourcePrefix(source) + std::string(path));
  changes_++;
}

void DirCacheUpdate::Append(DirCacheUpdate&& other) {
  for (Buffer& log : other.logs_) logs_.push_back(std::move(log));
  changes_ += other.changes_;
  other.logs_.clear();
  other.changes_ = 0;
}

Status DirCacheUpdate::WriteTo(KvStore* kv) const {
  WriteBatch batch;
  for (const Buffer& log : logs_) {
    codec::Decoder dec(log);
    while (!dec.done()) {
      uint8_t put = 0;
      std::string key, value;
      // Our own bytes: a failure here is a bug, not damage.
      if (!dec.GetU8(&put) || !dec.GetString(&key, kMaxKey) ||
          (put && !dec.GetString(&value, kMaxKey)))
        return Status::Corruption("directory cache update: undecodable log");
      if (put) {
        batch.Put(key, value);
      } else {
        batch.Delete(key);
      }
      if (batch.size() == kUpdateBatch) {
        SNAP_RETURN_IF_ERROR(kv->Write(batch));
        batch = WriteBatch();
      }
    }
  }
  return batch.empty() ? Status::OK() : kv->Write(batch);
}

}  // namespace snap::engine::index

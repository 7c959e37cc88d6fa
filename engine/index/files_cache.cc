// Keyspace 'f': (source, path) -> stamp and chunk IDs. Layout: FORMAT.md
// "Index keys".
#include "engine/index/files_cache.h"

#include "engine/codec/varint.h"

namespace snap::engine::index {
namespace {

constexpr char kFilesPrefix = 'f';     // On disk: never change.
constexpr uint8_t kFileVersion = 1;    // On disk: bump on any layout change.

// Source names never contain NUL, so the separator keeps one source's
// paths apart from another's whose name it prefixes ("www" vs "www2").
std::string FileKey(std::string_view source, std::string_view path) {
  std::string key;
  key.reserve(2 + source.size() + path.size());
  key.push_back(kFilesPrefix);
  key.append(source);
  key.push_back('\0');
  key.append(path);
  return key;
}

std::string EncodeFile(const CachedFile& f) {
  Buffer buf;
  codec::Encoder enc(&buf);
  enc.PutU8(kFileVersion);
  enc.PutVarint(f.stamp.dev);
  enc.PutVarint(f.stamp.ino);
  enc.PutVarint(f.stamp.size);
  enc.PutSignedVarint(f.stamp.mtime_ns);
  enc.PutSignedVarint(f.stamp.ctime_ns);
  enc.PutVarint(f.chunks.size());
  for (const ChunkId& id : f.chunks) enc.PutId(id);
  return std::string(AsChars(buf));
}

bool DecodeStamp(codec::Decoder* dec, FileStamp* s) {
  uint8_t version = 0;
  return dec->GetU8(&version) && version == kFileVersion && dec->GetVarint(&s->dev) &&
         dec->GetVarint(&s->ino) && dec->GetVarint(&s->size) &&
         dec->GetSignedVarint(&s->mtime_ns) && dec->GetSignedVarint(&s->ctime_ns);
}

// nullopt when the value is damaged: the file is then simply read again.
std::optional<CachedFile> DecodeFile(std::string_view value) {
  codec::Decoder dec(AsBytes(value));
  CachedFile f;
  uint64_t count = 0;
  if (!DecodeStamp(&dec, &f.stamp) || !dec.GetVarint(&count)) return std::nullopt;
  // Checked before reserving so a damaged count cannot ask for gigabytes.
  if (count != dec.remaining() / ChunkId::kSize) return std::nullopt;
  f.chunks.resize(count);
  for (ChunkId& id : f.chunks) dec.GetId(&id);
  if (!dec.ok() || !dec.done()) return std::nullopt;
  return f;
}

}  // namespace

Status FilesCache::Lookup(std::string_view source, const std::vector<std::string>& paths,
                          std::vector<std::optional<CachedFile>>* out) const {
  std::vector<std::string> keys;
  keys.reserve(paths.size());
  for (const std::string& path : paths) keys.push_back(FileKey(source, path));
  std::vector<std::optional<std::string>> values;
  SNAP_RETURN_IF_ERROR(kv_->MultiGet(keys, &values));
  out->assign(paths.size(), std::nullopt);
  for (size_t i = 0; i < paths.size(); ++i) {
    if (values[i]) (*out)[i] = DecodeFile(*values[i]);
  }
  return Status::OK();
}

Result<bool> FilesCache::HasEntries(std::string_view source) const {
  bool any = false;
  SNAP_RETURN_IF_ERROR(kv_->Scan(FileKey(source, ""), [&](std::string_view, std::string_view) {
    any = true;
    return false;
  }));
  return any;
}

void FilesCache::Put(std::string_view source, std::string_view path, const CachedFile& f,
                     WriteBatch* batch) {
  batch->Put(FileKey(source, path), EncodeFile(f));
}

Status FilesCache::Clear() { return kv_->DeletePrefix(std::string(1, kFilesPrefix)); }

}  // namespace snap::engine::index

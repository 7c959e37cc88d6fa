#include "engine/repo/snapshot_object.h"

#include <cstring>

#include "engine/codec/checksum.h"
#include "engine/codec/varint.h"

namespace snap::engine::repo {
namespace {
constexpr char kMagic[8] = {'S', 'N', 'A', 'P', 'S', 'N', 'A', 'P'};
constexpr size_t kMaxRefs = 1 << 16;
constexpr size_t kMaxPayload = 64u << 20;
}  // namespace

void SnapshotObject::EncodeTo(Buffer* out) const {
  size_t start = out->size();
  codec::Encoder e(out);
  e.PutRaw(AsBytes(std::string_view(kMagic, 8)));
  e.PutVarint(kSnapshotObjectVersion);
  e.PutU8(flags);
  e.PutVarint(refs.size());
  for (const ChunkId& id : refs) e.PutId(id);
  e.PutBytes(payload);
  e.PutFixed64(codec::Xxh3(ByteSpan(*out).subspan(start)));
}

Result<SnapshotObject> SnapshotObject::Decode(ByteSpan in) {
  if (in.size() < 16 || std::memcmp(in.data(), kMagic, 8) != 0)
    return Status::Corruption("snapshot object: bad magic");
  ByteSpan body = in.first(in.size() - 8);
  codec::Decoder tail(in.subspan(in.size() - 8));
  uint64_t sum = 0;
  (void)tail.GetFixed64(&sum);
  if (codec::Xxh3(body) != sum) return Status::Corruption("snapshot object: checksum mismatch");
  codec::Decoder d(body.subspan(8));
  SnapshotObject o;
  uint32_t version = 0;
  uint64_t n = 0;
  if (!d.GetVarint32(&version)) return Status::Corruption("snapshot object: truncated");
  if (version != kSnapshotObjectVersion)
    return Status::NotSupported("snapshot object: version " + std::to_string(version) +
                                " unknown");
  if (!d.GetU8(&o.flags) || !d.GetVarint(&n) || n > kMaxRefs || n * 32 > d.remaining())
    return Status::Corruption("snapshot object: bad header");
  if ((o.flags & ~kSnapshotObjectSealed) != 0)
    return Status::Corruption("snapshot object: unknown flags");
  o.refs.resize(n);
  for (ChunkId& id : o.refs) (void)d.GetId(&id);
  std::string payload;
  if (!d.GetString(&payload, kMaxPayload) || !d.done())
    return Status::Corruption("snapshot object: truncated payload or trailing bytes");
  o.payload = ToBuffer(payload);
  return o;
}

}  // namespace snap::engine::repo

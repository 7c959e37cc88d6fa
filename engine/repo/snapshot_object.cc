#include "engine/repo/snapshot_object.h"

#include "engine/codec/checksummed.h"
#include "engine/codec/varint.h"

namespace snap::engine::repo {
namespace {
constexpr std::string_view kMagic = "SNAPSNAP";
constexpr size_t kMaxRefs = 1 << 16;
constexpr size_t kMaxPayload = 64u << 20;
}  // namespace

void SnapshotObject::EncodeTo(Buffer* out) const {
  size_t start = codec::BeginChecksummed(out, kMagic);
  codec::Encoder e(out);
  e.PutVarint(kSnapshotObjectVersion);
  e.PutU8(flags);
  e.PutVarint(refs.size());
  for (const ChunkId& id : refs) e.PutId(id);
  e.PutBytes(payload);
  codec::EndChecksummed(out, start);
}

Result<SnapshotObject> SnapshotObject::Decode(ByteSpan in) {
  SNAP_ASSIGN_OR_RETURN(ByteSpan body, codec::OpenChecksummed(in, kMagic, "snapshot object"));
  codec::Decoder d(body);
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

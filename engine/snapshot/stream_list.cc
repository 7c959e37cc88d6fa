#include "engine/snapshot/stream_list.h"

#include "engine/codec/varint.h"

namespace snap::engine::snapshot {

void StreamList::EncodeTo(Buffer* out) const {
  codec::Encoder e(out);
  e.PutVarint(kStreamListVersion);
  e.PutU8(level);
  e.PutVarint(ids.size());
  for (const ChunkId& id : ids) e.PutId(id);
}

Result<StreamList> StreamList::Decode(ByteSpan in) {
  codec::Decoder d(in);
  uint32_t version = 0;
  uint64_t count = 0;
  StreamList s;
  if (!d.GetVarint32(&version)) return Status::Corruption("stream list: truncated");
  if (version != kStreamListVersion)
    return Status::NotSupported("stream list: version " + std::to_string(version) + " unknown");
  if (!d.GetU8(&s.level) || !d.GetVarint(&count))
    return Status::Corruption("stream list: truncated");
  if (s.level > 1) return Status::Corruption("stream list: level above 1");
  if (count > kMaxStreamListIds || count * ChunkId::kSize != d.remaining())
    return Status::Corruption("stream list: count does not match its bytes");
  s.ids.resize(count);
  for (ChunkId& id : s.ids) (void)d.GetId(&id);
  return s;
}

}  // namespace snap::engine::snapshot

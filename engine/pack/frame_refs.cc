#include "engine/pack/frame_refs.h"

#include "engine/codec/varint.h"
#include "engine/pack/pack_format.h"

namespace snap::engine::pack {

Result<std::vector<ChunkId>> ReadFrameRefs(const store::ObjectStore& store, const std::string& key,
                                           uint64_t offset, uint32_t length, uint32_t max_refs) {
  const std::string where = key + " @" + std::to_string(offset);
  SNAP_ASSIGN_OR_RETURN(Buffer header, store.Get(key, offset, kFrameHeaderSize));
  Result<size_t> size = FrameSize(header);
  if (!size.ok()) return size.status().WithContext(where);
  if (*size != length) return Status::Corruption(where + ": frame size differs from the footer");
  uint32_t ref_count = 0;
  codec::Decoder(ByteSpan(header).subspan(4, 4)).GetFixed32(&ref_count);
  if (ref_count > max_refs)
    return Status::Corruption(where + ": " + std::to_string(ref_count) + " refs, at most " +
                              std::to_string(max_refs) + " expected");
  std::vector<ChunkId> refs;
  if (ref_count == 0) return refs;
  SNAP_ASSIGN_OR_RETURN(Buffer raw, store.Get(key, offset + kFrameHeaderSize,
                                              uint64_t{ref_count} * ChunkId::kSize));
  refs.reserve(ref_count);
  for (uint32_t i = 0; i < ref_count; ++i)
    refs.push_back(ChunkId::FromSpan(ByteSpan(raw).subspan(i * ChunkId::kSize, ChunkId::kSize)));
  return refs;
}

}  // namespace snap::engine::pack

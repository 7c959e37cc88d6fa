#include "engine/gc/marker.h"

#include <cstring>

#include "engine/pack/frame_refs.h"
#include "engine/repository.h"

namespace snap::engine::gc {
namespace {

constexpr uint64_t kProgressEvery = 4096;

}  // namespace

Status Marker::Run(const std::vector<ChunkId>& roots) {
  for (const ChunkId& root : roots) {
    SNAP_RETURN_IF_ERROR(Visit(root));
    while (!pending_.empty()) {
      ChunkId id = pending_.back();
      pending_.pop_back();
      SNAP_RETURN_IF_ERROR(Expand(id));
    }
  }
  return Status::OK();
}

Status Marker::Visit(const ChunkId& id) {
  SNAP_ASSIGN_OR_RETURN(bool fresh, scratch_->Mark(id));
  if (!fresh) return Status::OK();
  if (++marked_ % kProgressEvery == 0 && progress) progress(marked_);
  pending_.push_back(id);
  return Status::OK();
}

// Every copy's refs count: readers may use any copy, and replication ships
// a frame only with what its refs name.
Status Marker::Expand(const ChunkId& id) {
  SNAP_ASSIGN_OR_RETURN(std::vector<ChunkCopy> copies, scratch_->CopiesOf(id));
  if (copies.empty())
    return Status::Corruption("chunk " + id.ShortHex() +
                              " is referenced but in no pack; run `snapctl check` (gc deleted "
                              "nothing)");
  for (const ChunkCopy& c : copies) {
    SNAP_ASSIGN_OR_RETURN(std::vector<ChunkId> refs, RefsOf(c));
    for (const ChunkId& r : refs) SNAP_RETURN_IF_ERROR(Visit(r));
  }
  return Status::OK();
}

// Trees, stream lists and deltas need their refs to be read: their frames
// are read whole and verified. A plain data frame rarely has refs (a dump
// chunk whose delta did not pay keeps its would-be bases), so only its
// 48-byte header is read, and its refs when it has some.
Result<std::vector<ChunkId>> Marker::RefsOf(const ChunkCopy& c) const {
  const std::string key = Repository::PackKey(c.pack);
  const std::string where = key + " @" + std::to_string(c.entry.offset);
  bool needs_refs = c.entry.kind != pack::EntryKind::kData || pack::HasBaseRefs(c.entry.flags);
  if (needs_refs) {
    SNAP_ASSIGN_OR_RETURN(Buffer frame, store_->Get(key, c.entry.offset, c.entry.length));
    Result<pack::DecodedFrame> f = pack::DecodeFrame(frame);
    if (!f.ok()) return f.status().WithContext(where);
    if (f->header.id != c.entry.id) return Status::Corruption(where + ": holds another chunk");
    return std::move(f->header.refs);
  }
  return pack::ReadFrameRefs(*store_, key, c.entry.offset, c.entry.length);
}

}  // namespace snap::engine::gc

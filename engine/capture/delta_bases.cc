#include "engine/capture/delta_bases.h"

#include <algorithm>

#include "engine/repository.h"
#include "engine/snapshot/stream_list.h"

namespace snap::engine::capture {

Result<DeltaBases> DeltaBases::Load(const Repository& repo, const ChunkId& root) {
  DeltaBases b(&repo);
  SNAP_RETURN_IF_ERROR(b.AddList(root, 0));
  return b;
}

Status DeltaBases::AddList(const ChunkId& list_id, int depth) {
  SNAP_ASSIGN_OR_RETURN(Buffer bytes, repo_->ReadChunk(list_id));
  SNAP_ASSIGN_OR_RETURN(snapshot::StreamList list, snapshot::StreamList::Decode(bytes));
  if (list.level == 1) {
    if (depth > 0) return Status::Corruption("stream list: nested too deep");
    for (const ChunkId& id : list.ids) SNAP_RETURN_IF_ERROR(AddList(id, depth + 1));
    return Status::OK();
  }
  std::vector<std::optional<index::ChunkLocation>> locs;
  SNAP_RETURN_IF_ERROR(repo_->chunk_index().MultiGet(list.ids, &locs));
  for (size_t i = 0; i < list.ids.size(); ++i) {
    if (!locs[i]) return Status::NotFound("parent stream chunk " + list.ids[i].ShortHex());
    ids_.push_back(list.ids[i]);
    starts_.push_back(end_);
    end_ += locs[i]->entry.raw_length;
  }
  return Status::OK();
}

std::optional<std::pair<ChunkId, Buffer>> DeltaBases::At(uint64_t offset) const {
  if (ids_.empty()) return std::nullopt;
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  size_t i = it == starts_.begin() ? 0 : static_cast<size_t>(it - starts_.begin()) - 1;
  int depth = 0;
  Result<Buffer> plain = repo_->ReadChunk(ids_[i], &depth);
  if (!plain.ok() || depth + 1 > Repository::kMaxDeltaDepth) return std::nullopt;
  return std::make_pair(ids_[i], std::move(*plain));
}

}  // namespace snap::engine::capture

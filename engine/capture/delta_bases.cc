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

namespace {
constexpr size_t kPrefixBytes = 48;
constexpr size_t kCacheChunks = 24;
constexpr size_t kSearchBack = 2, kSearchAhead = 16;
}  // namespace

const Buffer* DeltaBases::Plain(size_t i) {
  auto it = cache_.find(i);
  if (it == cache_.end()) {
    int depth = 0;
    Result<Buffer> plain = repo_->ReadChunk(ids_[i], &depth);
    std::optional<Buffer> v;
    if (plain.ok() && depth + 1 <= Repository::kMaxDeltaDepth) v = std::move(*plain);
    it = cache_.emplace(i, std::move(v)).first;
    // The walk moves forward: drop what lies far behind.
    while (cache_.size() > kCacheChunks) cache_.erase(cache_.begin());
  }
  return it->second ? &*it->second : nullptr;
}

std::optional<size_t> DeltaBases::FindPrefix(ByteSpan prefix) {
  size_t from = next_ > kSearchBack ? next_ - kSearchBack : 0;
  size_t to = std::min(ids_.size(), next_ + kSearchAhead);
  for (size_t i = from; i < to; ++i) {
    const Buffer* p = Plain(i);
    if (p && std::search(p->begin(), p->end(), prefix.begin(), prefix.end()) != p->end())
      return i;
  }
  return std::nullopt;
}

std::optional<DeltaBases::Base> DeltaBases::Make(size_t i) {
  Base b;
  for (size_t j = i; j < std::min(i + 2, ids_.size()); ++j) {
    const Buffer* p = Plain(j);
    if (!p) break;
    b.ids.push_back(ids_[j]);
    b.plain.insert(b.plain.end(), p->begin(), p->end());
  }
  if (b.ids.empty()) return std::nullopt;
  next_ = i + 1;
  return b;
}

std::optional<DeltaBases::Base> DeltaBases::For(ByteSpan data, uint64_t offset) {
  if (ids_.empty()) return std::nullopt;
  if (data.size() >= kPrefixBytes)
    if (std::optional<size_t> i = FindPrefix(data.first(kPrefixBytes))) return Make(*i);
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  size_t i = it == starts_.begin() ? 0 : static_cast<size_t>(it - starts_.begin()) - 1;
  return Make(i);
}

}  // namespace snap::engine::capture

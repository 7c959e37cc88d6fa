#include "engine/restore/content_batch.h"

#include <algorithm>

namespace snap::engine::restore {

void PlanReads(Batch* b, uint64_t max_read, uint64_t max_gap) {
  std::unordered_map<index::PackId, uint32_t, index::PackIdHash> rank;
  b->order.clear();
  for (uint32_t i = 0; i < b->chunks.size(); ++i) {
    const BatchChunk& c = b->chunks[i];
    if (!c.loc || c.targets.empty()) continue;
    rank.try_emplace(c.loc->pack, static_cast<uint32_t>(rank.size()));
    b->order.push_back(i);
  }
  auto key = [&](uint32_t i) {
    const index::ChunkLocation& l = *b->chunks[i].loc;
    return std::pair(rank[l.pack], l.entry.offset);
  };
  std::sort(b->order.begin(), b->order.end(), [&](uint32_t x, uint32_t y) { return key(x) < key(y); });
  b->reads.clear();
  for (uint32_t k = 0; k < b->order.size(); ++k) {
    const index::ChunkLocation& l = *b->chunks[b->order[k]].loc;
    uint64_t begin = l.entry.offset, end = begin + l.entry.length;
    if (!b->reads.empty()) {
      PackRead& r = b->reads.back();
      uint64_t r_end = r.offset + r.length;
      if (r.pack == l.pack && begin >= r_end && begin - r_end <= max_gap &&
          end - r.offset <= max_read) {
        r.length = end - r.offset;
        r.end = k + 1;
        continue;
      }
    }
    b->reads.push_back(PackRead{l.pack, begin, end - begin, k, k + 1});
  }
}

}  // namespace snap::engine::restore

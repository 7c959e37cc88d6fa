#include "engine/repo/bundle_cache.h"

#include <algorithm>

namespace snap::engine::repo {

std::shared_ptr<const Buffer> BundleCache::Get(const ChunkId& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->first != id) continue;
    std::shared_ptr<const Buffer> hit = it->second;
    // Most recent last, so that a bundle in use outlives the others.
    std::rotate(it.base() - 1, it.base(), entries_.end());
    return hit;
  }
  return nullptr;
}

std::shared_ptr<const Buffer> BundleCache::Put(const ChunkId& id, Buffer plain) {
  auto shared = std::make_shared<const Buffer>(std::move(plain));
  std::lock_guard<std::mutex> lock(mu_);
  auto same = std::find_if(entries_.begin(), entries_.end(), [&](const auto& e) { return e.first == id; });
  if (same != entries_.end()) entries_.erase(same);
  if (capacity_ > 0 && entries_.size() >= capacity_) entries_.erase(entries_.begin());
  entries_.emplace_back(id, shared);
  return shared;
}

}  // namespace snap::engine::repo

// MemKv: the in-memory KvStore tests run on, with RocksKv's semantics.
#include <map>
#include <mutex>
#include <shared_mutex>

#include "engine/index/kv_store.h"

namespace snap::engine::index {
namespace {

class MemKv final : public KvStore {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status MultiGet(const std::vector<std::string>& keys,
                  std::vector<std::optional<std::string>>* values) const override;
  Status Write(const WriteBatch& batch, bool sync) override;
  Status Scan(std::string_view prefix,
              const std::function<bool(std::string_view, std::string_view)>& fn) const override;
  Status DeletePrefix(std::string_view prefix) override;

 private:
  using Map = std::map<std::string, std::string, std::less<>>;

  std::optional<std::string> Find(std::string_view key) const;  // REQUIRES: mu_ held

  mutable std::shared_mutex mu_;
  Map map_;  // GUARDED_BY(mu_)
};

std::optional<std::string> MemKv::Find(std::string_view key) const {
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

Result<std::optional<std::string>> MemKv::Get(std::string_view key) const {
  std::shared_lock lock(mu_);
  return Find(key);
}

Status MemKv::MultiGet(const std::vector<std::string>& keys,
                       std::vector<std::optional<std::string>>* values) const {
  std::shared_lock lock(mu_);
  values->clear();
  values->reserve(keys.size());
  for (const std::string& key : keys) values->push_back(Find(key));
  return Status::OK();
}

Status MemKv::Write(const WriteBatch& batch, bool /*sync*/) {
  std::unique_lock lock(mu_);
  for (const WriteBatch::Op& op : batch.ops()) {
    if (op.is_delete) {
      map_.erase(op.key);
    } else {
      map_.insert_or_assign(op.key, op.value);
    }
  }
  return Status::OK();
}

Status MemKv::Scan(std::string_view prefix,
                   const std::function<bool(std::string_view, std::string_view)>& fn) const {
  // Copy the range first, as a RocksDB iterator reads a snapshot: fn may
  // then write to this store without deadlocking or invalidating iterators.
  std::vector<std::pair<std::string, std::string>> range;
  {
    std::shared_lock lock(mu_);
    for (auto it = map_.lower_bound(prefix); it != map_.end(); ++it) {
      if (!it->first.starts_with(prefix)) break;
      range.emplace_back(*it);
    }
  }
  for (const auto& [key, value] : range) {
    if (!fn(key, value)) break;
  }
  return Status::OK();
}

Status MemKv::DeletePrefix(std::string_view prefix) {
  std::unique_lock lock(mu_);
  auto first = map_.lower_bound(prefix);
  auto last = first;
  while (last != map_.end() && last->first.starts_with(prefix)) ++last;
  map_.erase(first, last);
  return Status::OK();
}

}  // namespace

std::unique_ptr<KvStore> NewMemKv() { return std::make_unique<MemKv>(); }

}  // namespace snap::engine::index

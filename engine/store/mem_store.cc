// ObjectStore in memory, for tests: same key rules and results as the local
// store, so a test passing here means the same against a directory.
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/store/object_store.h"

namespace snap::engine::store {

// Defined in local_store.cc: one set of key rules for every store.
namespace internal {
Status ValidateKey(std::string_view key);
Status ValidatePrefix(std::string_view prefix);
Result<uint64_t> RangeLength(std::string_view key, uint64_t size, uint64_t offset, uint64_t length);
}  // namespace internal

namespace {

using ListFn = std::function<Status(std::string_view key, uint64_t size)>;

class MemStore final : public ObjectStore {
 public:
  Result<bool> PutIfAbsent(std::string_view key, ByteSpan data) override {
    SNAP_RETURN_IF_ERROR(internal::ValidateKey(key));
    std::lock_guard lock(mu_);
    auto [it, inserted] = objects_.try_emplace(std::string(key));
    if (inserted) it->second.assign(data.begin(), data.end());
    return inserted;
  }

  Result<Buffer> Get(std::string_view key, uint64_t offset, uint64_t length) const override {
    SNAP_RETURN_IF_ERROR(internal::ValidateKey(key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return Absent(key);
    const Buffer& data = it->second;
    SNAP_ASSIGN_OR_RETURN(uint64_t n, internal::RangeLength(key, data.size(), offset, length));
    return Buffer(data.begin() + offset, data.begin() + offset + n);
  }

  Result<uint64_t> Head(std::string_view key) const override {
    SNAP_RETURN_IF_ERROR(internal::ValidateKey(key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it == objects_.end()) return Absent(key);
    return uint64_t{it->second.size()};
  }

  // fn runs without the lock held, so it may call back into the store.
  Status List(std::string_view prefix, const ListFn& fn) const override {
    SNAP_RETURN_IF_ERROR(internal::ValidatePrefix(prefix));
    for (const auto& [key, size] : Matching(prefix)) SNAP_RETURN_IF_ERROR(fn(key, size));
    return Status::OK();
  }

  Status Delete(std::string_view key) override {
    SNAP_RETURN_IF_ERROR(internal::ValidateKey(key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(key);
    if (it != objects_.end()) objects_.erase(it);
    return Status::OK();
  }

  Status Replace(std::string_view key, ByteSpan data) override {
    SNAP_RETURN_IF_ERROR(internal::ValidateKey(key));
    std::lock_guard lock(mu_);
    objects_[std::string(key)].assign(data.begin(), data.end());
    return Status::OK();
  }

 private:
  static Status Absent(std::string_view key) {
    return Status::NotFound(std::string(key) + ": no such object");
  }

  std::vector<std::pair<std::string, uint64_t>> Matching(std::string_view prefix) const {
    std::vector<std::pair<std::string, uint64_t>> out;
    std::lock_guard lock(mu_);
    for (auto it = objects_.lower_bound(prefix);
         it != objects_.end() && it->first.starts_with(prefix); ++it) {
      out.emplace_back(it->first, it->second.size());
    }
    return out;
  }

  mutable std::mutex mu_;
  std::map<std::string, Buffer, std::less<>> objects_;  // guarded by mu_
};

}  // namespace

std::unique_ptr<ObjectStore> NewMemStore() { return std::make_unique<MemStore>(); }

}  // namespace snap::engine::store

// Keyspace 'g': gc records applied. Layout: FORMAT.md "Index keys".
#include "engine/index/gc_state.h"

#include <algorithm>

namespace snap::engine::index {
namespace {

constexpr char kPrefix = 'g';        // On disk: never change.
constexpr char kAppliedTag = 'a';    // On disk.
constexpr char kHiddenTag = 'h';     // On disk.

std::string AppliedKey() { return {kPrefix, kAppliedTag}; }

std::string HiddenKey(const PackId& pack) {
  std::string key{kPrefix, kHiddenTag};
  key.append(AsChars(pack));
  return key;
}

}  // namespace

Result<std::string> GcState::Applied() const {
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_->Get(AppliedKey()));
  return v.value_or("");
}

Result<std::vector<PackId>> GcState::HiddenPacks() const {
  std::vector<PackId> out;
  Status bad;
  const std::string prefix{kPrefix, kHiddenTag};
  SNAP_RETURN_IF_ERROR(kv_->Scan(prefix, [&](std::string_view key, std::string_view) {
    if (key.size() != prefix.size() + sizeof(PackId)) {
      bad = Status::Corruption("index: gc state: hidden pack key of " +
                               std::to_string(key.size()) + " bytes");
      return false;
    }
    PackId p;
    std::copy_n(reinterpret_cast<const std::byte*>(key.data() + prefix.size()), p.size(),
                p.begin());
    out.push_back(p);
    return true;
  }));
  SNAP_RETURN_IF_ERROR(bad);
  return out;
}

void GcState::Hide(WriteBatch* b, const PackId& pack) { b->Put(HiddenKey(pack), ""); }
void GcState::Unhide(WriteBatch* b, const PackId& pack) { b->Delete(HiddenKey(pack)); }
void GcState::SetApplied(WriteBatch* b, std::string_view record_key) {
  b->Put(AppliedKey(), record_key);
}

Status GcState::Clear() { return kv_->DeletePrefix(std::string(1, kPrefix)); }

}  // namespace snap::engine::index

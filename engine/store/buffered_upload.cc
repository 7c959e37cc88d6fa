// The default ObjectStore::StartUpload: the bytes are kept in memory and
// put whole on Commit (the in-memory store; any store without a better way).
#include "engine/store/object_store.h"

namespace snap::engine::store {
namespace internal {
Status ValidateKey(std::string_view key);
}

namespace {

class BufferedUpload final : public ObjectUpload {
 public:
  explicit BufferedUpload(ObjectStore* store) : store_(store) {}

  Status Append(ByteSpan data) override {
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return Status::OK();
  }

  Result<bool> Commit(std::string_view key) override {
    Result<bool> put = store_->PutIfAbsent(key, bytes_);
    Buffer().swap(bytes_);
    return put;
  }

 private:
  ObjectStore* store_;
  Buffer bytes_;
};

}  // namespace

Result<std::unique_ptr<ObjectUpload>> ObjectStore::StartUpload(std::string_view dir) {
  SNAP_RETURN_IF_ERROR(internal::ValidateKey(dir));
  return std::unique_ptr<ObjectUpload>(new BufferedUpload(this));
}

}  // namespace snap::engine::store

// ObjectStore: the seam behind which packs, keys, config and snapshot
// records live. Five calls, so that an S3-compatible bucket can implement
// it later; everything several replicas must share is expressible in them.
//
// Keys are '/'-separated relative names such as "packs/ab/ab12...".
// Objects are immutable: written once, whole, atomically; read by range.
// The one exception is repair: Replace puts good bytes in place of damaged
// ones under the same name.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "engine/bytes.h"
#include "engine/result.h"

namespace snap::engine::store {

// A put whose bytes arrive in pieces and whose name is known only once all
// of them are there: a pack is named by the hash of its bytes, and is
// written to disk as it fills instead of being held whole in memory.
// One thread at a time. Destroying an upload that was not committed removes
// whatever it wrote.
class ObjectUpload {
 public:
  virtual ~ObjectUpload() = default;
  virtual Status Append(ByteSpan data) = 0;
  // As PutIfAbsent(key, every byte appended): true when written, false when
  // an object of that name existed. Durable when it returns. Spent after.
  virtual Result<bool> Commit(std::string_view key) = 0;
};

class ObjectStore {
 public:
  static constexpr uint64_t kToEnd = std::numeric_limits<uint64_t>::max();

  virtual ~ObjectStore() = default;

  // Stores `data` under `key` unless an object of that name exists. Returns
  // true when written, false when it already existed (its content is left
  // alone). Durable when it returns: a local store writes a temp file,
  // fsyncs it, renames it into place and fsyncs the directory.
  virtual Result<bool> PutIfAbsent(std::string_view key, ByteSpan data) = 0;

  // Starts an upload whose key will lie below the directory `dir` (such as
  // "packs"). This default holds the bytes in memory until Commit.
  virtual Result<std::unique_ptr<ObjectUpload>> StartUpload(std::string_view dir);

  // Reads `length` bytes (kToEnd: to the end) from `offset`. NotFound when
  // the object is absent; Corruption when it is shorter than asked.
  virtual Result<Buffer> Get(std::string_view key, uint64_t offset = 0,
                             uint64_t length = kToEnd) const = 0;
  // The same into the first bytes of *scratch (see Grow), returned: a
  // reader of many ranges reuses one buffer.
  virtual Result<ByteSpan> GetInto(std::string_view key, uint64_t offset, uint64_t length,
                                   Buffer* scratch) const {
    SNAP_ASSIGN_OR_RETURN(*scratch, Get(key, offset, length));
    return ByteSpan(*scratch);
  }

  // The object's size; NotFound when absent.
  virtual Result<uint64_t> Head(std::string_view key) const = 0;

  // Calls fn(key, size) for every object whose key starts with `prefix`, in
  // no particular order. Stops and returns fn's first non-ok Status.
  virtual Status List(std::string_view prefix,
                      const std::function<Status(std::string_view key, uint64_t size)>& fn)
      const = 0;

  // Removes the object; OK when it did not exist.
  virtual Status Delete(std::string_view key) = 0;

  // Removes the temp files under `prefix` (FORMAT.md "Object store layout":
  // names with ".tmp-", left by writers that crashed) last modified before
  // `before_ns` (wall clock); returns how many. A store without temp files
  // has none to remove.
  virtual Result<uint64_t> RemoveTempFiles(std::string_view prefix, int64_t before_ns) {
    (void)prefix;
    (void)before_ns;
    return 0;
  }

  // Repair only: atomically puts `data` in place of the object `key` (whose
  // bytes were found damaged), or stores it when absent. Durable when it
  // returns; a later Get reads the new bytes.
  virtual Status Replace(std::string_view key, ByteSpan data) = 0;
};

// A store in a local directory (created if missing). Temp files are named
// "<key>.tmp-<random>" and never listed.
Result<std::unique_ptr<ObjectStore>> OpenLocalStore(const std::string& root);

// An in-memory store for tests.
std::unique_ptr<ObjectStore> NewMemStore();

}  // namespace snap::engine::store

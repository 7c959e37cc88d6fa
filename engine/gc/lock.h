// Advisory locks under locks/ (FORMAT.md "Garbage collection", "Locks").
//
// A snapshot writer holds a writer lock from before it reads the gc
// records until it has committed. The lock first says "starting"; once the
// writer has applied the records, it is replaced by one naming the newest
// record applied ("seen"). gc deletes the packs a record condemned only
// once every live writer has seen that record, so no running writer can
// have deduplicated against them. gc itself holds the single lock
// `locks/gc`, so two gc runs never interleave. Locks never block a writer:
// a snapshot does not look at them.
//
//   "SNAPLOCK" | version varint | kind u8 | host string | pid varint |
//   start_ns zigzag | state u8 | seen string | xxh3 u64 of everything before it
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/bytes.h"
#include "engine/result.h"
#include "engine/store/object_store.h"

namespace snap::engine::gc {

inline constexpr uint32_t kLockVersion = 1;  // On disk.
inline constexpr char kLockPrefix[] = "locks/";
inline constexpr char kGcLockKey[] = "locks/gc";
// A lock from another host whose process cannot be checked is stale after this.
inline constexpr int64_t kLockStaleNs = int64_t{24} * 3600 * 1000000000;

enum class LockKind : uint8_t {  // On disk: never renumber.
  kWriter = 1,  // a snapshot: writes packs and commits a snapshot
  kGc = 2,
};

enum class LockState : uint8_t {  // On disk: never renumber.
  kStarting = 1,  // the writer may not have read the gc records yet
  kRunning = 2,   // it has applied every record up to `seen`
};

struct LockInfo {
  LockKind kind = LockKind::kWriter;
  std::string host;      // gethostname() of the process holding it
  uint64_t pid = 0;
  int64_t start_ns = 0;  // taken before the first lock was written
  LockState state = LockState::kStarting;
  std::string seen;      // kRunning: key of the newest gc record applied ("" none)

  // Whether the holder has applied the gc record `record_key`.
  bool HasSeen(std::string_view record_key) const {
    return state == LockState::kRunning && seen >= record_key;
  }

  void EncodeTo(Buffer* out) const;
  static Result<LockInfo> Decode(ByteSpan in);
};

// This machine's host name, as locks record it.
std::string LockHostName();

// Whether `lock` is stale at `now_ns`: on this host, when its process is
// gone (a live process keeps its lock valid whatever its age); from another
// host, when it is older than kLockStaleNs. *why says which.
bool IsStale(const LockInfo& lock, int64_t now_ns, std::string* why);

// A lock object held until destruction (or Release), which deletes it.
class HeldLock {
 public:
  ~HeldLock();
  HeldLock(const HeldLock&) = delete;
  HeldLock& operator=(const HeldLock&) = delete;

  // Writes locks/<host>-<pid>-<random>, a starting writer's lock. `store`
  // must outlive the lock.
  static Result<std::unique_ptr<HeldLock>> AcquireWriter(store::ObjectStore* store);
  // Replaces a starting writer's lock by a running one that has seen the
  // gc records up to `seen` (written first, then the old one deleted, so a
  // lock is always there).
  Status MarkRunning(std::string_view seen);
  // Writes locks/gc; Unavailable naming the holder when a live gc holds it.
  // A stale one is taken over.
  static Result<std::unique_ptr<HeldLock>> AcquireGc(store::ObjectStore* store);

  const std::string& key() const { return key_; }
  const LockInfo& info() const { return info_; }
  // Deletes the lock object now; the destructor then does nothing.
  Status Release();

 private:
  HeldLock(store::ObjectStore* store, std::string key, LockInfo info)
      : store_(store), key_(std::move(key)), info_(std::move(info)) {}

  store::ObjectStore* store_;
  std::string key_;
  LockInfo info_;
  bool released_ = false;
};

struct FoundLock {
  std::string key;
  LockInfo info;
  bool readable = true;  // false: the object did not decode (info is empty)
  bool stale = false;
  std::string why_stale;
};
// Every lock under locks/, judged at `now_ns`, from one listing whose every
// lock could be read (a lock deleted meanwhile makes it list again).
Result<std::vector<FoundLock>> ListLocks(const store::ObjectStore& store, int64_t now_ns);

}  // namespace snap::engine::gc

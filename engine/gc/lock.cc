// Lock objects: encoding, acquisition and staleness (see lock.h).
#include "engine/gc/lock.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "engine/codec/checksummed.h"
#include "engine/codec/crypto.h"
#include "engine/codec/varint.h"

namespace snap::engine::gc {
namespace {

constexpr std::string_view kMagic = "SNAPLOCK";  // On disk.
constexpr size_t kMaxHostLength = 255;
constexpr size_t kMaxSeenLength = 255;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A host name reduced to characters every store takes in a key.
std::string KeySafe(const std::string& host) {
  std::string out;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    out.push_back(ok ? c : '_');
  }
  return out.empty() ? "host" : out;
}

LockInfo Now(LockKind kind) {
  LockInfo l;
  l.kind = kind;
  l.host = LockHostName();
  l.pid = static_cast<uint64_t>(::getpid());
  l.start_ns = NowNs();
  return l;
}

// locks/<host>-<pid>-<random>: unique per attempt.
std::string WriterKey(const LockInfo& info) {
  uint32_t random = 0;
  codec::RandomBytes(MutableByteSpan(reinterpret_cast<std::byte*>(&random), sizeof random));
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, "-%llu-%08x", static_cast<unsigned long long>(info.pid),
                random);
  return kLockPrefix + KeySafe(info.host) + suffix;
}

Status PutLock(store::ObjectStore* store, const std::string& key, const LockInfo& info) {
  Buffer bytes;
  info.EncodeTo(&bytes);
  SNAP_ASSIGN_OR_RETURN(bool written, store->PutIfAbsent(key, bytes));
  if (!written) return Status::Aborted(key + ": lock name already taken");
  return Status::OK();
}

Result<FoundLock> ReadLock(const store::ObjectStore& store, const std::string& key,
                           int64_t now_ns) {
  SNAP_ASSIGN_OR_RETURN(Buffer bytes, store.Get(key));
  FoundLock f;
  f.key = key;
  Result<LockInfo> info = LockInfo::Decode(bytes);
  if (!info.ok()) {
    f.readable = false;
    f.why_stale = info.status().message();
    return f;
  }
  f.info = std::move(*info);
  f.stale = IsStale(f.info, now_ns, &f.why_stale);
  return f;
}

}  // namespace

void LockInfo::EncodeTo(Buffer* out) const {
  size_t start = codec::BeginChecksummed(out, kMagic);
  codec::Encoder enc(out);
  enc.PutVarint(kLockVersion);
  enc.PutU8(static_cast<uint8_t>(kind));
  enc.PutString(host);
  enc.PutVarint(pid);
  enc.PutSignedVarint(start_ns);
  enc.PutU8(static_cast<uint8_t>(state));
  enc.PutString(seen);
  codec::EndChecksummed(out, start);
}

Result<LockInfo> LockInfo::Decode(ByteSpan in) {
  SNAP_ASSIGN_OR_RETURN(ByteSpan body, codec::OpenChecksummed(in, kMagic, "lock"));
  codec::Decoder dec(body);
  uint64_t version = 0;
  uint8_t kind = 0, state = 0;
  LockInfo l;
  if (!dec.GetVarint(&version)) return Status::Corruption("lock: truncated version");
  if (version != kLockVersion)
    return Status::NotSupported("lock: version " + std::to_string(version) + " not supported");
  if (!dec.GetU8(&kind) || (kind != 1 && kind != 2)) return Status::Corruption("lock: bad kind");
  l.kind = static_cast<LockKind>(kind);
  if (!dec.GetString(&l.host, kMaxHostLength) || !dec.GetVarint(&l.pid) ||
      !dec.GetSignedVarint(&l.start_ns) || !dec.GetU8(&state) ||
      !dec.GetString(&l.seen, kMaxSeenLength) || !dec.done())
    return Status::Corruption("lock: truncated or trailing bytes");
  if (state != 1 && state != 2) return Status::Corruption("lock: bad state");
  l.state = static_cast<LockState>(state);
  return l;
}

std::string LockHostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

bool IsStale(const LockInfo& lock, int64_t now_ns, std::string* why) {
  if (lock.host == LockHostName()) {
    // Signal 0 only asks whether the process exists; EPERM means it does.
    if (lock.pid > 0 && ::kill(static_cast<pid_t>(lock.pid), 0) != 0 && errno == ESRCH) {
      *why = "process " + std::to_string(lock.pid) + " is gone";
      return true;
    }
    return false;
  }
  if (now_ns - lock.start_ns > kLockStaleNs) {
    *why = "older than 24 h (host " + lock.host + ")";
    return true;
  }
  return false;
}

Result<std::unique_ptr<HeldLock>> HeldLock::AcquireWriter(store::ObjectStore* store) {
  LockInfo info = Now(LockKind::kWriter);
  std::string key = WriterKey(info);
  SNAP_RETURN_IF_ERROR(PutLock(store, key, info));
  return std::unique_ptr<HeldLock>(new HeldLock(store, key, info));
}

Status HeldLock::MarkRunning(std::string_view seen) {
  LockInfo running = info_;
  running.state = LockState::kRunning;
  running.seen = std::string(seen);
  std::string key = WriterKey(running);
  SNAP_RETURN_IF_ERROR(PutLock(store_, key, running));
  // The old lock goes only once the new one is there: gc always sees one.
  Status deleted = store_->Delete(key_);
  key_ = std::move(key);
  info_ = std::move(running);
  return deleted;
}

Result<std::unique_ptr<HeldLock>> HeldLock::AcquireGc(store::ObjectStore* store) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    LockInfo info = Now(LockKind::kGc);
    Buffer bytes;
    info.EncodeTo(&bytes);
    SNAP_ASSIGN_OR_RETURN(bool written, store->PutIfAbsent(kGcLockKey, bytes));
    if (written) return std::unique_ptr<HeldLock>(new HeldLock(store, kGcLockKey, info));
    Result<FoundLock> held = ReadLock(*store, kGcLockKey, NowNs());
    if (held.status().IsNotFound()) continue;  // released meanwhile
    if (!held.ok()) return held.status();
    if (!held->stale)
      return Status::Unavailable(
          "another gc is running (" +
          (held->readable ? "pid " + std::to_string(held->info.pid) + " on " + held->info.host
                          : "unreadable lock: " + held->why_stale) +
          "); if it is not, delete " + std::string(kGcLockKey) + " in the repository");
    SNAP_RETURN_IF_ERROR(store->Delete(kGcLockKey));
  }
  return Status::Unavailable("another gc took " + std::string(kGcLockKey) + " first");
}

HeldLock::~HeldLock() { (void)Release(); }

Status HeldLock::Release() {
  if (released_) return Status::OK();
  released_ = true;
  return store_->Delete(key_);
}

Result<std::vector<FoundLock>> ListLocks(const store::ObjectStore& store, int64_t now_ns) {
  constexpr int kAttempts = 20;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<std::string> keys;
    SNAP_RETURN_IF_ERROR(store.List(kLockPrefix, [&](std::string_view key, uint64_t) {
      keys.emplace_back(key);
      return Status::OK();
    }));
    std::vector<FoundLock> out;
    bool vanished = false;
    for (const std::string& key : keys) {
      Result<FoundLock> f = ReadLock(store, key, now_ns);
      vanished = f.status().IsNotFound();
      if (vanished) break;
      if (!f.ok()) return f.status();
      out.push_back(std::move(*f));
    }
    // A lock gone between the listing and its read may have been replaced
    // (a writer's starting lock by its running one) by one this listing
    // missed: only a listing whose every lock was read counts.
    if (!vanished) return out;
  }
  return Status::Unavailable("locks/ keeps changing; try again");
}

}  // namespace snap::engine::gc

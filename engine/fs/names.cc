// uid/gid -> name cache. A capture looks up the same few owners for every
// file, and NSS lookups (files, LDAP, sssd) cost far more than a map.
#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "engine/fs/fs_internal.h"

#if defined(__clang__)
#define SNAP_GUARDED_BY(x) __attribute__((guarded_by(x)))
#else
#define SNAP_GUARDED_BY(x)
#endif

namespace snap::engine::fs::internal {
namespace {

constexpr size_t kMaxNssBuffer = 1 << 20;

// Calls `lookup(buf, size, &found)` (a getpwuid_r/getgrgid_r wrapper),
// growing the buffer on ERANGE. Empty when the id has no entry.
template <typename Lookup>
std::string LookupName(Lookup lookup) {
  for (size_t size = 1024; size <= kMaxNssBuffer; size *= 4) {
    std::vector<char> buf(size);
    std::string name;
    int err = lookup(buf.data(), buf.size(), &name);
    if (err != ERANGE) return name;
  }
  return {};
}

std::string LookupUser(uid_t uid) {
  return LookupName([uid](char* buf, size_t size, std::string* name) {
    struct passwd pw;
    struct passwd* found = nullptr;
    int err = ::getpwuid_r(uid, &pw, buf, size, &found);
    if (err == 0 && found != nullptr) *name = found->pw_name;
    return err;
  });
}

std::string LookupGroup(gid_t gid) {
  return LookupName([gid](char* buf, size_t size, std::string* name) {
    struct group gr;
    struct group* found = nullptr;
    int err = ::getgrgid_r(gid, &gr, buf, size, &found);
    if (err == 0 && found != nullptr) *name = found->gr_name;
    return err;
  });
}

class NameCache {
 public:
  explicit NameCache(std::string (*lookup)(uint32_t)) : lookup_(lookup) {}

  std::string Get(uint32_t id) {
    {
      std::lock_guard<std::mutex> l(mu_);
      auto it = names_.find(id);
      if (it != names_.end()) return it->second;
    }
    // Looked up unlocked: a slow NSS backend must not serialize the other
    // capture threads. Two threads may race to insert the same answer.
    std::string name = lookup_(id);
    std::lock_guard<std::mutex> l(mu_);
    names_.emplace(id, name);
    return name;
  }

 private:
  std::string (*const lookup_)(uint32_t);
  std::mutex mu_;
  std::map<uint32_t, std::string> names_ SNAP_GUARDED_BY(mu_);
};

}  // namespace

// Each thread first tries the id it asked for last: a capture asks for the
// same owner entry after entry, and this skips the lock and the map.
std::string UserName(uid_t uid) {
  static NameCache* cache = new NameCache(&LookupUser);  // never destroyed: used at exit
  thread_local std::optional<std::pair<uid_t, std::string>> last;
  if (!last || last->first != uid) last.emplace(uid, cache->Get(uid));
  return last->second;
}

std::string GroupName(gid_t gid) {
  static NameCache* cache = new NameCache(&LookupGroup);
  thread_local std::optional<std::pair<gid_t, std::string>> last;
  if (!last || last->first != gid) last.emplace(gid, cache->Get(gid));
  return last->second;
}

}  // namespace snap::engine::fs::internal

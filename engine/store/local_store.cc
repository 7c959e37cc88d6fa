// ObjectStore over a local directory. Every call works relative to one
// directory fd opened at start, so the store has no mutable state and is
// thread-safe by construction.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/mem/huge_pages.h"
#include "engine/store/object_store.h"

namespace snap::engine::store {

// ---- key rules, shared with mem_store.cc so both stores accept the same keys ----
namespace internal {

constexpr std::string_view kTempMarker = ".tmp-";

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("object key \"" + std::string(key) + "\": " + std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.find('\0') != std::string_view::npos) return bad("contains NUL");
  if (key.front() == '/') return bad("absolute");
  // Temp files carry the marker; a key with it could never be listed.
  if (key.find(kTempMarker) != std::string_view::npos) return bad("contains \".tmp-\"");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = std::min(key.find('/', start), key.size());
    std::string_view part = key.substr(start, end - start);
    if (part.empty()) return bad("empty component");
    if (part == "." || part == "..") return bad("'.' or '..' component");
    start = end + 1;
  }
  return Status::OK();
}

// A prefix is a key whose last component may be partial or empty.
Status ValidatePrefix(std::string_view prefix) {
  if (prefix.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("list prefix contains NUL");
  }
  size_t slash = prefix.rfind('/');
  if (slash == std::string_view::npos) return Status::OK();
  return ValidateKey(prefix.substr(0, slash)).WithContext("list prefix");
}

// The byte count a Get of [offset, offset+length) reads from an object of
// `size` bytes, or Corruption when the object is too short.
Result<uint64_t> RangeLength(std::string_view key, uint64_t size, uint64_t offset,
                             uint64_t length) {
  if (offset <= size && (length == ObjectStore::kToEnd || length <= size - offset)) {
    return length == ObjectStore::kToEnd ? size - offset : length;
  }
  std::string want = length == ObjectStore::kToEnd ? "the rest" : std::to_string(length) + " bytes";
  return Status::Corruption(std::string(key) + ": short object: want " + want + " at offset " +
                            std::to_string(offset) + ", object has " + std::to_string(size));
}

}  // namespace internal

namespace {

using internal::kTempMarker;
using internal::RangeLength;
using internal::ValidateKey;
using internal::ValidatePrefix;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now so that a failing close (NFS reports write errors there) is seen.
  int Close() {
    int r = ::close(fd_);
    fd_ = -1;
    return r;
  }

 private:
  int fd_;
};

Status SysError(std::string_view key, std::string_view call, int err) {
  return Status::FromErrno(std::string(key) + ": " + std::string(call), err);
}

bool IsAbsent(int err) { return err == ENOENT || err == ENOTDIR; }

// Splits "a/b/c" into ("a/b", "c"); a top-level key has an empty dir.
std::pair<std::string, std::string> SplitKey(std::string_view key) {
  size_t slash = key.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

std::string RandomHex() {
  thread_local std::mt19937_64 rng{(uint64_t{std::random_device{}()} << 32) ^
                                   std::random_device{}()};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

Status WriteAll(int fd, ByteSpan data, std::string_view key) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), std::min<size_t>(data.size(), 1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError(key, "write", errno);
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::OK();
}

Status ReadAll(int fd, MutableByteSpan out, uint64_t offset, std::string_view key) {
  while (!out.empty()) {
    ssize_t n =
        ::pread(fd, out.data(), std::min<size_t>(out.size(), 1 << 30), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError(key, "pread", errno);
    if (n == 0) return Status::Corruption(std::string(key) + ": pread: object shrank");
    out = out.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::OK();
}

// Objects at least this large (packs) are written with O_DIRECT: copying
// them into the page cache cost more CPU than sealing them (800 MB written
// and fsynced here: 3.1 s of system time buffered, 0.3 s direct), and a
// nightly backup then does not push the host's working set out of memory.
constexpr size_t kDirectMin = 1u << 20;
constexpr size_t kDirectAlign = 4096;       // offsets, lengths and memory
constexpr size_t kDirectBuffer = 4u << 20;  // aligned bounce buffer
constexpr size_t kHugePageAlign = 2u << 20;

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<std::byte, FreeDeleter>;

// One bounce buffer is kept between direct writes (packs are written one
// at a time): a fresh one per pack cost a page fault per 4 KiB. A writer
// that finds it taken allocates its own.
std::mutex spare_direct_mu;
AlignedBuffer spare_direct;  // guarded by spare_direct_mu

AlignedBuffer TakeDirectBuffer() {
  {
    std::lock_guard<std::mutex> lock(spare_direct_mu);
    if (spare_direct) return std::move(spare_direct);
  }
  // Aligned to a huge page, so that it takes two faults to fill, not 1,024.
  AlignedBuffer buf(static_cast<std::byte*>(std::aligned_alloc(kHugePageAlign, kDirectBuffer)));
  if (buf) mem::AdviseHugePages(buf.get(), kDirectBuffer);
  return buf;
}

void KeepDirectBuffer(AlignedBuffer buf) {
  std::lock_guard<std::mutex> lock(spare_direct_mu);
  if (!spare_direct) spare_direct = std::move(buf);
}

// Writes the whole 4 KiB blocks at the head of `data` with O_DIRECT, from
// the file's current offset (0), through an aligned copy; returns how many
// bytes it wrote. Stops early, leaving the rest to a buffered write that
// reports any real error, when the file system refuses O_DIRECT or a
// direct write fails. The fd is buffered again on return.
size_t WriteDirect(int fd, ByteSpan data) {
  size_t whole = data.size() / kDirectAlign * kDirectAlign;
  int flags = ::fcntl(fd, F_GETFL);
  if (whole == 0 || flags < 0 || ::fcntl(fd, F_SETFL, flags | O_DIRECT) != 0) return 0;
  AlignedBuffer buf = TakeDirectBuffer();
  size_t done = 0;
  while (buf && done < whole) {
    size_t n = std::min(kDirectBuffer, whole - done);
    std::memcpy(buf.get(), data.data() + done, n);
    ssize_t w = ::write(fd, buf.get(), n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    done += static_cast<size_t>(w);
    if (done % kDirectAlign != 0) break;  // a short write: the rest goes buffered
  }
  ::fcntl(fd, F_SETFL, flags);
  if (buf) KeepDirectBuffer(std::move(buf));
  return done;
}

// Creates `tmp` in `dirfd` exclusively and makes `data` durable in it.
Status WriteTemp(int dirfd, const std::string& tmp, ByteSpan data, std::string_view key) {
  Fd f(::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!f.valid()) return SysError(key, "open temp", errno);
  size_t direct = data.size() >= kDirectMin ? WriteDirect(f.get(), data) : 0;
  Status s = WriteAll(f.get(), data.subspan(direct), key);
  if (s.ok() && ::fsync(f.get()) != 0) s = SysError(key, "fsync", errno);
  if (f.Close() != 0 && s.ok()) s = SysError(key, "close", errno);
  if (!s.ok()) ::unlinkat(dirfd, tmp.c_str(), 0);
  return s;
}

// Moves `tmp` (in `from`) to `name` (in `to`) unless `name` exists; false
// when it did. Never overwrites, so a racing writer of the same key cannot
// clobber a winner.
Result<bool> Publish(int from, const std::string& tmp, int to, const std::string& name,
                     std::string_view key) {
  const char* call = "renameat2";
  int r = ::renameat2(from, tmp.c_str(), to, name.c_str(), RENAME_NOREPLACE);
  int err = r == 0 ? 0 : errno;
  if (err == EINVAL || err == ENOSYS) {  // file system without RENAME_NOREPLACE
    call = "link";
    err = ::linkat(from, tmp.c_str(), to, name.c_str(), 0) == 0 ? 0 : errno;
    ::unlinkat(from, tmp.c_str(), 0);
  } else if (err != 0) {
    ::unlinkat(from, tmp.c_str(), 0);
  }
  if (err == 0) return true;
  if (err == EEXIST) return false;
  return SysError(key, call, err);
}

int OpenDirFd(int parent, const std::string& path) {
  return ::openat(parent, path.empty() ? "." : path.c_str(),
                  O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

Result<Fd> OpenDirAt(int parent, const std::string& path, std::string_view key) {
  Fd d(OpenDirFd(parent, path));
  if (!d.valid()) return SysError(key, "open dir " + (path.empty() ? "." : path), errno);
  return d;
}

// mkdir -p of `dir` below `root`. A directory entry is durable only once its
// parent is fsynced, so each directory created here is followed by a fsync
// of its parent; existing ones cost nothing.
Result<Fd> MakeDirs(int root, const std::string& dir, std::string_view key) {
  SNAP_ASSIGN_OR_RETURN(Fd cur, OpenDirAt(root, "", key));
  size_t start = 0;
  while (start < dir.size()) {
    size_t end = std::min(dir.find('/', start), dir.size());
    std::string part = dir.substr(start, end - start);
    if (::mkdirat(cur.get(), part.c_str(), 0700) == 0) {
      if (::fsync(cur.get()) != 0) return SysError(key, "fsync dir", errno);
    } else if (errno != EEXIST) {
      return SysError(key, "mkdir " + dir.substr(0, end), errno);
    }
    SNAP_ASSIGN_OR_RETURN(cur, OpenDirAt(cur.get(), part, key));
    start = end + 1;
  }
  return cur;
}

// Names in a directory worth listing: not ".", "..", temp files, or names
// without `name_prefix`. Read up front so that fn may modify the store.
// The names in the directory that start with `name_prefix`: objects and
// subdirectories, or with `temps`, those and the temp files.
Result<std::vector<std::string>> ReadNames(int dirfd, std::string_view name_prefix,
                                           std::string_view dir_key, bool temps = false) {
  int dup = ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return SysError(dir_key, "dup", errno);
  DIR* d = ::fdopendir(dup);
  if (d == nullptr) {
    int err = errno;
    ::close(dup);
    return SysError(dir_key, "fdopendir", err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name != "." && name != ".." && name.starts_with(name_prefix) &&
        (temps || name.find(kTempMarker) == std::string_view::npos)) {
      names.emplace_back(name);
    }
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return SysError(dir_key, "readdir", err);
  return names;
}

using ListFn = std::function<Status(std::string_view key, uint64_t size)>;

// The read-only fds of the objects read last by range (pack frames): a
// restore reads thousands of frames from each pack, and opening the pack
// for each cost three system calls and a path walk. An object is immutable
// while it has its name; Delete drops its fd here, and an fd kept past a
// deletion by another process still reads the same bytes.
class OpenObjects {
 public:
  struct Open {
    std::shared_ptr<Fd> fd;
    uint64_t size = 0;
  };
  std::optional<Open> Find(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = open_.begin(); it != open_.end(); ++it) {
      if (it->first != key) continue;
      open_.splice(open_.begin(), open_, it);  // most recent first
      return it->second;
    }
    return std::nullopt;
  }
  void Add(const std::string& key, Open open) {
    std::lock_guard<std::mutex> lock(mu_);
    open_.emplace_front(key, std::move(open));
    if (open_.size() > kMaxOpen) open_.pop_back();
  }
  void Drop(std::string_view key) {
    std::lock_guard<std::mutex> lock(mu_);
    open_.remove_if([&](const auto& e) { return e.first == key; });
  }

 private:
  static constexpr size_t kMaxOpen = 16;
  std::mutex mu_;
  std::list<std::pair<std::string, Open>> open_;  // guarded by mu_
};

class LocalUpload;

class LocalStore final : public ObjectStore {
 public:
  explicit LocalStore(Fd root) : root_(std::move(root)) {}

  Result<bool> PutIfAbsent(std::string_view key, ByteSpan data) override;
  Result<std::unique_ptr<ObjectUpload>> StartUpload(std::string_view dir) override;
  Result<Buffer> Get(std::string_view key, uint64_t offset, uint64_t length) const override;
  Result<ByteSpan> GetInto(std::string_view key, uint64_t offset, uint64_t length,
                           Buffer* scratch) const override;
  Result<uint64_t> Head(std::string_view key) const override;
  Status List(std::string_view prefix, const ListFn& fn) const override;
  Status Delete(std::string_view key) override;
  Result<uint64_t> RemoveTempFiles(std::string_view prefix, int64_t before_ns) override;
  Status Replace(std::string_view key, ByteSpan data) override;

 private:
  friend class LocalUpload;
  Result<Fd> OpenOrMakeDir(const std::string& dir, std::string_view key) const;
  // Publish, then a check that the name holds an object and a sync of `to`.
  Result<bool> PublishAt(int from, const std::string& tmp, int to, const std::string& name,
                         std::string_view key) const;
  Status Walk(int dirfd, const std::string& dir_key, std::string_view name_prefix,
              const ListFn& fn) const;
  Status RemoveTempsIn(int dirfd, const std::string& dir_key, int64_t before_ns,
                       uint64_t* removed);

  const Fd root_;
  mutable OpenObjects open_;
};

Result<Fd> LocalStore::OpenOrMakeDir(const std::string& dir, std::string_view key) const {
  Result<Fd> d = OpenDirAt(root_.get(), dir, key);
  if (d.ok() || !d.status().IsNotFound()) return d;
  return MakeDirs(root_.get(), dir, key);
}

// Durable with one fsync of the file and one of its directory (plus one per
// directory newly created on the way).
Result<bool> LocalStore::PutIfAbsent(std::string_view key, ByteSpan data) {
  SNAP_RETURN_IF_ERROR(ValidateKey(key));
  auto [dir, name] = SplitKey(key);
  SNAP_ASSIGN_OR_RETURN(Fd dirfd, OpenOrMakeDir(dir, key));
  std::string tmp = name + std::string(kTempMarker) + RandomHex();
  SNAP_RETURN_IF_ERROR(WriteTemp(dirfd.get(), tmp, data, key));
  return PublishAt(dirfd.get(), tmp, dirfd.get(), name, key);
}

Result<bool> LocalStore::PublishAt(int from, const std::string& tmp, int to,
                                   const std::string& name, std::string_view key) const {
  SNAP_ASSIGN_OR_RETURN(bool created, Publish(from, tmp, to, name, key));
  if (!created && !Head(key).ok()) {
    return Status::IOError(std::string(key) + ": name is taken by a directory, not an object");
  }
  // Also when the object existed: a concurrent writer may not have synced
  // the directory yet, and the caller is promised durability either way.
  if (::fsync(to) != 0) return SysError(key, "fsync dir", errno);
  return created;
}

// An upload streams to "<dir>/upload.tmp-<random>": through the bounce
// buffer in whole 4 MiB O_DIRECT writes where the file system allows, else
// buffered. Commit syncs it and publishes it under its key as PutIfAbsent
// does; a pack then never sits whole in memory.
class LocalUpload final : public ObjectUpload {
 public:
  LocalUpload(const LocalStore* store, Fd dirfd, std::string tmp, std::string tmp_key, Fd fd)
      : store_(store),
        dirfd_(std::move(dirfd)),
        tmp_(std::move(tmp)),
        tmp_key_(std::move(tmp_key)),
        fd_(std::move(fd)) {
    int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags >= 0 && ::fcntl(fd_.get(), F_SETFL, flags | O_DIRECT) == 0) {
      buf_ = TakeDirectBuffer();
      if (!buf_) ::fcntl(fd_.get(), F_SETFL, flags);
    }
  }

  ~LocalUpload() override {
    if (buf_) KeepDirectBuffer(std::move(buf_));
    if (!published_) ::unlinkat(dirfd_.get(), tmp_.c_str(), 0);
  }

  Status Append(ByteSpan data) override {
    SNAP_RETURN_IF_ERROR(status_);
    while (buf_ && !data.empty()) {
      size_t n = std::min(kDirectBuffer - fill_, data.size());
      std::memcpy(buf_.get() + fill_, data.data(), n);
      fill_ += n;
      data = data.subspan(n);
      if (fill_ == kDirectBuffer) status_ = WriteBuffer(false);
      SNAP_RETURN_IF_ERROR(status_);
    }
    if (!data.empty()) status_ = WriteAll(fd_.get(), data, tmp_key_);
    return status_;
  }

  Result<bool> Commit(std::string_view key) override {
    SNAP_RETURN_IF_ERROR(status_);
    status_ = Status::InvalidArgument(tmp_key_ + ": upload already committed");
    SNAP_RETURN_IF_ERROR(ValidateKey(key));
    if (buf_) SNAP_RETURN_IF_ERROR(WriteBuffer(true));
    if (::fsync(fd_.get()) != 0) return SysError(tmp_key_, "fsync", errno);
    if (fd_.Close() != 0) return SysError(tmp_key_, "close", errno);
    auto [dir, name] = SplitKey(key);
    SNAP_ASSIGN_OR_RETURN(Fd to, store_->OpenOrMakeDir(dir, key));
    published_ = true;  // Publish unlinks the temp file whatever happens
    return store_->PublishAt(dirfd_.get(), tmp_, to.get(), name, key);
  }

 private:
  // Writes the bounce buffer's whole 4 KiB blocks directly and keeps the
  // rest at its front; with `last`, or once the file system refuses a
  // direct write, the rest goes buffered and so does every later byte.
  Status WriteBuffer(bool last) {
    size_t whole = fill_ / kDirectAlign * kDirectAlign;
    size_t done = 0;
    bool direct = true;
    while (done < whole) {
      ssize_t w = ::write(fd_.get(), buf_.get() + done, whole - done);
      if (w < 0 && errno == EINTR) continue;
      if (w > 0) done += static_cast<size_t>(w);
      if (w <= 0 || done % kDirectAlign != 0) {
        direct = false;  // a buffered write reports any real error
        break;
      }
    }
    if (direct && !last) {
      std::memmove(buf_.get(), buf_.get() + done, fill_ - done);
      fill_ -= done;
      return Status::OK();
    }
    int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_DIRECT) != 0)
      return SysError(tmp_key_, "fcntl", errno);
    Status s = WriteAll(fd_.get(), ByteSpan(buf_.get() + done, fill_ - done), tmp_key_);
    fill_ = 0;
    KeepDirectBuffer(std::move(buf_));
    return s;
  }

  const LocalStore* store_;
  Fd dirfd_;
  std::string tmp_, tmp_key_;
  Fd fd_;
  AlignedBuffer buf_;  // null: writes are buffered
  size_t fill_ = 0;
  Status status_;
  bool published_ = false;
};

Result<std::unique_ptr<ObjectUpload>> LocalStore::StartUpload(std::string_view dir) {
  SNAP_RETURN_IF_ERROR(ValidateKey(dir));
  std::string d(dir);
  SNAP_ASSIGN_OR_RETURN(Fd dirfd, OpenOrMakeDir(d, dir));
  std::string tmp = "upload" + std::string(kTempMarker) + RandomHex();
  std::string tmp_key = d + "/" + tmp;
  Fd f(::openat(dirfd.get(), tmp.c_str(),
                O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!f.valid()) return SysError(tmp_key, "open temp", errno);
  return std::unique_ptr<ObjectUpload>(
      new LocalUpload(this, std::move(dirfd), std::move(tmp), std::move(tmp_key), std::move(f)));
}

Result<Buffer> LocalStore::Get(std::string_view key, uint64_t offset, uint64_t length) const {
  Buffer out;
  SNAP_ASSIGN_OR_RETURN(ByteSpan got, GetInto(key, offset, length, &out));
  out.resize(got.size());
  return out;
}

Result<ByteSpan> LocalStore::GetInto(std::string_view key, uint64_t offset, uint64_t length,
                                     Buffer* scratch) const {
  SNAP_RETURN_IF_ERROR(ValidateKey(key));
  std::string k(key);
  bool ranged = offset > 0 || length != kToEnd;
  std::optional<OpenObjects::Open> open = ranged ? open_.Find(k) : std::nullopt;
  if (!open) {
    auto f = std::make_shared<Fd>(::openat(root_.get(), k.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!f->valid()) {
      int err = errno;
      return SysError(key, "open", IsAbsent(err) ? ENOENT : err);
    }
    struct stat st;
    if (::fstat(f->get(), &st) != 0) return SysError(key, "fstat", errno);
    if (!S_ISREG(st.st_mode)) return Status::NotFound(k + ": not an object");
    open = OpenObjects::Open{std::move(f), static_cast<uint64_t>(st.st_size)};
    if (ranged) open_.Add(k, *open);
  }
  SNAP_ASSIGN_OR_RETURN(uint64_t n, RangeLength(key, open->size, offset, length));
  MutableByteSpan out = Grow(scratch, n);
  SNAP_RETURN_IF_ERROR(ReadAll(open->fd->get(), out, offset, key));
  return ByteSpan(out);
}

Result<uint64_t> LocalStore::Head(std::string_view key) const {
  SNAP_RETURN_IF_ERROR(ValidateKey(key));
  std::string k(key);
  struct stat st;
  if (::fstatat(root_.get(), k.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    int err = errno;
    return SysError(key, "stat", IsAbsent(err) ? ENOENT : err);
  }
  if (!S_ISREG(st.st_mode)) return Status::NotFound(k + ": not an object");
  return static_cast<uint64_t>(st.st_size);
}

Status LocalStore::List(std::string_view prefix, const ListFn& fn) const {
  SNAP_RETURN_IF_ERROR(ValidatePrefix(prefix));
  auto [dir, name_prefix] = SplitKey(prefix);
  Fd d(OpenDirFd(root_.get(), dir));
  // ENOTDIR: the prefix's directory is an object, which has nothing below it.
  if (!d.valid()) return IsAbsent(errno) ? Status::OK() : SysError(prefix, "open dir", errno);
  return Walk(d.get(), dir, name_prefix, fn);
}

Status LocalStore::Walk(int dirfd, const std::string& dir_key, std::string_view name_prefix,
                        const ListFn& fn) const {
  SNAP_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadNames(dirfd, name_prefix, dir_key));
  for (const std::string& name : names) {
    std::string key = dir_key.empty() ? name : dir_key + "/" + name;
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // deleted while we listed
      return SysError(key, "stat", errno);
    }
    if (S_ISREG(st.st_mode)) {
      SNAP_RETURN_IF_ERROR(fn(key, static_cast<uint64_t>(st.st_size)));
    } else if (S_ISDIR(st.st_mode)) {
      Result<Fd> sub = OpenDirAt(dirfd, name, key);
      if (!sub.ok() && sub.status().IsNotFound()) continue;
      if (!sub.ok()) return sub.status();
      SNAP_RETURN_IF_ERROR(Walk(sub->get(), key, "", fn));
    }
  }
  return Status::OK();
}

Result<uint64_t> LocalStore::RemoveTempFiles(std::string_view prefix, int64_t before_ns) {
  std::string dir(prefix);
  while (dir.ends_with('/')) dir.pop_back();
  uint64_t removed = 0;
  if (!dir.empty()) SNAP_RETURN_IF_ERROR(ValidateKey(dir));
  Result<Fd> d = OpenDirAt(root_.get(), dir, dir);
  if (d.status().IsNotFound()) return removed;
  if (!d.ok()) return d.status();
  SNAP_RETURN_IF_ERROR(RemoveTempsIn(d->get(), dir, before_ns, &removed));
  return removed;
}

Status LocalStore::RemoveTempsIn(int dirfd, const std::string& dir_key, int64_t before_ns,
                                 uint64_t* removed) {
  SNAP_ASSIGN_OR_RETURN(std::vector<std::string> names, ReadNames(dirfd, "", dir_key, true));
  for (const std::string& name : names) {
    std::string key = dir_key.empty() ? name : dir_key + "/" + name;
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // gone meanwhile: committed or removed
      return SysError(key, "stat", errno);
    }
    if (S_ISDIR(st.st_mode) && name.find(kTempMarker) == std::string::npos) {
      Result<Fd> sub = OpenDirAt(dirfd, name, key);
      if (!sub.ok() && sub.status().IsNotFound()) continue;
      if (!sub.ok()) return sub.status();
      SNAP_RETURN_IF_ERROR(RemoveTempsIn(sub->get(), key, before_ns, removed));
      continue;
    }
    int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    if (!S_ISREG(st.st_mode) || name.find(kTempMarker) == std::string::npos ||
        mtime_ns >= before_ns)
      continue;
    if (::unlinkat(dirfd, name.c_str(), 0) != 0) {
      if (errno == ENOENT) continue;
      return SysError(key, "unlink", errno);
    }
    ++*removed;
  }
  return Status::OK();
}

Status LocalStore::Delete(std::string_view key) {
  SNAP_RETURN_IF_ERROR(ValidateKey(key));
  std::string k(key);
  open_.Drop(k);
  if (::unlinkat(root_.get(), k.c_str(), 0) != 0) {
    // EISDIR: a directory is not an object, so there is none to delete.
    if (IsAbsent(errno) || errno == EISDIR) return Status::OK();
    return SysError(key, "unlink", errno);
  }
  SNAP_ASSIGN_OR_RETURN(Fd dirfd, OpenDirAt(root_.get(), SplitKey(key).first, key));
  if (::fsync(dirfd.get()) != 0) return SysError(key, "fsync dir", errno);
  return Status::OK();
}

Status LocalStore::Replace(std::string_view key, ByteSpan data) {
  SNAP_RETURN_IF_ERROR(ValidateKey(key));
  auto [dir, name] = SplitKey(key);
  SNAP_ASSIGN_OR_RETURN(Fd dirfd, OpenOrMakeDir(dir, key));
  std::string tmp = name + std::string(kTempMarker) + RandomHex();
  SNAP_RETURN_IF_ERROR(WriteTemp(dirfd.get(), tmp, data, key));
  if (::renameat(dirfd.get(), tmp.c_str(), dirfd.get(), name.c_str()) != 0) {
    int err = errno;
    ::unlinkat(dirfd.get(), tmp.c_str(), 0);
    return SysError(key, "rename", err);
  }
  open_.Drop(key);  // a kept fd would still read the damaged file
  if (::fsync(dirfd.get()) != 0) return SysError(key, "fsync dir", errno);
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<ObjectStore>> OpenLocalStore(const std::string& root) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) return Status::IOError(root + ": mkdir: " + ec.message());
  Fd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return SysError(root, "open", errno);
  return std::unique_ptr<ObjectStore>(new LocalStore(std::move(fd)));
}

}  // namespace snap::engine::store

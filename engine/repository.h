// Repository: an open snapctl repository (DESIGN.md "Repository on disk").
//
// Owns the object store (packs, keys, config, snapshot records), the local
// RocksDB index and the keys. Reading chunks and committing snapshots go
// through it; writing chunks goes through a PackSink (repo/pack_sink.h).
// Thread-safe after Open: every method may be called concurrently.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/chunk/chunker.h"
#include "engine/codec/crypto.h"
#include "engine/index/catalog.h"
#include "engine/index/chunk_index.h"
#include "engine/index/files_cache.h"
#include "engine/index/kv_store.h"
#include "engine/pack/pack_format.h"
#include "engine/repo/bundle_cache.h"
#include "engine/repo/config.h"
#include "engine/repo/key_file.h"
#include "engine/result.h"
#include "engine/snapshot/snapshot_record.h"
#include "engine/snapshot/tree.h"
#include "engine/store/object_store.h"

namespace snap::engine {

namespace gc {
class HeldLock;
}

// How to unlock the keys: a passphrase, or the path of a key file; when
// neither is given, the key file at DefaultKeyFilePath(repo id) is tried.
// A key file is either a KEK file (64 hex digits) or an exported key
// (repo/exported_key.h), which needs no keys/ in the repository.
struct Credentials {
  std::optional<std::string> passphrase;
  std::optional<std::string> key_file;
};

// Buffers that one thread reuses to read chunk after chunk: once they have
// grown to the largest chunk read, a read allocates and zero-fills nothing.
struct ChunkScratch {
  Buffer frame, opened, plain;
};

// Where ReadChunk turns for a chunk the index lacks: a replica, on a
// machine that restores from one. Implementations store what they fetch in
// the repository (so it is indexed afterwards) and are thread-safe.
class ChunkFetcher {
 public:
  virtual ~ChunkFetcher() = default;
  // Fetches, verifies and stores `ids`; OK when each is indexed afterwards
  // or was not available (ReadChunk then reports NotFound).
  virtual Status Fetch(std::span<const ChunkId> ids) = 0;
};

struct InitOptions {
  bool encrypted = true;
  std::optional<std::string> passphrase;  // wraps the keys; else a key file
  std::string key_file;                   // where to write it; default path when empty
  repo::Config config;                    // chunking, zstd level, pack size
  codec::ScryptParams scrypt;
};

struct InitResult {
  std::string repo_id;
  std::string key_file;  // set when a key file was written
};

// $SNAPCTL_KEY_DIR, else $XDG_CONFIG_HOME/snapctl/keys, else
// $HOME/.config/snapctl/keys; the file is <repo-id>.key.
std::string DefaultKeyFilePath(const std::string& repo_id_hex);

class Repository {
 public:
  // Creates a repository in `dir` (which must be absent or empty).
  static Result<InitResult> Init(const std::string& dir, const InitOptions& opts);
  // kReadOnly opens the index without its lock when a writer holds it:
  // reading commands (list, ls, restore, check) then work during a running
  // snapshot, seeing the index as of the open. Whenever the index is
  // writable, Open reconciles the catalog with snapshots/ and applies the
  // gc records (ApplyGcRecords). kRebuildIndex is kReadWrite that, when the
  // index does not open (damaged), moves it aside to index.damaged and
  // rebuilds a new one from the packs (index_rebuilt() then says so).
  // Otherwise an index that does not open fails Open with advice to run
  // `snapctl check --rebuild-index`.
  enum class Mode { kReadWrite, kReadOnly, kRebuildIndex };
  static Result<std::unique_ptr<Repository>> Open(const std::string& dir,
                                                  const Credentials& creds,
                                                  Mode mode = Mode::kReadWrite);
  // Creates a repository without keys/ holding `config_bytes` (a replica's
  // cache on a machine that restores from it); opened with an exported
  // key. OK when `dir` already holds the same config.
  static Status CreateKeyless(const std::string& dir, ByteSpan config_bytes);
  ~Repository();

  // The plaintext master keys (for `snapctl key export`).
  const repo::MasterKeys& master_keys() const { return keys_; }
  // Makes ReadChunk fetch what the index lacks through `fetcher` (which
  // must outlive its use); nullptr turns that off.
  void set_fetcher(ChunkFetcher* fetcher) { fetcher_ = fetcher; }
  ChunkFetcher* fetcher() const { return fetcher_; }

  const std::string& dir() const { return dir_; }
  const repo::Config& config() const { return config_; }
  bool encrypted() const { return config_.encrypted; }
  store::ObjectStore& store() const { return *store_; }
  index::KvStore& kv() const { return *kv_; }
  index::ChunkIndex& chunk_index() const { return *chunk_index_; }
  index::Catalog& catalog() const { return *catalog_; }
  index::FilesCache& files_cache() const { return *files_cache_; }
  const chunk::GearTable& gear() const { return gear_; }

  ChunkId Hash(ByteSpan plain) const { return hasher_.Hash(plain); }
  // A bundle's ID (FORMAT.md "Slices"): the keyed hash of its members' IDs
  // back to back, under a key derived from the ID key for bundles alone, so
  // that no chunk's content can hash to a bundle's ID.
  ChunkId BundleId(std::span<const ChunkId> members) const;

  // Compresses (when it shrinks) and seals (when encrypted) `plain` into a
  // frame payload, returned; sets header->flags and raw_length. The payload
  // lies in *scratch or, stored as it is, is `plain`: valid while both are.
  // `delta_base`, when given, makes a zstd delta against it (header->refs[0]
  // must name it). `zstd_level` overrides the repository's level.
  ByteSpan EncodePayload(ByteSpan plain, pack::EntryHeader* header, Buffer* scratch,
                         const Buffer* delta_base = nullptr,
                         std::optional<int> zstd_level = std::nullopt) const;
  // The level a bundle of small chunks is compressed at: two below the
  // repository's, at least 1. A bundle gives zstd the context a small
  // chunk alone lacks, so a faster level still shrinks it more.
  int bundle_zstd_level() const { return std::max(1, config_.zstd_level - 2); }
  // Inverse of EncodePayload for a verified frame: opens, decompresses and
  // checks the plaintext hashes to the frame's ID. Corruption names the ID.
  // A slice is cut from its bundle (read once, then kept in a small cache).
  // A delta entry is decoded against its base (read recursively);
  // *delta_depth, when given, receives the length of that chain (0: not a
  // delta). Corruption when a chain is longer than kMaxDeltaDepth.
  Result<Buffer> DecodePayload(const pack::DecodedFrame& frame, int* delta_depth = nullptr) const;
  // The same into *scratch (frame.payload may lie in scratch->frame); the
  // bytes returned stay valid until scratch is used again.
  Result<ByteSpan> DecodePayload(const pack::DecodedFrame& frame, ChunkScratch* scratch,
                                 int* delta_depth = nullptr) const;

  // Reads, verifies and decodes one chunk by ID. NotFound when unindexed
  // (after asking the fetcher, when one is set).
  Result<Buffer> ReadChunk(const ChunkId& id, int* delta_depth = nullptr) const;
  // The same into *scratch, for a reader of many chunks; the bytes returned
  // stay valid until scratch is used again.
  Result<ByteSpan> ReadChunk(const ChunkId& id, ChunkScratch* scratch,
                             int* delta_depth = nullptr) const;
  // The chunk's whole frame as its pack holds it, checksum verified (for
  // replication, which ships frames without opening them). NotFound when
  // unindexed.
  Result<Buffer> ReadFrame(const ChunkId& id) const;

  // Writers store a delta only against a base whose chain is shorter, so a
  // read never decodes more than this many entries for one chunk.
  static constexpr int kMaxDeltaDepth = 4;
  // A delta's base is the concatenation of its refs, at most this many.
  static constexpr size_t kMaxDeltaBases = 4;
  Result<snapshot::Tree> ReadTree(const ChunkId& id) const;

  // Writes the sealed record under snapshots/ (the commit point), then the
  // catalog. Returns the snapshot ID.
  Result<ChunkId> CommitSnapshot(const snapshot::SnapshotRecord& record);
  Result<snapshot::SnapshotRecord> LoadSnapshot(const ChunkId& id) const;
  // Checks a snapshot object received from elsewhere (it opens with this
  // repository's keys and matches `id`), stores it under snapshots/ and
  // catalogs it. Corruption when it does not verify.
  Status ImportSnapshot(const ChunkId& id, ByteSpan object);
  // The stored snapshot object's bytes, for replication.
  Result<Buffer> ReadSnapshotObject(const ChunkId& id) const;

  struct SnapshotInfo {
    ChunkId id;
    snapshot::SnapshotRecord record;
  };
  // All snapshots, oldest first. Only those whose object still exists: a
  // snapshot forgotten by another process while this one holds the index
  // is not listed (one listing of snapshots/ per call).
  Result<std::vector<SnapshotInfo>> ListSnapshots() const;
  // Forgets a snapshot: deletes its object (the commit point every reader
  // goes by), then its catalog entry when the index is writable; else the
  // next read-write open drops the entry. Its chunks stay until gc.
  Status ForgetSnapshot(const SnapshotInfo& s);
  bool index_writable() const { return !index_read_only_; }
  // Open found no usable index and rebuilt it from the packs.
  bool index_rebuilt() const { return index_rebuilt_; }

  // Garbage collection (FORMAT.md "Garbage collection").
  // Applies the gc records under gc/ this index has not applied yet, in
  // order: indexes the packs they added, hides from reuse the packs they
  // condemned or replaced, drops the locations of packs they deleted.
  // Done by Open whenever the index is writable; OK and nothing on a
  // read-only index.
  Status ApplyGcRecords();
  // Starts a snapshot writer: writes its lock under locks/ (held until the
  // returned object is destroyed), then applies the gc records written
  // since Open and makes chunk_index() lookups skip hidden packs, so the
  // snapshot reuses no chunk a gc run may delete. The lock comes first:
  // gc deletes a record's packs only once every live lock is younger than
  // the record. REQUIRES: a writable index, no capture running yet.
  Result<std::unique_ptr<gc::HeldLock>> BeginWriting();
  // Resolves "latest", a unique ID prefix, or (when `at_ns` is set and spec
  // is "latest" or empty) the last snapshot at or before at_ns.
  Result<SnapshotInfo> ResolveSnapshot(std::string_view spec,
                                       std::optional<int64_t> at_ns = std::nullopt) const;

  // Re-reads snapshots/ and makes the catalog match it (cheap: one listing).
  Status SyncCatalog();

  static std::string PackKey(const index::PackId& pack);
  static std::string SnapshotKey(const ChunkId& id);

 private:
  Repository() = default;
  // Verifies and decodes a snapshot object's bytes; *plain receives the
  // encoded record.
  Result<snapshot::SnapshotRecord> DecodeSnapshotObject(const ChunkId& id, ByteSpan bytes,
                                                        Buffer* plain) const;
  // The frame at `loc`, verified to hold `id`.
  Result<ByteSpan> ReadFrameAt(const ChunkId& id, const index::ChunkLocation& loc,
                               Buffer* scratch) const;
  Result<ByteSpan> ReadFrame(const ChunkId& id, Buffer* scratch) const;
  // Where a chunk went whose pack a gc run deleted: the packs added by gc
  // records this index has not applied (their footers, read once and kept).
  Result<std::optional<index::ChunkLocation>> FindMovedChunk(const ChunkId& id) const;
  Status IndexAddedPack(const index::PackId& pack);
  // DecodePayload of a frame that is not a slice, without the check of the
  // plaintext against the frame's ID.
  Result<ByteSpan> DecodeBody(const pack::DecodedFrame& frame, ChunkScratch* scratch,
                              int* delta_depth) const;
  // The plaintext of the bundle a slice names, from the cache or read; not
  // checked against the bundle's ID (each slice cut from it is checked).
  Result<std::shared_ptr<const Buffer>> ReadBundle(const ChunkId& id) const;
  // Whether a bundle's plaintext (with its member table) hashes to `id`:
  // each member is hashed, then their IDs (BundleId).
  Status CheckBundle(ByteSpan plain, const ChunkId& id) const;

  std::string dir_;
  repo::Config config_;
  repo::MasterKeys keys_;
  codec::KeyedHasher hasher_{codec::Key256{}};
  codec::KeyedHasher bundle_hasher_{codec::Key256{}};  // under a key hasher_ derived
  std::unique_ptr<codec::Sealer> sealer_;  // null when unencrypted
  chunk::GearTable gear_{};
  std::unique_ptr<store::ObjectStore> store_;
  std::unique_ptr<index::KvStore> kv_;
  std::unique_ptr<index::ChunkIndex> chunk_index_;
  std::unique_ptr<index::Catalog> catalog_;
  std::unique_ptr<index::FilesCache> files_cache_;
  ChunkFetcher* fetcher_ = nullptr;
  mutable repo::BundleCache bundles_;
  bool index_read_only_ = false;
  bool index_rebuilt_ = false;

  struct MovedChunks;  // repository_gc.cc
  mutable std::mutex moved_mu_;
  mutable std::shared_ptr<MovedChunks> moved_;  // GUARDED_BY(moved_mu_)
};

}  // namespace snap::engine

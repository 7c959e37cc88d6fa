// ReplicaRepo: one repository a replica holds, DIR/repos/<id>/ (FORMAT.md
// "Replica directory"). The object-store layout of a repository minus its
// keys: the client's `config` and `snapshots/<id>` objects verbatim, an
// `owner` file, packs the replica wrote itself from the frames it accepted,
// and its own index/ (RocksDB): keyspace 'c' (engine::index::ChunkIndex)
// and keyspace 'r' (snapshots received: 'r' | id[32] -> received_ns u64 LE |
// object size u32 LE, the replica's clock at commit), and the key
// "mcomplete" once the index covers every pack and snapshot.
//
// Holds no key and never opens a payload: it checks frames' and snapshot
// objects' storage checksums and clear refs only. Nothing a client sends
// deletes or replaces an object; only the replica admin's commands do
// (forget, gc: "Administration" below).
//
// An open ReplicaRepo holds the repository's lock (repo_lock.h), so one
// process at a time works on it: `replicad serve` while sessions use it,
// or an admin command.
//
// Thread-safe: every method may be called concurrently. Writes (WritePack,
// PutSnapshot) come from the one push session a ReplicaStore lets in at a
// time; reads run alongside and see a pack once it is durable and indexed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/chunk_id.h"
#include "engine/index/chunk_index.h"
#include "engine/index/kv_store.h"
#include "engine/pack/pack_format.h"
#include "engine/repo/config.h"
#include "engine/store/object_store.h"
#include "replicator/protocol/messages.h"
#include "replicator/server/repo_lock.h"

namespace snap::replicator::server {

using engine::Buffer;
using engine::ByteSpan;
using engine::ChunkId;
using engine::Result;
using engine::Status;
using protocol::RepoId;

struct RepoOptions {
  // RocksDB opened without its lock, and the repository's lock not taken
  // (`replicad list` beside a running `replicad serve`).
  bool read_only = false;
  // The replica's clock, ns since the Unix epoch; the system clock when empty.
  std::function<int64_t()> now_ns;
  // The repository's lock (repo_lock.h): who takes it, and whether to wait
  // while another process holds it (else Open and Create fail with
  // Unavailable). `on_lock_wait` is called once before waiting.
  std::string lock_holder = "serve";
  bool wait_for_lock = false;
  std::function<void(const std::string& held_by)> on_lock_wait;
};

class ReplicaRepo {
 public:
  // Creates the repository in `dir` from a client's config object: checks
  // it decodes and names `id`, creates the index, writes `owner`, then
  // `config` (the commit point: a directory with a config is a
  // repository). A directory left without config by an interrupted create
  // is taken over. InvalidArgument when the config is bad or names
  // another repository; InvalidArgument when `dir` already holds a config.
  // REQUIRES: the caller holds the repository's push lease.
  static Result<std::unique_ptr<ReplicaRepo>> Create(const std::string& dir, const RepoId& id,
                                                     ByteSpan config_bytes,
                                                     const std::string& owner,
                                                     const RepoOptions& opts = {});
  // Opens an existing repository. NotFound when `dir` holds no config. A
  // missing index/ is rebuilt from the packs and snapshots/ (it is a cache;
  // not in read_only mode, where a missing index fails the open).
  // Unavailable "<dir>: in use by <holder>" when another process holds the
  // repository's lock and opts.wait_for_lock is false.
  static Result<std::unique_ptr<ReplicaRepo>> Open(const std::string& dir,
                                                   const RepoOptions& opts = {});
  ~ReplicaRepo();

  const RepoId& id() const { return config_.repo_id; }
  std::string id_hex() const { return config_.RepoIdHex(); }
  const engine::repo::Config& config() const { return config_; }
  const Buffer& config_bytes() const { return config_bytes_; }
  const std::string& owner() const { return owner_; }  // fingerprint
  const std::string& dir() const { return dir_; }
  int64_t NowNs() const;

  // (*held)[i] is true when ids[i] is indexed (held complete).
  Status Held(std::span<const ChunkId> ids, std::vector<bool>* held) const;
  // Finishes `writer` (spent afterwards) and writes the pack under packs/
  // (PutIfAbsent: temp, fsync, rename, fsync dir) named by the SHA-256 of
  // its bytes, then indexes its entries in one synced batch. Returns the
  // pack's size. REQUIRES: writer->entry_count() > 0.
  Result<uint64_t> WritePack(engine::pack::PackWriter* writer);
  // The stored frame of `id`, byte for byte as it arrived, after checking
  // its checksum and ID; std::nullopt when not held. Corruption naming the
  // pack when the stored bytes are damaged.
  Result<std::optional<Buffer>> ReadFrame(const ChunkId& id) const;
  // The frame at `loc`, checked as ReadFrame does (checksum, bounds, the
  // ID `loc.entry.id`). NotFound when the pack is missing; Corruption
  // naming the pack and offset when the bytes are damaged.
  Result<Buffer> ReadFrameAt(const engine::index::ChunkLocation& loc) const;
  // Calls fn for every indexed chunk, in ID order, until it returns false.
  Status ForEachChunk(
      const std::function<bool(const ChunkId&, const engine::index::ChunkLocation&)>& fn) const;
  // The repository's packs/ and snapshots/ (read by `replicad check`).
  const engine::store::ObjectStore& store() const { return *store_; }

  // Stores a snapshot object under snapshots/<id> and records its receipt
  // ('r'). Returns true when recorded now, false when the replica already
  // held identical bytes. InvalidArgument "snapshot <id>: already held with
  // other content; the replica is append-only" when the bytes differ.
  // REQUIRES: the object's refs are held (the caller checked).
  Result<bool> PutSnapshot(const ChunkId& id, ByteSpan object);
  // The snapshot object, or std::nullopt when not held.
  Result<std::optional<Buffer>> GetSnapshot(const ChunkId& id) const;
  // Every received snapshot in receive order (ties by ID).
  Result<std::vector<protocol::SnapshotList::Entry>> ListSnapshots() const;
  // ListSnapshots without the snapshots awaiting re-send: what
  // SNAPSHOT_LIST offers.
  Result<std::vector<protocol::SnapshotList::Entry>> ListCompleteSnapshots() const;

  // Repair (`replicad check --repair`; FORMAT.md "Replica directory",
  // "Check and repair"): removes `objects` from the index, deletes the
  // snapshot objects `damaged_objects`, then marks `snapshots` for re-send
  // (keyspace 'm'), each step synced. A marked snapshot keeps its receipt
  // but leaves SNAPSHOT_LIST until its client commits it again
  // (PutSnapshot deletes the mark). REQUIRES: no push session runs.
  Status MarkForResend(std::span<const ChunkId> objects, std::span<const ChunkId> snapshots,
                       std::span<const ChunkId> damaged_objects);
  // The snapshots marked for re-send, in ID order.
  Result<std::vector<ChunkId>> AwaitingResend() const;

  struct Stats {
    uint64_t snapshots = 0;
    std::optional<int64_t> newest_received_ns;  // empty when no snapshot
  };
  Stats stats() const;  // from memory: cheap enough for every metrics scrape
  // Total bytes of packs/ (one listing).
  Result<uint64_t> PackBytes() const;

  // ---- Administration (replica_forget.h, replica_gc.h) ----
  // REQUIRES for each: no session uses the repository (the caller opened
  // it itself, holding its lock), and not read_only.

  // Forgets a snapshot (FORMAT.md "Replica retention and gc"): its `r`
  // record first (synced: it is no longer listed), then its object. OK when
  // it was not held. A crash in between leaves an unlisted object, which
  // UnlistedSnapshots finds.
  Status ForgetSnapshot(const ChunkId& id);
  // Snapshot objects without an `r` record: a forget cut short, or a commit
  // cut before its record (whose client, never told COMMITTED, commits
  // again). In snapshots/ listing order.
  Result<std::vector<ChunkId>> UnlistedSnapshots() const;
  // Where each chunk's frame is ((*out)[i] empty when not indexed).
  Status Locate(std::span<const ChunkId> ids,
                std::vector<std::optional<engine::index::ChunkLocation>>* out) const;
  // Indexes a pack already durable under packs/ (one synced batch); a chunk
  // indexed elsewhere is pointed at this pack.
  Status IndexPack(const engine::index::PackId& pack,
                   std::span<const engine::pack::PackEntry> entries);
  // Drops every chunk location pointing into one of `packs` (synced).
  Status DropPacks(const engine::index::PackSet& packs);
  // Deletes a pack file (durable: its directory is fsynced). REQUIRES: no
  // chunk location points into it (DropPacks first).
  Status DeletePack(const engine::index::PackId& pack);
  // The repository's objects (config, packs/, snapshots/), for gc's mark
  // and repack. Valid while this object lives.
  engine::store::ObjectStore& objects() { return *store_; }

 private:
  ReplicaRepo() = default;
  // Opens index/; with `rebuild`, refills an index that is not marked
  // complete (new, or a rebuild cut short).
  static Result<std::unique_ptr<ReplicaRepo>> OpenIndexAndLoad(std::unique_ptr<ReplicaRepo> r,
                                                               const RepoOptions& opts,
                                                               bool rebuild);
  // Takes the repository's lock as `opts` say (none when read_only).
  Status TakeLock(const RepoOptions& opts);
  Status MarkIndexComplete();
  Status LoadStats();
  // Writes the receipt of a snapshot received at `received_ns`.
  Status RecordReceipt(const ChunkId& id, uint32_t size, int64_t received_ns);
  // Deletes the re-send mark of `id`, if any (synced).
  Status ClearResendMark(const ChunkId& id);
  // Replaces pack `key` by `bytes` when the held file is not `pack` any
  // more (damaged); see WritePack.
  Status ReplaceIfDamaged(const std::string& key, const engine::index::PackId& pack,
                          ByteSpan bytes);
  // Refills a new, empty index from the pack footers and snapshots/
  // (receipt times from the objects' mtimes). replica_repo_rebuild.cc.
  Status RebuildIndex();

  // Declared first, so destroyed last: the index is closed before another
  // process may open it.
  std::unique_ptr<RepoLock> lock_;
  std::string dir_;
  engine::repo::Config config_;
  Buffer config_bytes_;
  std::string owner_;
  std::function<int64_t()> now_ns_;
  std::unique_ptr<engine::store::ObjectStore> store_;
  std::unique_ptr<engine::index::KvStore> kv_;
  std::unique_ptr<engine::index::ChunkIndex> chunks_;

  mutable std::mutex mu_;
  Stats stats_;  // guarded by mu_
};

}  // namespace snap::replicator::server

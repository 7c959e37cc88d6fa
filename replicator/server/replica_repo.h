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
// objects' storage checksums and clear refs only. Nothing here deletes or
// replaces an object.
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

namespace snap::replicator::server {

using engine::Buffer;
using engine::ByteSpan;
using engine::ChunkId;
using engine::Result;
using engine::Status;
using protocol::RepoId;

struct RepoOptions {
  bool read_only = false;  // RocksDB opened without its lock (`replicad list`)
  // The replica's clock, ns since the Unix epoch; the system clock when empty.
  std::function<int64_t()> now_ns;
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

  struct Stats {
    uint64_t snapshots = 0;
    std::optional<int64_t> newest_received_ns;  // empty when no snapshot
  };
  Stats stats() const;  // from memory: cheap enough for every metrics scrape
  // Total bytes of packs/ (one listing).
  Result<uint64_t> PackBytes() const;

 private:
  ReplicaRepo() = default;
  // Opens index/; with `rebuild`, refills an index that is not marked
  // complete (new, or a rebuild cut short).
  static Result<std::unique_ptr<ReplicaRepo>> OpenIndexAndLoad(std::unique_ptr<ReplicaRepo> r,
                                                               const RepoOptions& opts,
                                                               bool rebuild);
  Status MarkIndexComplete();
  Status LoadStats();
  // Writes the receipt of a snapshot received at `received_ns`.
  Status RecordReceipt(const ChunkId& id, uint32_t size, int64_t received_ns);
  // Refills a new, empty index from the pack footers and snapshots/
  // (receipt times from the objects' mtimes). replica_repo_rebuild.cc.
  Status RebuildIndex();

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

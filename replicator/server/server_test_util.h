// Helpers for the replica's tests: configs, frames and snapshot objects
// built with the engine's encoders, and a replica directory with admitted
// clients. Header-only, so the tests alone compile it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/codec/crypto.h"
#include "engine/pack/pack_format.h"
#include "engine/repo/config.h"
#include "engine/repo/snapshot_object.h"
#include "replicator/protocol/messages.h"
#include "replicator/server/clients_file.h"
#include "replicator/server/replica_store.h"
#include "tests/support/test_util.h"

namespace snap::replicator::server::testing {

using engine::pack::EntryKind;

// A fixed, distinct ID per name (not a keyed hash: the replica cannot tell).
inline ChunkId IdOf(std::string_view name) {
  return ChunkId{engine::codec::Sha256(engine::AsBytes(name))};
}

inline RepoId RandomRepoId() {
  RepoId id;
  engine::codec::RandomBytes(id);
  return id;
}

inline Buffer MakeConfig(const RepoId& id, bool encrypted, uint32_t pack_target = 1u << 20) {
  engine::repo::Config c;
  c.repo_id = id;
  c.encrypted = encrypted;
  c.pack_target_size = pack_target;
  Buffer out;
  c.EncodeTo(&out);
  return out;
}

// One frame as a client sends it; `sealed` sets kFlagSealed (the payload
// is whatever was given: the replica cannot open it anyway).
inline Buffer MakeFrame(const ChunkId& id, std::vector<ChunkId> refs, std::string_view payload,
                        bool sealed, EntryKind kind = EntryKind::kData) {
  engine::pack::EntryHeader h;
  h.kind = kind;
  h.flags = sealed ? engine::pack::kFlagSealed : 0;
  h.raw_length = static_cast<uint32_t>(payload.size());
  h.id = id;
  h.refs = std::move(refs);
  Buffer out;
  engine::pack::EncodeFrame(h, engine::AsBytes(payload), &out);
  return out;
}

inline Buffer MakeSnapshotObject(std::vector<ChunkId> refs, bool sealed,
                                 std::string_view payload = "record") {
  engine::repo::SnapshotObject o;
  o.flags = sealed ? engine::repo::kSnapshotObjectSealed : 0;
  o.refs = std::move(refs);
  o.payload = engine::ToBuffer(payload);
  Buffer out;
  o.EncodeTo(&out);
  return out;
}

// Fingerprint-shaped client keys.
inline std::string KeyOf(char digit) { return "sha256:" + std::string(64, digit); }

// A fresh replica directory, opened, with a fake clock.
class ReplicaDir {
 public:
  ReplicaDir() {
    Result<std::string> fp = ReplicaStore::Init(dir());
    EXPECT_TRUE(fp.ok()) << fp.status().ToString();
    Reopen();
  }
  const std::string& dir() const { return tmp_.path(); }
  ReplicaStore& store() { return *store_; }
  void Reopen() {
    store_.reset();
    StoreOptions opts;
    opts.now_ns = [this] { return now_ns; };
    Result<std::unique_ptr<ReplicaStore>> s = ReplicaStore::Open(dir(), opts);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void AllowPush(const std::string& key) {
    ASSERT_OK(AddGrant(dir() + "/clients", *ClientGrant::Make(key, std::nullopt)));
  }
  void AllowRead(const std::string& key, const RepoId& repo) {
    ASSERT_OK(AddGrant(dir() + "/clients", *ClientGrant::Make(key, RepoIdHex(repo))));
  }

  int64_t now_ns = 1'800'000'000'000'000'000;

 private:
  test::TempDir tmp_;
  std::unique_ptr<ReplicaStore> store_;
};

}  // namespace snap::replicator::server::testing

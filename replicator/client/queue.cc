#include "replicator/client/queue.h"

#include <cstring>

namespace snap::replicator::client {
namespace {

void PutFixed(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; i++) out->push_back(static_cast<char>(v >> (8 * i)));
}

uint64_t GetFixed(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++) v |= uint64_t(uint8_t(in[at + i])) << (8 * i);
  return v;
}

std::string EncodeEntry(const QueueEntry& e) {
  std::string v;
  PutFixed(&v, static_cast<uint64_t>(e.queued_ns), 8);
  PutFixed(&v, e.attempts, 4);
  return v + e.last_error;
}

Result<QueueEntry> DecodeEntry(std::string_view key, std::string_view v) {
  if (v.size() < 12 || key.size() < ChunkId::kSize)
    return Status::Corruption("index: replication queue entry too short");
  QueueEntry e;
  e.snapshot = ChunkId::FromSpan(engine::AsBytes(key.substr(key.size() - ChunkId::kSize)));
  e.queued_ns = static_cast<int64_t>(GetFixed(v, 0, 8));
  e.attempts = static_cast<uint32_t>(GetFixed(v, 8, 4));
  e.last_error = std::string(v.substr(12));
  return e;
}

std::string StateKey(const std::string& peer) { return "p" + peer; }

}  // namespace

std::string ReplicationQueue::QueueKey(const std::string& peer, const ChunkId& snapshot) {
  std::string key = "q" + peer;
  key.push_back('\0');
  key.append(engine::AsChars(snapshot.span()));
  return key;
}

Status ReplicationQueue::Enqueue(const std::string& peer, const ChunkId& snapshot,
                                 int64_t now_ns) {
  std::string key = QueueKey(peer, snapshot);
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> have, kv_->Get(key));
  if (have) return Status::OK();
  engine::index::WriteBatch b;
  b.Put(key, EncodeEntry({snapshot, now_ns, 0, {}}));
  return kv_->Write(b, true);
}

Result<std::vector<QueueEntry>> ReplicationQueue::Pending(const std::string& peer) const {
  std::vector<QueueEntry> out;
  Status bad;
  std::string prefix = "q" + peer;
  prefix.push_back('\0');
  SNAP_RETURN_IF_ERROR(kv_->Scan(prefix, [&](std::string_view k, std::string_view v) {
    Result<QueueEntry> e = DecodeEntry(k, v);
    if (!e.ok()) {
      bad = e.status();
      return false;
    }
    out.push_back(std::move(*e));
    return true;
  }));
  SNAP_RETURN_IF_ERROR(bad);
  return out;
}

Status ReplicationQueue::Done(const std::string& peer, const ChunkId& snapshot) {
  engine::index::WriteBatch b;
  b.Delete(QueueKey(peer, snapshot));
  return kv_->Write(b, true);
}

Status ReplicationQueue::Failed(const std::string& peer, const ChunkId& snapshot,
                                const std::string& error) {
  std::string key = QueueKey(peer, snapshot);
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> have, kv_->Get(key));
  QueueEntry e{snapshot, 0, 0, {}};
  if (have) {
    SNAP_ASSIGN_OR_RETURN(e, DecodeEntry(key, *have));
  }
  e.attempts++;
  e.last_error = error;
  engine::index::WriteBatch b;
  b.Put(key, EncodeEntry(e));
  return kv_->Write(b, true);
}

Result<PeerState> ReplicationQueue::State(const std::string& peer) const {
  SNAP_ASSIGN_OR_RETURN(std::optional<std::string> v, kv_->Get(StateKey(peer)));
  PeerState s;
  if (!v) return s;
  if (v->size() < 32 + 24) return Status::Corruption("index: peer state of " + peer + " too short");
  ChunkId id = ChunkId::FromSpan(engine::AsBytes(std::string_view(*v).substr(0, 32)));
  if (!id.IsZero()) s.last_snapshot = id;
  s.last_success_ns = static_cast<int64_t>(GetFixed(*v, 32, 8));
  s.last_failure_ns = static_cast<int64_t>(GetFixed(*v, 40, 8));
  s.bytes_sent = GetFixed(*v, 48, 8);
  s.last_error = v->substr(56);
  return s;
}

Status ReplicationQueue::PutState(const std::string& peer, const PeerState& s) {
  std::string v(engine::AsChars(s.last_snapshot.value_or(ChunkId{}).span()));
  PutFixed(&v, static_cast<uint64_t>(s.last_success_ns), 8);
  PutFixed(&v, static_cast<uint64_t>(s.last_failure_ns), 8);
  PutFixed(&v, s.bytes_sent, 8);
  v += s.last_error;
  engine::index::WriteBatch b;
  b.Put(StateKey(peer), v);
  return kv_->Write(b, true);
}

}  // namespace snap::replicator::client

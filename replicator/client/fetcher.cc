#include "replicator/client/fetcher.h"

#include <algorithm>
#include <unordered_set>

#include "engine/pack/pack_format.h"
#include "replicator/client/session.h"

namespace snap::replicator::client {
namespace {

using protocol::MessageType;

// IDs per GET_CHUNKS: large enough to pipeline, small enough that a batch's
// frames (at most 8 MiB each for file chunks) stay a bounded amount of work.
constexpr size_t kBatch = 256;

}  // namespace

RemoteFetcher::RemoteFetcher(engine::Repository* repo, net::Channel* channel)
    : repo_(repo), channel_(channel), sink_(repo) {}

RemoteFetcher::~RemoteFetcher() = default;

FetchStats RemoteFetcher::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Status RemoteFetcher::Fetch(std::span<const engine::ChunkId> ids) {
  std::lock_guard<std::mutex> lock(mu_);
  return FetchLocked(std::vector<engine::ChunkId>(ids.begin(), ids.end()), 0);
}

Result<std::vector<engine::ChunkId>> RemoteFetcher::NotIndexed(
    std::span<const engine::ChunkId> ids) const {
  std::vector<std::optional<engine::index::ChunkLocation>> locs;
  SNAP_RETURN_IF_ERROR(repo_->chunk_index().MultiGet(ids, &locs));
  std::vector<engine::ChunkId> out;
  for (size_t i = 0; i < ids.size(); i++)
    if (!locs[i]) out.push_back(ids[i]);
  return out;
}

Status RemoteFetcher::FetchLocked(std::vector<engine::ChunkId> ids, int depth) {
  if (depth > engine::Repository::kMaxDeltaDepth) return Status::OK();  // read reports it
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  SNAP_ASSIGN_OR_RETURN(std::vector<engine::ChunkId> want, NotIndexed(ids));
  std::vector<engine::ChunkId> bases;
  std::vector<engine::Buffer> held;
  auto batch = [&](size_t at) {
    return std::span<const engine::ChunkId>(want).subspan(at, std::min(kBatch, want.size() - at));
  };
  // One request ahead: the replica reads the next batch while this one's
  // frames are on their way.
  if (!want.empty()) SNAP_RETURN_IF_ERROR(Request(batch(0)));
  for (size_t at = 0; at < want.size(); at += kBatch) {
    if (at + kBatch < want.size()) SNAP_RETURN_IF_ERROR(Request(batch(at + kBatch)));
    SNAP_RETURN_IF_ERROR(Receive(batch(at), &bases, &held));
  }
  SNAP_RETURN_IF_ERROR(sink_.Flush());
  // Bases first, committed, then what is decoded from them: a slice or
  // delta indexed without its base would be reused by the next snapshot
  // and unreadable (a cut connection or a crash in between).
  if (!bases.empty()) SNAP_RETURN_IF_ERROR(FetchLocked(std::move(bases), depth + 1));
  if (held.empty()) return Status::OK();
  for (const engine::Buffer& frame : held) {
    Result<engine::pack::DecodedFrame> f = engine::pack::DecodeFrame(frame);
    if (!f.ok()) return f.status();  // decoded once already
    SNAP_ASSIGN_OR_RETURN(bool claimed, sink_.Claim(f->header.id));
    if (claimed) SNAP_RETURN_IF_ERROR(sink_.Add(f->header, f->payload));
  }
  return sink_.Flush();
}

Status RemoteFetcher::Request(std::span<const engine::ChunkId> ids) {
  protocol::IdList req;
  req.ids.assign(ids.begin(), ids.end());
  engine::Buffer body;
  req.EncodeTo(&body);
  stats_.requests++;
  return channel_->Send(MessageType::kGetChunks, body);
}

Status RemoteFetcher::Receive(std::span<const engine::ChunkId> ids,
                              std::vector<engine::ChunkId>* bases,
                              std::vector<engine::Buffer>* held) {
  for (const engine::ChunkId& id : ids) {
    SNAP_ASSIGN_OR_RETURN(protocol::Message m, channel_->Receive());
    std::string from = "replica " + channel_->peer() + ": chunk " + id.ShortHex();
    if (m.type == MessageType::kMissing) {
      SNAP_ASSIGN_OR_RETURN(protocol::IdMessage miss, protocol::IdMessage::Decode(m.body));
      if (miss.id != id) return Status::Corruption(from + ": answered for another chunk");
      stats_.missing++;
      continue;
    }
    if (m.type != MessageType::kFrame)
      return Status::Corruption(from + ": answered " + protocol::MessageTypeName(m.type));
    Result<engine::pack::DecodedFrame> f = engine::pack::DecodeFrame(m.body);
    if (!f.ok()) return f.status().WithContext(from);
    if (f->header.id != id) return Status::Corruption(from + ": answered with another chunk");
    stats_.chunks++;
    stats_.bytes += m.body.size();
    if (engine::pack::HasBaseRefs(f->header.flags)) {
      bases->insert(bases->end(), f->header.refs.begin(), f->header.refs.end());
      held->push_back(std::move(m.body));
      continue;
    }
    SNAP_ASSIGN_OR_RETURN(bool claimed, sink_.Claim(id));
    if (claimed) SNAP_RETURN_IF_ERROR(sink_.Add(f->header, f->payload));
  }
  return Status::OK();
}

Result<std::vector<engine::ChunkId>> RemoteFetcher::Replace(std::span<const engine::ChunkId> ids) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<engine::ChunkId> repaired;
  for (size_t at = 0; at < ids.size(); at += kBatch) {
    auto batch = ids.subspan(at, std::min(kBatch, ids.size() - at));
    SNAP_RETURN_IF_ERROR(Request(batch));
    for (const engine::ChunkId& id : batch) {
      SNAP_ASSIGN_OR_RETURN(protocol::Message m, channel_->Receive());
      if (m.type != MessageType::kFrame) continue;  // MISSING: nothing to repair with
      Result<engine::pack::DecodedFrame> f = engine::pack::DecodeFrame(m.body);
      if (!f.ok() || f->header.id != id || !repo_->DecodePayload(*f).ok()) continue;
      SNAP_RETURN_IF_ERROR(sink_.Add(f->header, f->payload));
      repaired.push_back(id);
      stats_.chunks++;
      stats_.bytes += m.body.size();
    }
  }
  SNAP_RETURN_IF_ERROR(sink_.Flush());
  return repaired;
}

Status RemoteFetcher::SyncSnapshots() {
  std::lock_guard<std::mutex> lock(mu_);
  SNAP_RETURN_IF_ERROR(channel_->Send(MessageType::kListSnapshots, {}));
  SNAP_ASSIGN_OR_RETURN(protocol::Message m, Expect(*channel_, MessageType::kSnapshotList));
  SNAP_ASSIGN_OR_RETURN(protocol::SnapshotList list, protocol::SnapshotList::Decode(m.body));
  SNAP_ASSIGN_OR_RETURN(std::vector<engine::Repository::SnapshotInfo> local,
                        repo_->ListSnapshots());
  std::unordered_set<engine::ChunkId, engine::ChunkIdHash> have;
  for (const auto& s : local) have.insert(s.id);
  for (const auto& e : list.entries) {
    if (have.contains(e.id)) continue;
    protocol::IdMessage get{e.id};
    engine::Buffer body;
    get.EncodeTo(&body);
    SNAP_RETURN_IF_ERROR(channel_->Send(MessageType::kGetSnapshot, body));
    SNAP_ASSIGN_OR_RETURN(protocol::Message sm, Expect(*channel_, MessageType::kSnapshot));
    SNAP_ASSIGN_OR_RETURN(protocol::SnapshotObjectMessage snap,
                          protocol::SnapshotObjectMessage::Decode(sm.body));
    if (snap.id != e.id)
      return Status::Corruption("replica " + channel_->peer() + ": sent snapshot " +
                                snap.id.ShortHex() + " for " + e.id.ShortHex());
    Status s = repo_->ImportSnapshot(snap.id, snap.object);
    if (!s.ok()) return s.WithContext("replica " + channel_->peer());
  }
  return Status::OK();
}

}  // namespace snap::replicator::client

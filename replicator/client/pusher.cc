#include "replicator/client/pusher.h"

#include <algorithm>

#include "engine/pack/pack_format.h"
#include "engine/repo/snapshot_object.h"
#include "replicator/client/session.h"

namespace snap::replicator::client {
namespace {

using protocol::MessageType;

// Deeper than any directory tree a file system allows plus a delta chain:
// a repository whose refs nest further is corrupt (or loops).
constexpr int kMaxWalkDepth = 4096;

}  // namespace

Pusher::Pusher(const engine::Repository& repo, net::Channel* channel)
    : repo_(repo), channel_(channel) {}

Status Pusher::SendConfig() {
  SNAP_ASSIGN_OR_RETURN(engine::Buffer config, repo_.store().Get("config"));
  return channel_->Send(MessageType::kPutConfig, config);
}

Result<std::vector<engine::ChunkId>> Pusher::Lacking(const std::vector<engine::ChunkId>& ids) {
  std::vector<engine::ChunkId> lacking;
  for (size_t at = 0; at < ids.size(); at += protocol::kMaxIdsPerMessage) {
    protocol::IdList q;
    size_t end = std::min(ids.size(), at + protocol::kMaxIdsPerMessage);
    q.ids.assign(ids.begin() + at, ids.begin() + end);
    engine::Buffer body;
    q.EncodeTo(&body);
    SNAP_RETURN_IF_ERROR(channel_->Send(MessageType::kHave, body));
    SNAP_ASSIGN_OR_RETURN(protocol::Message m, Expect(*channel_, MessageType::kHaveReply));
    SNAP_ASSIGN_OR_RETURN(protocol::HaveReply r, protocol::HaveReply::Decode(m.body));
    if (r.have.size() != q.ids.size())
      return Status::Corruption("replica " + channel_->peer() + ": HAVE_REPLY answers " +
                                std::to_string(r.have.size()) + " of " +
                                std::to_string(q.ids.size()) + " IDs");
    for (size_t i = 0; i < q.ids.size(); i++)
      if (!r.have[i]) lacking.push_back(q.ids[i]);
    stats_.have_batches++;
    stats_.ids_asked += q.ids.size();
  }
  return lacking;
}

Status Pusher::SendMissing(std::vector<engine::ChunkId> ids, int depth) {
  if (depth > kMaxWalkDepth)
    return Status::Corruption("snapshot walk deeper than " + std::to_string(kMaxWalkDepth) +
                              " levels: the repository's refs loop; run `snapctl check`");
  // A tree may name one chunk many times (equal files); ask once.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  SNAP_ASSIGN_OR_RETURN(std::vector<engine::ChunkId> lacking, Lacking(ids));
  for (const engine::ChunkId& id : lacking) {
    if (sent_.contains(id)) continue;
    SNAP_ASSIGN_OR_RETURN(engine::Buffer frame, repo_.ReadFrame(id));
    SNAP_ASSIGN_OR_RETURN(engine::pack::DecodedFrame f, engine::pack::DecodeFrame(frame));
    // Children first: the replica accepts a frame only when it holds its
    // refs. A sibling sent earlier in this loop is already held, and the
    // HAVE below sees it (the replica handles messages in order).
    if (engine::pack::HasBaseRefs(f.header.flags)) {
      std::vector<engine::ChunkId> bases;
      for (const engine::ChunkId& b : f.header.refs)
        if (!bases_held_.contains(b)) bases.push_back(b);
      if (!bases.empty()) SNAP_RETURN_IF_ERROR(SendMissing(bases, depth + 1));
      if (bases_held_.size() + bases.size() > kMaxRemembered) bases_held_.clear();
      bases_held_.insert(bases.begin(), bases.end());
    } else if (!f.header.refs.empty()) {
      SNAP_RETURN_IF_ERROR(SendMissing(f.header.refs, depth + 1));
    }
    SNAP_RETURN_IF_ERROR(channel_->Send(MessageType::kFrame, frame));
    if (sent_.size() >= kMaxRemembered) sent_.clear();
    sent_.insert(id);
    stats_.frames_sent++;
    stats_.frame_bytes += frame.size();
  }
  return Status::OK();
}

Status Pusher::PushSnapshot(const engine::ChunkId& id) {
  SNAP_ASSIGN_OR_RETURN(engine::Buffer object, repo_.ReadSnapshotObject(id));
  Result<engine::repo::SnapshotObject> obj = engine::repo::SnapshotObject::Decode(object);
  if (!obj.ok()) return obj.status().WithContext("snapshot " + id.ShortHex());
  SNAP_RETURN_IF_ERROR(SendMissing(obj->refs, 0));
  protocol::SnapshotObjectMessage commit{id, std::move(object)};
  engine::Buffer body;
  commit.EncodeTo(&body);
  SNAP_RETURN_IF_ERROR(channel_->Send(MessageType::kCommitSnapshot, body));
  SNAP_ASSIGN_OR_RETURN(protocol::Message m, Expect(*channel_, MessageType::kCommitted));
  SNAP_ASSIGN_OR_RETURN(protocol::Committed c, protocol::Committed::Decode(m.body));
  if (c.id != id)
    return Status::Corruption("replica " + channel_->peer() + ": confirmed snapshot " +
                              c.id.ShortHex() + " instead of " + id.ShortHex());
  if (c.created) stats_.snapshots_created++;
  return Status::OK();
}

}  // namespace snap::replicator::client

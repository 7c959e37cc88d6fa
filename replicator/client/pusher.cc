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
  // Every batch is sent before the first reply is read: one round trip
  // however many IDs (the replica answers in order).
  std::vector<size_t> asked;
  for (size_t at = 0; at < ids.size(); at += protocol::kMaxIdsPerMessage) {
    protocol::IdList q;
    size_t end = std::min(ids.size(), at + protocol::kMaxIdsPerMessage);
    q.ids.assign(ids.begin() + at, ids.begin() + end);
    engine::Buffer body;
    q.EncodeTo(&body);
    SNAP_RETURN_IF_ERROR(channel_->Send(MessageType::kHave, body));
    asked.push_back(q.ids.size());
    stats_.have_batches++;
    stats_.ids_asked += q.ids.size();
  }
  std::vector<engine::ChunkId> lacking;
  size_t at = 0;
  for (size_t n : asked) {
    SNAP_ASSIGN_OR_RETURN(protocol::Message m, Expect(*channel_, MessageType::kHaveReply));
    SNAP_ASSIGN_OR_RETURN(protocol::HaveReply r, protocol::HaveReply::Decode(m.body));
    if (r.have.size() != n)
      return Status::Corruption("replica " + channel_->peer() + ": HAVE_REPLY answers " +
                                std::to_string(r.have.size()) + " of " + std::to_string(n) +
                                " IDs");
    for (size_t i = 0; i < n; i++)
      if (!r.have[i]) lacking.push_back(ids[at + i]);
    at += n;
  }
  if (!asked.empty()) stats_.have_round_trips++;
  return lacking;
}

Status Pusher::SendFrame(const engine::ChunkId& id, const engine::Buffer& frame) {
  SNAP_RETURN_IF_ERROR(channel_->Send(MessageType::kFrame, frame));
  if (sent_.size() >= kMaxRemembered) sent_.clear();
  sent_.insert(id);
  stats_.frames_sent++;
  stats_.frame_bytes += frame.size();
  return Status::OK();
}

Status Pusher::SendMissing(std::vector<engine::ChunkId> ids, int depth) {
  if (depth > kMaxWalkDepth)
    return Status::Corruption("snapshot walk deeper than " + std::to_string(kMaxWalkDepth) +
                              " levels: the repository's refs loop; run `snapctl check`");
  // A tree may name one chunk many times (equal files); ask once, and not
  // about what this session sent.
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  std::erase_if(ids, [this](const engine::ChunkId& id) { return sent_.contains(id); });
  if (ids.empty()) return Status::OK();
  SNAP_ASSIGN_OR_RETURN(std::vector<engine::ChunkId> lacking, Lacking(ids));

  // Objects with refs wait until their children are sent: the replica
  // accepts a frame only when it holds its refs. The children of all of
  // them are asked about together, one level of the walk per round trip;
  // a level's parents are sent in groups of bounded size, so a huge level
  // is walked group by group, not held whole.
  struct Parent {
    engine::ChunkId id;
    engine::Buffer frame;  // empty when over kMaxHeldBytes: read again
  };
  std::vector<Parent> parents;
  std::vector<engine::ChunkId> children;
  // The bases (bundles, delta bases) this group asks about: a base is in
  // bases_held_ only once the replica said it holds it or it was sent, so
  // a slice whose bundle waits in some level's list waits too.
  std::unordered_set<engine::ChunkId, engine::ChunkIdHash> group_bases;
  size_t held = 0;
  auto send_group = [&]() -> Status {
    SNAP_RETURN_IF_ERROR(SendMissing(std::move(children), depth + 1));
    children.clear();
    if (bases_held_.size() + group_bases.size() > kMaxRemembered) bases_held_.clear();
    bases_held_.insert(group_bases.begin(), group_bases.end());
    group_bases.clear();
    for (Parent& p : parents) {
      if (sent_.contains(p.id)) continue;  // also a child of a sibling
      if (p.frame.empty()) {
        SNAP_ASSIGN_OR_RETURN(p.frame, repo_.ReadFrame(p.id));
      }
      SNAP_RETURN_IF_ERROR(SendFrame(p.id, p.frame));
    }
    parents.clear();
    held = 0;
    return Status::OK();
  };
  for (const engine::ChunkId& id : lacking) {
    if (sent_.contains(id)) continue;  // sent below an object before it in this level
    SNAP_ASSIGN_OR_RETURN(engine::Buffer frame, repo_.ReadFrame(id));
    SNAP_ASSIGN_OR_RETURN(engine::pack::DecodedFrame f, engine::pack::DecodeFrame(frame));
    bool waits = false;
    if (engine::pack::HasBaseRefs(f.header.flags)) {
      // The many slices of one bundle ask about it once per session.
      for (const engine::ChunkId& b : f.header.refs) {
        if (bases_held_.contains(b) || sent_.contains(b)) continue;
        waits = true;
        if (group_bases.insert(b).second) children.push_back(b);
      }
    } else if (!f.header.refs.empty()) {
      waits = true;
      children.insert(children.end(), f.header.refs.begin(), f.header.refs.end());
    }
    if (!waits) {  // a leaf, or all its bases are held or sent
      SNAP_RETURN_IF_ERROR(SendFrame(id, frame));
      continue;
    }
    bool keep = held + frame.size() <= kMaxHeldBytes;
    if (keep) held += frame.size();
    parents.push_back({id, keep ? std::move(frame) : engine::Buffer()});
    if (children.size() >= kMaxChildrenPerGroup) SNAP_RETURN_IF_ERROR(send_group());
  }
  if (!parents.empty()) SNAP_RETURN_IF_ERROR(send_group());
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

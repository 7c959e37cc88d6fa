// The read half of ReplicaSession: GET_CONFIG, LIST_SNAPSHOTS,
// GET_SNAPSHOT, GET_CHUNKS, and the reply queue they feed.
#include <spdlog/spdlog.h>

#include "replicator/server/replica_session.h"

namespace snap::replicator::server {

using protocol::MessageType;

Status ReplicaSession::OnGetConfig() {
  SNAP_RETURN_IF_ERROR(RequireRepo());
  Queue(MessageType::kConfig, repo_->config_bytes());
  return Status::OK();
}

Status ReplicaSession::OnListSnapshots() {
  SNAP_RETURN_IF_ERROR(RequireRepo());
  protocol::SnapshotList list;
  SNAP_ASSIGN_OR_RETURN(list.entries, repo_->ListCompleteSnapshots());
  // The wire bounds a list; the newest are the ones a restore wants.
  if (list.entries.size() > protocol::kMaxSnapshotsPerList)
    list.entries.erase(list.entries.begin(), list.entries.end() - protocol::kMaxSnapshotsPerList);
  Buffer body;
  list.EncodeTo(&body);
  Queue(MessageType::kSnapshotList, body);
  return Status::OK();
}

Status ReplicaSession::OnGetSnapshot(const protocol::Message& msg) {
  SNAP_RETURN_IF_ERROR(RequireRepo());
  SNAP_ASSIGN_OR_RETURN(protocol::IdMessage m, protocol::IdMessage::Decode(msg.body));
  SNAP_ASSIGN_OR_RETURN(std::optional<Buffer> object, repo_->GetSnapshot(m.id));
  if (!object)
    return Status::NotFound("snapshot " + m.id.ShortHex() + ": not held by this replica");
  protocol::SnapshotObjectMessage reply{m.id, std::move(*object)};
  Buffer body;
  reply.EncodeTo(&body);
  Queue(MessageType::kSnapshot, body);
  return Status::OK();
}

Status ReplicaSession::OnGetChunks(const protocol::Message& msg) {
  SNAP_RETURN_IF_ERROR(RequireRepo());
  SNAP_ASSIGN_OR_RETURN(protocol::IdList ids, protocol::IdList::Decode(msg.body));
  // An owner reading in its own push session sees what it sent.
  if (push_ && push_->pending_frames() > 0) SNAP_RETURN_IF_ERROR(push_->Flush());
  Reply r;
  r.chunks = std::move(ids.ids);
  r.is_chunks = true;
  replies_.push_back(std::move(r));
  return Status::OK();
}

void ReplicaSession::Queue(MessageType type, const Buffer& body) {
  Reply r;
  protocol::EncodeMessage(type, body, &r.message);
  replies_.push_back(std::move(r));
}

Result<bool> ReplicaSession::NextReply(Buffer* out) {
  out->clear();
  while (!replies_.empty()) {
    Reply& r = replies_.front();
    if (!r.is_chunks) {
      out->swap(r.message);
      replies_.pop_front();
    } else if (r.next == r.chunks.size()) {
      replies_.pop_front();
      continue;
    } else {
      Result<bool> made = NextChunkReply(&r, out);
      if (!made.ok()) {
        store_->metrics().errors++;
        error_logged_ = true;
        spdlog::warn("session {} from {}, repository {}: GET_CHUNKS: {}",
                     ShortKey(peer_.client_key), peer_.address, RepoHex(),
                     made.status().ToString());
        return made.status();
      }
    }
    store_->metrics().sent_bytes += out->size();
    return true;
  }
  return false;
}

Result<bool> ReplicaSession::NextChunkReply(Reply* r, Buffer* out) {
  const ChunkId& id = r->chunks[r->next++];
  Result<std::optional<Buffer>> read = repo_->ReadFrame(id);
  if (!read.ok() && !read.status().IsCorruption())
    return read.status().WithContext("chunk " + id.ShortHex());
  std::optional<Buffer> frame;
  if (read.ok()) {
    frame = std::move(*read);
  } else {
    // A damaged copy is not served: the client hears MISSING, restores
    // everything else, and names what it could not get.
    store_->metrics().errors++;
    spdlog::warn("session {} from {}, repository {}: GET_CHUNKS: chunk {} is damaged here, answered "
                 "MISSING: {} (run `replicad check --read-data`)",
                 ShortKey(peer_.client_key), peer_.address, RepoHex(), id.ShortHex(),
                 read.status().ToString());
  }
  if (frame) {
    protocol::EncodeMessage(MessageType::kFrame, *frame, out);
  } else {
    protocol::IdMessage missing{id};
    Buffer body;
    missing.EncodeTo(&body);
    protocol::EncodeMessage(MessageType::kMissing, body, out);
  }
  return true;
}

}  // namespace snap::replicator::server

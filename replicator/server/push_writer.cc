#include "replicator/server/push_writer.h"

#include <algorithm>

#include "engine/repo/snapshot_object.h"

namespace snap::replicator::server {
namespace {

// At most this much accepted data waits in a session's memory.
constexpr uint64_t kMaxPendingPack = 32u << 20;

// The replica cannot open a payload, but it can refuse one stored the
// wrong way: a plaintext chunk in an encrypted repository would leak.
Status CheckSealed(const std::string& what, bool sealed, bool encrypted) {
  if (sealed == encrypted) return Status::OK();
  return Status::Corruption(what + (sealed ? ": sealed, but the repository is not encrypted"
                                           : ": not sealed, but the repository is encrypted"));
}

}  // namespace

PushWriter::PushWriter(ReplicaRepo* repo) : repo_(repo) {}
PushWriter::~PushWriter() = default;

Status PushWriter::Have(std::span<const ChunkId> ids, std::vector<bool>* held) const {
  SNAP_RETURN_IF_ERROR(repo_->Held(ids, held));
  for (size_t i = 0; i < ids.size(); ++i)
    if (!(*held)[i] && pending_.count(ids[i])) (*held)[i] = true;
  return Status::OK();
}

Status PushWriter::CheckRefs(const std::string& what, std::span<const ChunkId> refs) const {
  std::vector<ChunkId> unknown;
  for (const ChunkId& ref : refs)
    if (!pending_.count(ref)) unknown.push_back(ref);
  if (unknown.empty()) return Status::OK();
  std::vector<bool> held;
  SNAP_RETURN_IF_ERROR(repo_->Held(unknown, &held));
  for (size_t i = 0; i < unknown.size(); ++i) {
    if (held[i]) continue;
    return Status::Corruption(what + ": references " + unknown[i].ShortHex() +
                              " which the replica does not hold; children must be sent "
                              "before parents");
  }
  return Status::OK();
}

Result<bool> PushWriter::AddFrame(ByteSpan frame) {
  Result<engine::pack::DecodedFrame> decoded = engine::pack::DecodeFrame(frame);
  if (!decoded.ok()) return decoded.status().WithContext("FRAME");
  const engine::pack::EntryHeader& h = decoded->header;
  std::string what = "chunk " + h.id.ShortHex();
  // A slice's payload is an offset into its bundle, never sealed: it holds
  // no content (FORMAT.md "Slices").
  if (!(h.flags & engine::pack::kFlagSlice))
    SNAP_RETURN_IF_ERROR(
        CheckSealed(what, (h.flags & engine::pack::kFlagSealed) != 0, repo_->config().encrypted));
  if (pending_.count(h.id)) return false;
  std::vector<bool> held;
  SNAP_RETURN_IF_ERROR(repo_->Held(std::span<const ChunkId>(&h.id, 1), &held));
  if (held[0]) return false;
  SNAP_RETURN_IF_ERROR(CheckRefs(what, h.refs));
  if (!pack_) pack_ = std::make_unique<engine::pack::PackWriter>();
  // Re-encodes the frame byte for byte (same header, refs, payload and
  // therefore checksum): the pack holds exactly what the client sent.
  pack_->Add(h, decoded->payload);
  pending_.insert(h.id);
  // The client's config names its pack size; the replica bounds what one
  // session holds in memory whatever a client asks for.
  uint64_t target = std::min<uint64_t>(repo_->config().pack_target_size, kMaxPendingPack);
  if (pack_->size() >= target) SNAP_RETURN_IF_ERROR(Flush());
  return true;
}

Result<bool> PushWriter::Commit(const ChunkId& id, ByteSpan object) {
  std::string what = "snapshot " + id.ShortHex();
  Result<engine::repo::SnapshotObject> obj = engine::repo::SnapshotObject::Decode(object);
  if (!obj.ok()) return obj.status().WithContext(what);
  SNAP_RETURN_IF_ERROR(CheckSealed(what, (obj->flags & engine::repo::kSnapshotObjectSealed) != 0,
                                   repo_->config().encrypted));
  SNAP_RETURN_IF_ERROR(CheckRefs(what, obj->refs));
  // The chunks below it become durable before the snapshot names them.
  SNAP_RETURN_IF_ERROR(Flush());
  return repo_->PutSnapshot(id, object);
}

Status PushWriter::Flush() {
  if (!pack_ || pack_->entry_count() == 0) return Status::OK();
  std::unique_ptr<engine::pack::PackWriter> full = std::move(pack_);
  Result<uint64_t> written = repo_->WritePack(full.get());
  // On failure the frames are lost from this session and no longer count
  // as held; the client's next push sends them again.
  pending_.clear();
  if (!written.ok()) return written.status();
  packs_written_++;
  return Status::OK();
}

}  // namespace snap::replicator::server

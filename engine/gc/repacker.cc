#include "engine/gc/repacker.h"

#include "engine/codec/crypto.h"
#include "engine/repository.h"

namespace snap::engine::gc {

Result<bool> Repacker::Add(const PackId& pack) {
  const std::string key = Repository::PackKey(pack);
  SNAP_ASSIGN_OR_RETURN(std::vector<pack::PackEntry> entries, scratch_->EntriesOf(pack));
  SNAP_ASSIGN_OR_RETURN(Buffer bytes, store_->Get(key));
  // Verify every live frame before copying any, so a pack is copied whole
  // or not at all.
  std::vector<pack::DecodedFrame> live;
  for (const pack::PackEntry& e : entries) {
    SNAP_ASSIGN_OR_RETURN(bool marked, scratch_->IsMarked(e.id));
    if (!marked) continue;
    if (e.offset + e.length > bytes.size()) return false;
    Result<pack::DecodedFrame> f = pack::DecodeFrame(ByteSpan(bytes).subspan(e.offset, e.length));
    if (!f.ok() || f->header.id != e.id) return false;
    live.push_back(std::move(*f));
  }
  for (const pack::DecodedFrame& f : live) {
    SNAP_ASSIGN_OR_RETURN(bool first, scratch_->MarkCopied(f.header.id));
    if (!first) continue;
    if (!writer_) writer_ = std::make_unique<pack::PackWriter>();
    // Encoding a decoded frame gives back the very same bytes.
    writer_->Add(f.header, f.payload);
    if (writer_->size() >= target_size_) SNAP_RETURN_IF_ERROR(Write());
  }
  return true;
}

Status Repacker::Finish() {
  if (writer_ && writer_->entry_count() > 0) return Write();
  return Status::OK();
}

Status Repacker::Write() {
  Buffer bytes = writer_->Finish();
  writer_.reset();
  PackId id = codec::Sha256(bytes);
  SNAP_RETURN_IF_ERROR(store_->PutIfAbsent(Repository::PackKey(id), bytes).status());
  written_.push_back(id);
  written_bytes_ += bytes.size();
  return Status::OK();
}

}  // namespace snap::engine::gc

#include "engine/repo/pack_sink.h"

#include "engine/codec/crypto.h"
#include "engine/repository.h"

namespace snap::engine::repo {
namespace {
constexpr size_t kPackSlack = 1u << 20;
constexpr size_t kMaxSpareBuffers = 1;
}  // namespace

PackSink::PackSink(Repository* repo) : repo_(repo) {}
PackSink::~PackSink() = default;

Result<bool> PackSink::Claim(const ChunkId& id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (claimed_.count(id)) return false;
  }
  SNAP_ASSIGN_OR_RETURN(auto loc, repo_->chunk_index().Get(id));
  if (loc) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return claimed_.insert(id).second;
}

Status PackSink::Add(const pack::EntryHeader& header, ByteSpan payload) {
  // Readers reject entries past these bounds; never write one.
  if (header.refs.size() > pack::kMaxRefs || header.raw_length > pack::kMaxRawLength)
    return Status::InvalidArgument("chunk " + header.id.ShortHex() +
                                   ": too large to store (a directory with millions of entries?)");
  std::unique_ptr<pack::PackWriter> full;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!writer_) writer_ = std::make_unique<pack::PackWriter>(SpareBuffer());
    writer_->Add(header, payload);
    if (writer_->size() >= repo_->config().pack_target_size) full = std::move(writer_);
  }
  new_chunks_++;
  new_bytes_ += header.raw_length;
  stored_bytes_ += payload.size();
  if (full) return WritePack(std::move(full));
  return Status::OK();
}

Result<ChunkId> PackSink::Put(pack::EntryKind kind, ByteSpan plain, std::vector<ChunkId> refs) {
  ChunkId id = repo_->Hash(plain);
  SNAP_ASSIGN_OR_RETURN(bool fresh, Claim(id));
  if (!fresh) return id;
  pack::EntryHeader h;
  h.kind = kind;
  h.id = id;
  h.refs = std::move(refs);
  Buffer scratch;
  ByteSpan payload = repo_->EncodePayload(plain, &h, &scratch);
  SNAP_RETURN_IF_ERROR(Add(h, payload));
  return id;
}

Status PackSink::Flush() {
  std::unique_ptr<pack::PackWriter> last;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (writer_ && writer_->entry_count() > 0) last = std::move(writer_);
  }
  if (last) SNAP_RETURN_IF_ERROR(WritePack(std::move(last)));
  // Wait for any pack another thread is still writing.
  std::lock_guard<std::mutex> wait(write_mu_);
  return Status::OK();
}

Status PackSink::WritePack(std::unique_ptr<pack::PackWriter> writer) {
  std::lock_guard<std::mutex> lock(write_mu_);
  std::vector<pack::PackEntry> entries = writer->entries();
  Buffer bytes = writer->Finish();
  index::PackId id = codec::Sha256(bytes);
  std::string key = Repository::PackKey(id);
  Result<bool> put = repo_->store().PutIfAbsent(key, bytes);
  if (!put.ok()) return put.status();
  SNAP_RETURN_IF_ERROR(repo_->chunk_index().AddPack(id, entries).WithContext(key));
  packs_++;
  std::lock_guard<std::mutex> g(mu_);
  for (const pack::PackEntry& e : entries) claimed_.erase(e.id);
  if (spare_.size() < kMaxSpareBuffers) spare_.push_back(std::move(bytes));
  return Status::OK();
}

// A pack closes once past its target: room for the target and one more
// large frame before the buffer has to grow. REQUIRES: mu_ held.
Buffer PackSink::SpareBuffer() {
  if (spare_.empty()) {
    Buffer b;
    b.reserve(repo_->config().pack_target_size + kPackSlack);
    return b;
  }
  Buffer b = std::move(spare_.back());
  spare_.pop_back();
  return b;
}

SinkStats PackSink::stats() const {
  return {new_chunks_.load(), new_bytes_.load(), stored_bytes_.load(), packs_.load()};
}

}  // namespace snap::engine::repo

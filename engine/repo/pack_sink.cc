#include "engine/repo/pack_sink.h"

#include "engine/codec/crypto.h"
#include "engine/mem/huge_pages.h"
#include "engine/repository.h"

namespace snap::engine::repo {
namespace {
constexpr size_t kPackSlack = 1u << 20;
constexpr size_t kMaxSpareBuffers = 1;

// Upper bounds of what an entry adds to a pack: its frame (header, refs,
// payload, checksum) and its footer line; and the footer's fixed part.
constexpr size_t kFrameFixedBytes = 64;
constexpr size_t kFooterLineBytes = 64;
constexpr size_t kFooterFixedBytes = 64;

size_t EntryBytes(const pack::EntryHeader& h, size_t payload) {
  return kFrameFixedBytes + h.refs.size() * sizeof(ChunkId) + payload + kFooterLineBytes;
}

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
  std::unique_ptr<pack::PackWriter> full[2];
  {
    std::lock_guard<std::mutex> lock(mu_);
    // An entry that would outgrow the buffer (the target and the slack)
    // goes to the next pack: a pack buffer that grows doubles, and stays
    // doubled as the spare.
    size_t target = repo_->config().pack_target_size;
    if (writer_ && writer_->entry_count() > 0 &&
        writer_->size() + writer_->entry_count() * kFooterLineBytes + kFooterFixedBytes +
                EntryBytes(header, payload.size()) >
            target + kPackSlack)
      full[0] = std::move(writer_);
    if (!writer_) writer_ = std::make_unique<pack::PackWriter>(SpareBuffer());
    writer_->Add(header, payload);
    if (writer_->size() >= target) full[1] = std::move(writer_);
  }
  new_chunks_++;
  new_bytes_ += header.raw_length;
  stored_bytes_ += payload.size();
  for (auto& pack : full)
    if (pack) SNAP_RETURN_IF_ERROR(WritePack(std::move(pack)));
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

// A pack closes once past its target, or before an entry that would take
// it past the target and the slack. REQUIRES: mu_ held.
Buffer PackSink::SpareBuffer() {
  if (spare_.empty()) {
    Buffer b;
    b.reserve(repo_->config().pack_target_size + kPackSlack);
    mem::AdviseHugePages(b.data(), b.capacity());
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

#include "engine/repo/pack_sink.h"

#include <pthread.h>

#include "engine/codec/crypto.h"
#include "engine/mem/huge_pages.h"
#include "engine/repository.h"

namespace snap::engine::repo {
namespace {
constexpr size_t kPackSlack = 1u << 20;
// A pack is written in pieces of this size as it fills; while more than
// kMaxQueuedBytes wait, a thread that adds one waits for the writer.
constexpr size_t kPieceBytes = 4u << 20;
constexpr size_t kMaxQueuedBytes = 2 * kPieceBytes;
constexpr size_t kMaxSpareBuffers = 4;
// Packs written and waiting for their commit before the writer waits.
constexpr size_t kMaxWrittenPacks = 2;

// Upper bounds of what an entry adds to a pack: its frame (header, refs,
// payload, checksum) and its footer line; and the footer's fixed part.
constexpr size_t kFrameFixedBytes = 64;
constexpr size_t kFooterLineBytes = 64;
constexpr size_t kFooterFixedBytes = 64;

size_t EntryBytes(const pack::EntryHeader& h, size_t payload) {
  return kFrameFixedBytes + h.refs.size() * sizeof(ChunkId) + payload + kFooterLineBytes;
}

}  // namespace

PackSink::PackSink(Repository* repo)
    : repo_(repo), writer_thread_([this] {
        pthread_setname_np(pthread_self(), "snap-packwrite");
        WriteQueued();
      }),
      commit_thread_([this] {
        pthread_setname_np(pthread_self(), "snap-packcommit");
        CommitWritten();
      }) {}

// Pieces still queued are dropped (nothing was flushed: the caller failed);
// a pack half written is removed with its upload.
PackSink::~PackSink() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  queued_cv_.notify_all();
  commit_cv_.notify_all();
  written_cv_.notify_all();
  writer_thread_.join();
  commit_thread_.join();
  written_.clear();  // uploads never committed: their temp files go
}

// Its own lock: a claim must not wait while an entry is copied into a pack.
Result<bool> PackSink::Claim(const ChunkId& id) {
  {
    std::lock_guard<std::mutex> lock(claim_mu_);
    if (claimed_.count(id)) return false;
  }
  SNAP_ASSIGN_OR_RETURN(auto loc, repo_->chunk_index().Get(id));
  if (loc) return false;
  std::lock_guard<std::mutex> lock(claim_mu_);
  return claimed_.insert(id).second;
}

Status PackSink::Add(const pack::EntryHeader& header, ByteSpan payload) {
  Entry e{&header, payload};
  return Add(std::span<const Entry>(&e, 1));
}

Status PackSink::Add(std::span<const Entry> group) {
  size_t group_bytes = 0;
  for (const Entry& e : group) {
    // Readers reject entries past these bounds; never write one.
    if (e.header->refs.size() > pack::kMaxRefs || e.header->raw_length > pack::kMaxRawLength)
      return Status::InvalidArgument("chunk " + e.header->id.ShortHex() +
                                     ": too large to store (a directory with millions of entries?)");
    group_bytes += EntryBytes(*e.header, e.payload.size());
  }
  {
    std::unique_lock<std::mutex> lock(mu_);
    // Room first: at most kMaxQueuedBytes wait for the writer.
    written_cv_.wait(lock, [&] { return queued_bytes_ <= kMaxQueuedBytes || !failed_.ok(); });
    SNAP_RETURN_IF_ERROR(failed_);
    // A pack closes once past its target, or before entries that would
    // take it past the target and the slack.
    size_t target = repo_->config().pack_target_size;
    if (writer_ && writer_->entry_count() > 0 &&
        writer_->size() + writer_->entry_count() * kFooterLineBytes + kFooterFixedBytes +
                group_bytes >
            target + kPackSlack)
      QueueLastPiece(std::move(writer_));
    if (!writer_) writer_ = std::make_unique<pack::PackWriter>(SpareBuffer());
    for (const Entry& e : group) writer_->Add(*e.header, e.payload);
    if (writer_->size() >= target)
      QueueLastPiece(std::move(writer_));
    else if (writer_->held() >= kPieceBytes)
      QueuePiece(Piece{.bytes = writer_->Take(SpareBuffer()), .last = false, .entries = {}});
  }
  for (const Entry& e : group) {
    new_chunks_++;
    new_bytes_ += e.header->raw_length;
    stored_bytes_ += e.payload.size();
  }
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
  std::unique_lock<std::mutex> lock(mu_);
  if (writer_ && writer_->entry_count() > 0 && failed_.ok()) QueueLastPiece(std::move(writer_));
  written_cv_.wait(lock, [&] {
    return (queue_.empty() && !writing_ && written_.empty() && !committing_) || !failed_.ok();
  });
  return failed_;
}

// REQUIRES: mu_ held.
void PackSink::QueuePiece(Piece piece) {
  queued_bytes_ += piece.bytes.size();
  queue_.push_back(std::move(piece));
  queued_cv_.notify_one();
}

// REQUIRES: mu_ held.
void PackSink::QueueLastPiece(std::unique_ptr<pack::PackWriter> writer) {
  Piece piece;
  piece.bytes = writer->Finish(&piece.entries);
  piece.last = true;
  QueuePiece(std::move(piece));
}

void PackSink::WriteQueued() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    queued_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (stop_) break;
    Piece piece = std::move(queue_.front());
    queue_.pop_front();
    if (!failed_.ok()) {  // a pack with a lost piece is never finished
      queued_bytes_ -= piece.bytes.size();
      continue;
    }
    writing_ = true;
    lock.unlock();
    size_t size = piece.bytes.size();
    Status s = WritePiece(std::move(piece));
    lock.lock();
    writing_ = false;
    queued_bytes_ -= size;
    if (!s.ok()) {
      upload_.reset();  // removes the temp file
      pack_hash_.reset();
      failed_ = s;
      queued_bytes_ = 0;
      queue_.clear();
      writer_.reset();  // the rest of the failed pack
    }
    written_cv_.notify_all();
  }
  upload_.reset();
}

Status PackSink::WritePiece(Piece piece) {
  if (!upload_) {
    SNAP_ASSIGN_OR_RETURN(upload_, repo_->store().StartUpload("packs"));
    pack_hash_.emplace();
  }
  pack_hash_->Update(piece.bytes);
  SNAP_RETURN_IF_ERROR(upload_->Append(piece.bytes));
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spare_.size() < kMaxSpareBuffers) spare_.push_back(std::move(piece.bytes));
  }
  if (!piece.last) return Status::OK();

  WrittenPack pack{std::move(upload_), pack_hash_->Finish(), std::move(piece.entries)};
  pack_hash_.reset();
  std::unique_lock<std::mutex> lock(mu_);
  written_cv_.wait(lock, [&] {
    return written_.size() < kMaxWrittenPacks || stop_ || !failed_.ok();
  });
  if (stop_ || !failed_.ok()) return Status::OK();  // dropped with its temp file
  written_.push_back(std::move(pack));
  commit_cv_.notify_one();
  return Status::OK();
}

void PackSink::CommitWritten() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    commit_cv_.wait(lock, [&] { return stop_ || !written_.empty(); });
    if (stop_) return;
    WrittenPack pack = std::move(written_.front());
    written_.pop_front();
    committing_ = true;
    lock.unlock();
    Status s = CommitPack(std::move(pack));
    lock.lock();
    committing_ = false;
    if (!s.ok() && failed_.ok()) {
      failed_ = s;
      written_.clear();  // never committed: their temp files go
    }
    written_cv_.notify_all();
  }
}

// Syncs and publishes the pack under its name, then indexes its entries
// (DESIGN.md's order): only then may another writer find them.
Status PackSink::CommitPack(WrittenPack pack) {
  std::string key = Repository::PackKey(pack.id);
  Result<bool> put = pack.upload->Commit(key);
  if (!put.ok()) return put.status();
  SNAP_RETURN_IF_ERROR(repo_->chunk_index().AddPack(pack.id, pack.entries).WithContext(key));
  packs_++;
  std::lock_guard<std::mutex> lock(claim_mu_);
  for (const pack::PackEntry& e : pack.entries) claimed_.erase(e.id);
  return Status::OK();
}

// REQUIRES: mu_ held.
Buffer PackSink::SpareBuffer() {
  if (spare_.empty()) {
    Buffer b;
    b.reserve(kPieceBytes + kPackSlack);
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

// Restorer: new files restored in batches, pack by pack (content_batch.h).

#include "engine/pack/pack_format.h"
#include "engine/restore/restorer.h"

namespace snap::engine::restore {
namespace {

// A batch closes at whichever comes first. Directories and files of several
// chunks bound the descriptors open at once (three batches of each at
// most); files and chunk references bound the plan's memory.
constexpr size_t kBatchFiles = 2048;
constexpr size_t kBatchDirs = 128;
// Every directory with a file in a batch holds its ancestors open as well:
// past Restorer::max_open_dirs_ open directories a batch closes, and is
// handed over only once the pool is done with the others (a deep tree
// restores more slowly, never out of descriptors).
constexpr size_t kBatchMultiChunkFiles = 64;
constexpr size_t kBatchTargets = 64 * 1024;
// Reads of up to 2 MiB keep both pool threads busy on a batch of small
// files; a gap of up to 64 KiB (frames another batch restores, or a tree)
// is read through rather than seeked over.
constexpr uint64_t kMaxRead = 2 << 20;
constexpr uint64_t kMaxGap = 64 << 10;
// Files without content are created by jobs of this many.
constexpr size_t kEmptyFilesPerJob = 64;
constexpr int kMaxLiveBatches = 2;

bool IsContentLoss(const Status& s) { return s.IsCorruption() || s.IsNotFound(); }

}  // namespace

Status Restorer::AddToBatch(DirCtx* dir, const snapshot::Node& node, std::string display) {
  if (!batch_) batch_ = std::make_shared<Batch>();
  Batch& b = *batch_;
  if (b.last_dir != dir) {
    b.dirs++;
    b.last_dir = dir;
  }
  Hold(dir);
  BatchFile& f = b.files.emplace_back();
  f.dir = dir;
  f.node = &node;
  f.display = std::move(display);
  for (const ChunkId& id : node.content) {
    auto [it, added] = b.chunk_of.try_emplace(id, static_cast<uint32_t>(b.chunks.size()));
    if (added) b.chunks.push_back(BatchChunk{id, std::nullopt, {}});
  }
  b.targets += node.content.size();
  if (node.content.size() > 1) b.multi++;
  if (b.files.size() >= kBatchFiles || b.dirs >= kBatchDirs || b.multi >= kBatchMultiChunkFiles ||
      b.targets >= kBatchTargets || open_dirs_.load(std::memory_order_relaxed) >= max_open_dirs_)
    return FlushBatch();
  return Status::OK();
}

// Locates every chunk (asking the fetcher for what the index lacks), then
// gives each file its targets: a chunk's offset in a file is the sum of the
// lengths before it, which the index records. A file with a chunk nowhere,
// or whose chunks do not add up to its size, is lost before anything of it
// is written.
Status Restorer::LocateBatch(Batch& b) {
  std::vector<ChunkId> ids;
  ids.reserve(b.chunks.size());
  for (const BatchChunk& c : b.chunks) ids.push_back(c.id);
  std::vector<std::optional<index::ChunkLocation>> locs;
  SNAP_RETURN_IF_ERROR(repo_.chunk_index().MultiGet(ids, &locs));
  std::vector<ChunkId> missing;
  for (size_t i = 0; i < locs.size(); ++i)
    if (!locs[i]) missing.push_back(ids[i]);
  if (!missing.empty() && repo_.fetcher()) {
    SNAP_RETURN_IF_ERROR(repo_.fetcher()->Fetch(missing));
    std::vector<std::optional<index::ChunkLocation>> found;
    SNAP_RETURN_IF_ERROR(repo_.chunk_index().MultiGet(missing, &found));
    for (size_t i = 0, j = 0; i < locs.size(); ++i)
      if (!locs[i]) locs[i] = found[j++];
  }
  for (size_t i = 0; i < locs.size(); ++i) b.chunks[i].loc = locs[i];
  for (uint32_t fi = 0; fi < b.files.size(); ++fi) {
    BatchFile& f = b.files[fi];
    const snapshot::Node& node = *f.node;
    uint64_t offset = 0;
    for (const ChunkId& id : node.content) {
      const std::optional<index::ChunkLocation>& loc = b.chunks[b.chunk_of[id]].loc;
      if (!loc) {
        f.lost = Status::NotFound("chunk " + id.ShortHex() +
                                  ": not in the index (when a pack holds it, `snapctl check "
                                  "--rebuild-index` indexes it again)");
        break;
      }
      offset += loc->entry.raw_length;
    }
    if (f.lost.ok() && offset != node.size && !(node.flags & snapshot::kNodeChangedWhileRead))
      f.lost = Status::Corruption("content is " + std::to_string(offset) +
                                  " bytes, the snapshot says " + std::to_string(node.size));
    if (!f.lost.ok()) continue;
    offset = 0;
    for (const ChunkId& id : node.content) {
      BatchChunk& c = b.chunks[b.chunk_of[id]];
      c.targets.push_back(ChunkTarget{fi, offset});
      offset += c.loc->entry.raw_length;
    }
    f.remaining = static_cast<int>(node.content.size());
  }
  return Status::OK();
}

Status Restorer::FlushBatch() {
  if (!batch_) return Status::OK();
  std::shared_ptr<Batch> b = std::move(batch_);
  batch_ = nullptr;
  Status located = failed_ ? Status::OK() : LocateBatch(*b);
  if (!located.ok()) failed_ = true;
  PlanReads(b.get(), kMaxRead, kMaxGap);
  // Files that need no read: lost already (finished here), or empty
  // (created by a job, like the others).
  std::vector<uint32_t> empty;
  Status first_error = located;
  for (uint32_t fi = 0; fi < b->files.size(); ++fi) {
    BatchFile& f = b->files[fi];
    if (f.remaining > 0) continue;
    if (f.lost.ok() && !failed_) {
      empty.push_back(fi);
      continue;
    }
    Status s = FinishFile(f);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  size_t empty_jobs = (empty.size() + kEmptyFilesPerJob - 1) / kEmptyFilesPerJob;
  size_t jobs = b->reads.size() + empty_jobs;
  if (jobs == 0) return first_error;
  {
    std::unique_lock<std::mutex> lock(batches_mu_);
    batches_cv_.wait(lock, [&] {
      return batches_live_ == 0 || (batches_live_ < kMaxLiveBatches &&
                                    open_dirs_.load(std::memory_order_relaxed) < max_open_dirs_);
    });
    ++batches_live_;
  }
  b->jobs_left = jobs;
  // A job not queued (the pool reports an earlier failure) runs here: with
  // failed_ set it only visits its targets, so every file is finished and
  // every directory reference dropped.
  auto submit = [&](const std::function<Status()>& job) {
    Status s = pool_.Submit(job);
    if (!s.ok()) {
      failed_ = true;
      if (first_error.ok()) first_error = s;
      (void)job();
    }
  };
  for (size_t j = 0; j < empty_jobs; ++j) {
    size_t from = j * kEmptyFilesPerJob, to = std::min(empty.size(), from + kEmptyFilesPerJob);
    submit([this, b, files = std::vector<uint32_t>(empty.begin() + from, empty.begin() + to)] {
      Status first;
      for (uint32_t fi : files) {
        std::lock_guard<std::mutex> lock(b->files[fi].mu);
        Status s = FinishFile(b->files[fi]);
        if (!s.ok() && first.ok()) first = s;
      }
      if (!first.ok()) failed_ = true;
      BatchJobDone(*b);
      return first;
    });
  }
  for (const PackRead& read : b->reads) {
    submit([this, b, &read] {
      Status s = RunRead(*b, read);
      if (!s.ok()) failed_ = true;
      BatchJobDone(*b);
      return s;
    });
  }
  return first_error;
}

void Restorer::BatchJobDone(Batch& b) {
  if (b.jobs_left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  std::lock_guard<std::mutex> lock(batches_mu_);
  --batches_live_;
  batches_cv_.notify_all();
}

Status Restorer::RunRead(Batch& b, const PackRead& read) {
  thread_local Buffer range;
  thread_local ChunkScratch scratch;
  ByteSpan bytes;
  std::string key = Repository::PackKey(read.pack);
  if (!failed_) {
    Result<ByteSpan> got = repo_.store().GetInto(key, read.offset, read.length, &range);
    // Anything amiss with the request (a pack a gc run has since replaced,
    // a short or damaged file) leaves each chunk to ReadChunk, which finds
    // moved chunks and names the damage.
    if (got.ok() && got->size() == read.length) {
      bytes = *got;
      std::lock_guard<std::mutex> lock(mu_);
      stats_.pack_reads++;
      stats_.pack_bytes_read += bytes.size();
    }
  }
  Status job;
  for (uint32_t k = read.first; k < read.end; ++k) {
    BatchChunk& c = b.chunks[b.order[k]];
    const pack::PackEntry& e = c.loc->entry;
    Result<ByteSpan> plain = Status::Aborted("restore failed");
    if (!failed_) {
      plain = Status::Corruption("unread");
      if (!bytes.empty()) {
        Result<pack::DecodedFrame> f =
            pack::DecodeFrame(bytes.subspan(e.offset - read.offset, e.length));
        if (f.ok() && f->header.id == c.id) plain = repo_.DecodePayload(*f, &scratch);
      }
      if (!plain.ok()) plain = repo_.ReadChunk(c.id, &scratch);
      if (plain.ok() && plain->size() != e.raw_length)
        plain = Status::Corruption("chunk " + c.id.ShortHex() + " holds " +
                                   std::to_string(plain->size()) + " bytes, the index says " +
                                   std::to_string(e.raw_length));
      if (!plain.ok() && !IsContentLoss(plain.status())) {
        failed_ = true;
        if (job.ok()) job = plain.status().WithContext(key);
      }
      if (plain.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        stats_.chunks_read++;
      }
    }
    for (const ChunkTarget& t : c.targets) {
      Status s = WriteTarget(b.files[t.file], t.offset, plain);
      if (!s.ok()) {
        failed_ = true;
        if (job.ok()) job = s;
      }
    }
  }
  return job;
}

// Writes one chunk into one file (creating it first), or records why it
// cannot; the last target of the file finishes it.
Status Restorer::WriteTarget(BatchFile& f, uint64_t offset, const Result<ByteSpan>& plain) {
  std::lock_guard<std::mutex> lock(f.mu);
  Status fatal;
  if (!plain.ok()) {
    if (f.lost.ok()) f.lost = plain.status();
  } else if (f.lost.ok() && !failed_) {
    if (!f.created) {
      f.created = true;
      Result<fs::Fd> fd = CreateFile(f.dir->fd.get(), f.node->name, false);
      if (fd.ok()) f.fd = std::move(*fd);
      else fatal = fd.status().WithContext(f.display);
    }
    if (fatal.ok()) fatal = fs::WriteAt(f.fd.get(), offset, *plain, f.display);
    if (fatal.ok()) {
      std::lock_guard<std::mutex> stats_lock(mu_);
      stats_.chunks_written++;
      stats_.bytes_written += plain->size();
      progress_.bytes_done += plain->size();
      Report(f.display);
    }
  }
  if (!fatal.ok()) failed_ = true;
  if (--f.remaining > 0) return fatal;
  Status done = FinishFile(f);
  return fatal.ok() ? done : fatal;
}

// A file with a damaged or missing chunk is removed rather than left
// partial, and named in the stats; a failing restore leaves what it wrote
// as it is, without metadata.
Status Restorer::FinishFile(BatchFile& f) {
  Status s;
  const snapshot::Node& node = *f.node;
  if (f.lost.ok() && !failed_) {
    if (!f.created) {  // empty
      f.created = true;
      Result<fs::Fd> fd = CreateFile(f.dir->fd.get(), node.name, false);
      if (fd.ok()) f.fd = std::move(*fd);
      else s = fd.status().WithContext(f.display);
    }
    if (s.ok()) s = ApplyFileMeta(f.dir->fd.get(), f.fd.get(), node);
  }
  f.fd = fs::Fd();
  if (!f.lost.ok() && !failed_) {
    if (f.created) (void)fs::RemoveAt(f.dir->fd.get(), node.name);
    std::lock_guard<std::mutex> lock(mu_);
    stats_.lost.push_back(f.lost.WithContext(f.display).message());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.files++;
    progress_.files++;
  }
  if (!s.ok()) failed_ = true;
  Release(f.dir);
  return s;
}

}  // namespace snap::engine::restore

#include "engine/capture/encode_pool.h"

#include <pthread.h>

#include <algorithm>

#include "engine/index/chunk_index.h"
#include "engine/mem/huge_pages.h"
#include "engine/repository.h"

namespace snap::engine::capture {
namespace {
// Buffers kept for reuse: only large ones (smaller ones come from the heap
// cheaply), and at most this much in all.
constexpr size_t kMinSpareCapacity = 256u << 10;
constexpr size_t kMaxSpareBytes = 8u << 20;
// Fresh buffers this large (media chunks) are filled through huge pages.
constexpr size_t kMinHugeCapacity = 4u << 20;
}  // namespace

EncodePool::EncodePool(const Repository* repo, repo::PackSink* sink, int threads,
                       size_t max_queued_bytes)
    : repo_(repo), sink_(sink), max_queued_bytes_(max_queued_bytes) {
  for (int i = 0; i < threads; ++i)
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "snap-encode");
      Work();
    });
}

EncodePool::~EncodePool() {
  (void)Drain();  // bundles not full are stored too; the error went to Drain's callers
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

Status EncodePool::Submit(pack::EntryHeader header, Buffer plain, std::optional<Buffer> delta_base,
                          std::atomic<uint64_t>* stored) {
  std::unique_lock<std::mutex> lock(mu_);
  // Always admit one job into an empty queue, however large.
  auto admitted = [&] {
    return !error_.ok() || jobs_.empty() || queued_bytes_ + plain.size() <= max_queued_bytes_;
  };
  if (!admitted()) {
    ++waiters_;
    space_cv_.wait(lock, admitted);
    --waiters_;
  }
  if (!error_.ok()) return error_;
  queued_bytes_ += plain.size();
  jobs_.push_back({std::move(header), std::move(plain), std::move(delta_base), stored});
  // Waking a thread costs more than encoding a small chunk: wake one only
  // when no worker is awake to take the job.
  bool wake = idle_ > 0 && jobs_.size() > static_cast<size_t>(threads_.size() - idle_);
  lock.unlock();
  if (wake) work_cv_.notify_one();
  return Status::OK();
}

Buffer EncodePool::Copy(ByteSpan data) {
  Buffer b;
  if (data.size() >= kMinSpareCapacity) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < spare_.size(); ++i) {
      if (spare_[i].capacity() < data.size()) continue;
      b = std::move(spare_[i]);
      spare_[i] = std::move(spare_.back());
      spare_.pop_back();
      spare_bytes_ -= b.capacity();
      break;
    }
  }
  if (b.capacity() < data.size() && data.size() >= kMinHugeCapacity) {
    b.reserve(data.size());
    mem::AdviseHugePages(b.data(), b.capacity());
  }
  b.assign(data.begin(), data.end());
  return b;
}

void EncodePool::Recycle(Buffer plain) {
  if (plain.capacity() < kMinSpareCapacity) return;
  if (spare_bytes_ + plain.capacity() > kMaxSpareBytes) {
    if (spare_.empty()) return;
    // Keep the larger: it fits more chunks.
    auto smallest = std::min_element(
        spare_.begin(), spare_.end(),
        [](const Buffer& a, const Buffer& b) { return a.capacity() < b.capacity(); });
    if (smallest->capacity() >= plain.capacity() ||
        spare_bytes_ - smallest->capacity() + plain.capacity() > kMaxSpareBytes)
      return;
    spare_bytes_ -= smallest->capacity();
    *smallest = std::move(spare_.back());
    spare_.pop_back();
  }
  spare_bytes_ += plain.capacity();
  spare_.push_back(std::move(plain));
}

Status EncodePool::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  ++drainers_;
  idle_cv_.wait(lock, [&] { return jobs_.empty() && busy_ == 0; });
  --drainers_;
  // Every worker is idle, so every bundle is back: store what they hold,
  // busy meanwhile so that a concurrent Drain waits for them too.
  std::vector<Bundle> open = std::move(open_bundles_);
  open_bundles_.clear();
  ++busy_;
  lock.unlock();
  Status s;
  Buffer scratch;
  for (Bundle& b : open)
    if (s.ok()) s = StoreBundle(&b, &scratch);
  lock.lock();
  --busy_;
  if (!s.ok() && error_.ok()) error_ = s;
  if (drainers_ > 0) idle_cv_.notify_all();
  return error_;
}

bool EncodePool::Bundleable(const Job& job) {
  return job.header.kind == pack::EntryKind::kData && job.header.refs.empty() && !job.base &&
         !job.plain.empty() && job.plain.size() < kMaxBundleMember;
}

Status EncodePool::StoreBundle(Bundle* bundle, Buffer* scratch) {
  std::vector<Member>& members = bundle->members;
  if (members.empty()) return Status::OK();
  Status s;
  if (members.size() == 1) {
    // Alone, it is stored as itself: a bundle would only add a frame.
    Member& m = members[0];
    ByteSpan payload = repo_->EncodePayload(bundle->plain, &m.header, scratch);
    s = sink_->Add(m.header, payload);
    if (s.ok() && m.stored) m.stored->fetch_add(payload.size(), std::memory_order_relaxed);
  } else {
    // Named by its members' IDs, already known, and ended by their table
    // (FORMAT.md "Slices"): not hashed a second time.
    std::vector<ChunkId> ids;
    std::vector<uint32_t> lengths;
    ids.reserve(members.size());
    lengths.reserve(members.size());
    for (const Member& m : members) {
      ids.push_back(m.header.id);
      lengths.push_back(m.header.raw_length);
    }
    pack::AppendBundleTable(lengths, &bundle->plain);
    pack::EntryHeader head;
    head.kind = pack::EntryKind::kData;
    head.id = repo_->BundleId(ids);
    // Only a committed copy is reused: one merely claimed by this run may
    // land in a later pack than the slices cut from it.
    Result<std::optional<index::ChunkLocation>> stored = repo_->chunk_index().Get(head.id);
    if (!stored.ok()) return stored.status();
    std::vector<repo::PackSink::Entry> group;
    group.reserve(members.size() + 1);
    ByteSpan payload;
    if (!*stored) {
      payload =
          repo_->EncodePayload(bundle->plain, &head, scratch, nullptr, repo_->bundle_zstd_level());
      head.flags |= pack::kFlagBundle;
      group.push_back({&head, payload});
    }
    Buffer offsets;
    std::vector<size_t> ends;
    ends.reserve(members.size());
    for (Member& m : members) {
      m.header.flags = pack::kFlagSlice;
      m.header.refs.assign(1, head.id);
      pack::EncodeSlicePayload(m.offset, &offsets);
      ends.push_back(offsets.size());
    }
    for (size_t i = 0; i < members.size(); ++i) {
      size_t start = i == 0 ? 0 : ends[i - 1];
      group.push_back({&members[i].header, ByteSpan(offsets).subspan(start, ends[i] - start)});
    }
    s = sink_->Add(group);
    if (s.ok()) {
      // Each member's share of the bundle, by size, and its slice.
      const double per_byte = static_cast<double>(payload.size()) / bundle->plain.size();
      for (size_t i = 0; i < members.size(); ++i) {
        if (!members[i].stored) continue;
        uint64_t share = static_cast<uint64_t>(per_byte * members[i].header.raw_length + 0.5);
        members[i].stored->fetch_add(
            share + group[group.size() - members.size() + i].payload.size(),
            std::memory_order_relaxed);
      }
    }
  }
  bundle->plain.clear();
  members.clear();
  return s;
}

void EncodePool::Work() {
  Buffer scratch;  // payloads, reused
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (jobs_.empty() && !stop_) {
      ++idle_;
      work_cv_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
      --idle_;
    }
    if (jobs_.empty()) return;
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    queued_bytes_ -= job.plain.size();
    const bool small = Bundleable(job);
    Bundle bundle;
    if (small && !open_bundles_.empty()) {
      // The fullest: the others (one per worker at most) wait for Drain.
      auto fullest = std::max_element(
          open_bundles_.begin(), open_bundles_.end(),
          [](const Bundle& a, const Bundle& b) { return a.plain.size() < b.plain.size(); });
      bundle = std::move(*fullest);
      *fullest = std::move(open_bundles_.back());
      open_bundles_.pop_back();
    }
    ++busy_;
    lock.unlock();
    Status s;
    if (small) {
      if (bundle.plain.capacity() == 0)
        bundle.plain.reserve(kBundleBytes + kMaxBundleMember + pack::kMaxBundleTableBytes);
      job.header.raw_length = static_cast<uint32_t>(job.plain.size());
      bundle.members.push_back(
          {std::move(job.header), static_cast<uint32_t>(bundle.plain.size()), job.stored});
      bundle.plain.insert(bundle.plain.end(), job.plain.begin(), job.plain.end());
      if (bundle.plain.size() >= kBundleBytes || bundle.members.size() == pack::kMaxBundleMembers)
        s = StoreBundle(&bundle, &scratch);
    } else {
      ByteSpan payload =
          repo_->EncodePayload(job.plain, &job.header, &scratch, job.base ? &*job.base : nullptr);
      s = sink_->Add(job.header, payload);
      if (s.ok() && job.stored) job.stored->fetch_add(payload.size(), std::memory_order_relaxed);
    }
    lock.lock();
    // Back even when just stored: its buffer is kept for the next one.
    if (small) open_bundles_.push_back(std::move(bundle));
    Recycle(std::move(job.plain));
    --busy_;
    if (!s.ok() && error_.ok()) error_ = s;
    // Producers are woken once half the queue is free rather than per job:
    // a reader woken for every small chunk encoded would block again at
    // once, two switches per chunk. Drain is woken once all is encoded.
    if (waiters_ > 0 && (jobs_.empty() || !error_.ok() || queued_bytes_ <= max_queued_bytes_ / 2))
      space_cv_.notify_all();
    if (drainers_ > 0 && jobs_.empty() && busy_ == 0) idle_cv_.notify_all();
  }
}

}  // namespace snap::engine::capture

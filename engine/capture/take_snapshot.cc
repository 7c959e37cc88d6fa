// TakeSnapshot: pre hook, dumps (their transactions fix the database's point
// in time), then directories (files captured after can only be newer, so
// every file a dumped row references is in the snapshot), then the commit
// in DESIGN.md's order: all packs written and indexed, the snapshot record,
// the catalog. The post hook runs last, whatever happened.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/capture.h"
#include "engine/capture/dir_capture.h"
#include "engine/capture/dump_capture.h"
#include "engine/capture/encode_pool.h"
#include "engine/capture/read_pool.h"
#include "engine/exec/subprocess.h"
#include "engine/gc/lock.h"

namespace snap::engine {
namespace {

// Plaintext waiting for the encode workers: enough to keep them busy
// through a large chunk, small enough for the peak RSS budget.
constexpr size_t kMaxQueuedBytes = 8u << 20;
// Directory sources captured at once.
constexpr size_t kMaxSourcesAtOnce = 2;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status ValidateSources(const CaptureOptions& opts) {
  if (opts.sources.empty() && opts.dumps.empty())
    return Status::InvalidArgument("no source given: pass --source NAME=PATH or --dump NAME=CMD");
  std::set<std::string> names;
  auto check = [&](const std::string& name) {
    if (!snapshot::IsValidName(name))
      return Status::InvalidArgument("source name '" + name +
                                     "' is not usable: it must be a single path component");
    if (!names.insert(name).second)
      return Status::InvalidArgument("source name '" + name + "' is given twice");
    return Status::OK();
  };
  for (const DirectorySource& s : opts.sources) SNAP_RETURN_IF_ERROR(check(s.name));
  for (const DumpSource& d : opts.dumps) SNAP_RETURN_IF_ERROR(check(d.name));
  return Status::OK();
}

using History = std::vector<Repository::SnapshotInfo>;
using ParentStreams = std::map<std::string, ChunkId>;

// The most recent snapshot of this host holding exactly these source names.
std::optional<ChunkId> FindParent(const History& all, const CaptureOptions& opts) {
  size_t want = opts.sources.size() + opts.dumps.size();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const snapshot::SnapshotRecord& r = it->record;
    if (r.host != opts.host || r.sources.size() != want) continue;
    bool same = std::all_of(opts.sources.begin(), opts.sources.end(),
                            [&](const auto& s) { return r.FindSource(s.name) != nullptr; }) &&
                std::all_of(opts.dumps.begin(), opts.dumps.end(),
                            [&](const auto& d) { return r.FindSource(d.name) != nullptr; });
    if (same) return it->id;
  }
  return std::nullopt;
}

// Per dump, its stream in the newest snapshot of this host holding it: the
// delta bases of its changed chunks.
ParentStreams FindParentStreams(const History& all, const CaptureOptions& opts) {
  ParentStreams out;
  for (const DumpSource& d : opts.dumps) {
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
      const snapshot::SourceRecord* s = it->record.FindSource(d.name);
      if (s && s->kind == snapshot::SourceKind::kDump && it->record.host == opts.host) {
        out.emplace(d.name, s->root);
        break;
      }
    }
  }
  return out;
}

class Capturer {
 public:
  Capturer(Repository& repo, const CaptureOptions& opts, const ParentStreams& parents,
           CaptureResult* result)
      : repo_(repo), opts_(opts), parents_(parents), result_(result), sink_(&repo) {}

  Status Run() {
    {
      capture::EncodePool pool(&repo_, &sink_, std::max(1, opts_.workers), kMaxQueuedBytes);
      Status s = CaptureAll(&pool);
      Status drained = pool.Drain();
      SNAP_RETURN_IF_ERROR(s);
      SNAP_RETURN_IF_ERROR(drained);
    }
    // Every chunk is encoded and in the sink: the counts are whole.
    std::vector<snapshot::SourceRecord>& sources = result_->record.sources;
    for (size_t i = 0; i < sources.size(); ++i) sources[i].stats.stored_bytes = *stored_of_[i];
    return sink_.Flush();
  }

 private:
  Status CaptureAll(capture::EncodePool* pool) {
    for (const DumpSource& d : opts_.dumps) SNAP_RETURN_IF_ERROR(CaptureDump(pool, d));
    return CaptureDirs(pool);
  }

  Status CaptureDump(capture::EncodePool* pool, const DumpSource& d) {
    auto parent = parents_.find(d.name);
    std::atomic<uint64_t>* stored = &stored_.emplace_back(0);
    capture::DumpCapture dc(&repo_, &sink_, pool, d, &progress_,
                            parent == parents_.end() ? std::nullopt
                                                     : std::optional<ChunkId>(parent->second),
                            stored);
    snapshot::SourceRecord sr;
    sr.name = d.name;
    sr.kind = snapshot::SourceKind::kDump;
    sr.command = d.command;
    sr.restore_command = d.restore_command;
    sr.start_ns = NowNs();
    SNAP_ASSIGN_OR_RETURN(sr.root, dc.Run());
    SNAP_RETURN_IF_ERROR(pool->Drain());
    sr.end_ns = NowNs();
    sr.exit_status = dc.exit_status();
    sr.stats = dc.stats();
    sr.notes = dc.warnings();
    Add(std::move(sr), dc.warnings(), stored);
    return Status::OK();
  }

  // One directory source's capture.
  struct DirRun {
    Status status;
    snapshot::SourceRecord record;
    std::vector<std::string> warnings;
    uint64_t files_read = 0;
    index::DirCacheUpdate dir_cache;
    CaptureProgress progress;  // as last reported, guarded by progress_mu_
    std::atomic<uint64_t>* stored = nullptr;  // its chunks' stored bytes (stored_)
  };

  // Captures the directory sources, kMaxSourcesAtOnce at a time, through
  // one pool of readers: one source's slow part (the disk writes of a
  // media tree) overlaps another's busy one. The first source to fail
  // stops the others; its error is the run's.
  Status CaptureDirs(capture::EncodePool* pool) {
    size_t n = opts_.sources.size();
    if (n == 0) return Status::OK();
    capture::ReadPool reads(&repo_, &sink_, pool, repo_.config().file_chunking,
                            std::max(1, opts_.workers));
    std::vector<DirRun> runs(n);
    for (DirRun& run : runs) run.stored = &stored_.emplace_back(0);
    std::atomic<size_t> next{0};
    std::atomic<bool> cancel{false};
    std::atomic<size_t> failed{n};
    auto work = [&] {
      for (size_t i = next++; i < n && !cancel; i = next++) {
        runs[i].status = CaptureDir(&reads, i, &cancel, &runs);
        size_t none = n;
        if (!runs[i].status.ok() && failed.compare_exchange_strong(none, i)) cancel = true;
      }
    };
    std::vector<std::thread> helpers;
    for (size_t k = 1; k < std::min(n, kMaxSourcesAtOnce); ++k) helpers.emplace_back(work);
    work();
    for (std::thread& t : helpers) t.join();
    if (size_t f = failed; f < n) return runs[f].status;
    for (DirRun& run : runs) {
      result_->files_read += run.files_read;
      dir_cache_.Append(std::move(run.dir_cache));
      Add(std::move(run.record), run.warnings, run.stored);
    }
    return Status::OK();
  }

  Status CaptureDir(capture::ReadPool* reads, size_t i, const std::atomic<bool>* cancel,
                    std::vector<DirRun>* runs) {
    const DirectorySource& src = opts_.sources[i];
    DirRun& run = (*runs)[i];
    capture::DirCapture::ReportFn report;
    if (opts_.progress) {
      report = [this, i, runs](const CaptureProgress& p) { Report(*runs, i, p); };
    }
    capture::DirCapture dc(&repo_, &sink_, reads, opts_, src, report, &run.dir_cache, cancel,
                           run.stored);
    snapshot::SourceRecord& sr = run.record;
    sr.name = src.name;
    sr.kind = snapshot::SourceKind::kDirectory;
    sr.path = src.path;
    sr.start_ns = NowNs();
    SNAP_ASSIGN_OR_RETURN(sr.root, dc.Run());
    sr.end_ns = NowNs();
    sr.stats = dc.stats();
    sr.notes = dc.warnings();
    run.warnings = dc.warnings();
    run.files_read = dc.files_read();
    return Status::OK();
  }

  // Reports the whole capture's progress: the dumps' and every source's,
  // one call at a time.
  void Report(std::vector<DirRun>& runs, size_t i, const CaptureProgress& p) {
    std::lock_guard<std::mutex> lock(progress_mu_);
    runs[i].progress = p;
    CaptureProgress total = progress_;
    for (const DirRun& r : runs) {
      total.files += r.progress.files;
      total.dirs += r.progress.dirs;
      total.bytes_read += r.progress.bytes_read;
      total.bytes_total_seen += r.progress.bytes_total_seen;
      total.cached_files += r.progress.cached_files;
    }
    total.current = p.current;
    opts_.progress(total);
  }

  void Add(snapshot::SourceRecord sr, const std::vector<std::string>& warnings,
           std::atomic<uint64_t>* stored) {
    result_->warnings.insert(result_->warnings.end(), warnings.begin(), warnings.end());
    result_->record.sources.push_back(std::move(sr));
    stored_of_.push_back(stored);
  }

  Repository& repo_;
  const CaptureOptions& opts_;
  const ParentStreams& parents_;
  CaptureResult* result_;
  repo::PackSink sink_;
  CaptureProgress progress_;  // the dumps'
  std::mutex progress_mu_;
  index::DirCacheUpdate dir_cache_;
  // Per source, the stored bytes of the chunks it added, counted by the
  // encode pool as it stores them (a deque: the pool holds pointers).
  std::deque<std::atomic<uint64_t>> stored_;
  std::vector<std::atomic<uint64_t>*> stored_of_;  // per record in result_, in order

 public:
  repo::SinkStats stats() const { return sink_.stats(); }
  index::DirCacheUpdate TakeDirCache() { return std::move(dir_cache_); }
};

// Captures every source into packs (all written and indexed on return).
// *dir_cache receives the directory cache's update, to be written once the
// snapshot is committed.
Status CaptureSources(Repository& repo, const CaptureOptions& opts, const ParentStreams& parents,
                      CaptureResult* result, index::DirCacheUpdate* dir_cache) {
  snapshot::SnapshotRecord& rec = result->record;
  Capturer c(repo, opts, parents, result);
  SNAP_RETURN_IF_ERROR(c.Run());
  *dir_cache = c.TakeDirCache();
  std::sort(rec.sources.begin(), rec.sources.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return Status::OK();
}

}  // namespace

Result<CaptureResult> TakeSnapshot(Repository& repo, const CaptureOptions& opts) {
  SNAP_RETURN_IF_ERROR(ValidateSources(opts));
  // Held until the commit: gc deletes nothing this snapshot may reuse.
  SNAP_ASSIGN_OR_RETURN(std::unique_ptr<gc::HeldLock> lock, repo.BeginWriting());
  CaptureResult result;
  snapshot::SnapshotRecord& rec = result.record;
  rec.time_ns = opts.time_ns.value_or(NowNs());
  rec.host = opts.host;
  rec.user = opts.user;
  rec.tags = opts.tags;
  // One read of the catalog serves the parent and the dumps' delta bases;
  // without it the snapshot is still taken, only without them.
  Result<History> history = repo.ListSnapshots();
  History none;
  const History& all = history.ok() ? *history : none;
  rec.parent = FindParent(all, opts);
  ParentStreams parents = FindParentStreams(all, opts);
  rec.program_version = "snapctl 0.1.0";

  // The post hook runs before the commit so that its failure, too, leaves
  // no snapshot; it runs even when the pre hook or the capture failed.
  Status s;
  index::DirCacheUpdate dir_cache;
  if (!opts.pre_hook.empty()) s = exec::RunCommand(opts.pre_hook, "pre hook");
  if (s.ok()) s = CaptureSources(repo, opts, parents, &result, &dir_cache);
  if (!opts.post_hook.empty()) {
    Status post = exec::RunCommand(opts.post_hook, "post hook");
    if (s.ok()) s = post;
  }
  SNAP_RETURN_IF_ERROR(s);
  SNAP_ASSIGN_OR_RETURN(result.id, repo.CommitSnapshot(rec));
  // Only now does every tree the entries name have a committed snapshot
  // keeping its chunks. Unsynced: losing it costs one full capture. A
  // failed write leaves the old entries, which still name stored trees.
  if (!dir_cache.empty()) (void)dir_cache.WriteTo(&repo.kv());
  // A lock left behind (the delete failed) only delays gc until it is stale.
  (void)lock->Release();
  return result;
}

}  // namespace snap::engine
